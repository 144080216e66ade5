/* rowcat adopt: images rowcat did not create become volumes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"

/* --pool POOL[/NAMESPACE] into pool and ns (each RC_NAME_MAX bytes). */
static int parse_pool(struct cli_ctx *ctx, const char *text, char *pool,
		      char *ns)
{
	const char *slash = strchr(text, '/');
	int rc;

	if (slash && strchr(slash + 1, '/'))
		return rc_error_usage(&ctx->err, "--pool: '%s' is not "
				      "POOL[/NAMESPACE]", text);
	snprintf(pool, RC_NAME_MAX, "%.*s",
		 (int)(slash ? (size_t)(slash - text) : strlen(text)), text);
	snprintf(ns, RC_NAME_MAX, "%s", slash ? slash + 1 : "");
	if (strlen(text) >= RC_NAME_MAX * 2)
		return rc_error_usage(&ctx->err, "--pool: '%s' is too long", text);
	rc = rc_name_check("pool name", pool, &ctx->err);
	if (rc == 0 && slash)
		rc = rc_name_check("namespace name", ns, &ctx->err);
	return rc < 0 ? rc_error_prefix(&ctx->err, "--pool: ") : 0;
}

/* A glob that fnmatch reads as the operator meant: image names only, and
 * every bracket expression closed (fnmatch takes an unclosed one for
 * the characters themselves, which is never what was meant). */
static int check_match(struct cli_ctx *ctx, const char *glob)
{
	bool open = false;

	if (!glob[0])
		return rc_error_usage(&ctx->err, "--match: an empty pattern");
	if (strchr(glob, '/') || strchr(glob, '@'))
		return rc_error_usage(&ctx->err, "--match: '%s' matches image "
				      "names, which have no '/' or '@'", glob);
	for (const char *p = glob; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (!open && *p == '[') {
			open = true;
			if (p[1] == '!' || p[1] == '^')
				p++;
			if (p[1] == ']')
				p++;
		} else if (open && *p == ']') {
			open = false;
		}
	}
	if (open)
		return rc_error_usage(&ctx->err, "--match: '%s' has a '[' that "
				      "is never closed", glob);
	return 0;
}

static const char *outcome_word(enum ops_adopt_outcome outcome)
{
	switch (outcome) {
	case OPS_ADOPT_ADOPTED: return "adopted";
	case OPS_ADOPT_ALREADY: return "already";
	case OPS_ADOPT_REFUSED: return "refused";
	}
	return "?";
}

static struct json_object *item_json(const struct ops_adopt_item *it)
{
	struct json_object *o = json_object_new_object(), *parent = NULL;

	if (!o)
		return NULL;
	if (it->has_parent) {
		parent = cli_json_image(&it->parent);
		if (parent)
			json_object_object_add(parent, "snapshot",
					       cli_json_string(it->parent_snapshot));
	}
	json_object_object_add(o, "volume", cli_json_nonempty(
		it->outcome == OPS_ADOPT_REFUSED ? NULL : it->volume));
	cli_json_add_image(o, &it->image);
	json_object_object_add(o, "outcome",
			       cli_json_string(outcome_word(it->outcome)));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)it->size));
	json_object_object_add(o, "snapshots",
			       json_object_new_int64((int64_t)it->snapshots));
	json_object_object_add(o, "parent", parent);
	json_object_object_add(o, "ancestors_recorded",
			       json_object_new_int64((int64_t)it->ancestors_added));
	json_object_object_add(o, "snapshots_recorded",
			       json_object_new_int64((int64_t)it->snapshots_added));
	json_object_object_add(o, "message", cli_json_nonempty(it->message));
	return o;
}

static struct json_object *item_json_at(const void *items, size_t i)
{
	return item_json(&((const struct ops_adopt_item *)items)[i]);
}

static int print_json(struct cli_ctx *ctx, const struct ops_adopt_report *r)
{
	return cli_json_print_array(ctx, r->items, r->count, item_json_at,
				    "writing what was adopted");
}

/* One adopted image, as a line. */
static void print_adopted(const struct ops_adopt_item *it, bool dry_run)
{
	char image[RC_SPEC_MAX], parent[RC_SPEC_MAX] = "";

	rc_image_spec_format(&it->image, image, sizeof(image));
	if (it->has_parent)
		rc_image_spec_format(&it->parent, parent, sizeof(parent));
	fprintf(stderr, "rowcat: %s %s as volume '%s': %zu snapshot%s",
		dry_run ? "would adopt" : "adopted", image, it->volume,
		it->snapshots, it->snapshots == 1 ? "" : "s");
	if (it->has_parent)
		fprintf(stderr, ", parent %s@%s", parent, it->parent_snapshot);
	if (it->ancestors_added)
		fprintf(stderr, ", %zu foreign ancestor%s %srecorded",
			it->ancestors_added, it->ancestors_added == 1 ? "" : "s",
			dry_run ? "to be " : "");
	if (it->was_foreign)
		fprintf(stderr, " (a foreign ancestor until now)");
	fputc('\n', stderr);
}

/*
 * Prints the report, and returns the refusals as the command's failure:
 * one line each, the last one being the error that main prints.
 */
static int report_result(struct cli_ctx *ctx, const struct ops_adopt_report *r,
			 bool pool_mode, bool dry_run)
{
	const struct ops_adopt_item *last_refused = NULL;
	char image[RC_SPEC_MAX];
	int rc = 0;

	if (ctx->format == FORMAT_JSON)
		rc = print_json(ctx, r);
	for (size_t i = 0; rc == 0 && i < r->count; i++) {
		const struct ops_adopt_item *it = &r->items[i];

		rc_image_spec_format(&it->image, image, sizeof(image));
		if (it->outcome == OPS_ADOPT_REFUSED) {
			if (last_refused) {
				rc_image_spec_format(&last_refused->image, image,
						     sizeof(image));
				fprintf(stderr, "rowcat: cannot adopt %s: %s\n",
					image, last_refused->message);
			}
			last_refused = it;
			continue;
		}
		if (ctx->quiet || ctx->format == FORMAT_JSON)
			continue;
		if (it->outcome == OPS_ADOPT_ADOPTED)
			print_adopted(it, dry_run);
		else if (!pool_mode)
			fprintf(stderr, "rowcat: %s is the operating image of "
				"volume '%s' already; nothing to adopt\n", image,
				it->volume);
	}
	if (rc == 0 && pool_mode && !ctx->quiet && ctx->format != FORMAT_JSON &&
	    r->already)
		fprintf(stderr, "rowcat: %zu image%s adopted already%s\n",
			r->already, r->already == 1 ? " was" : "s were",
			r->adopted || r->refused ? "" : "; nothing to adopt");
	if (rc == 0 && pool_mode && !ctx->quiet && ctx->format != FORMAT_JSON &&
	    r->count == 0)
		fprintf(stderr, "rowcat: no image to adopt\n");
	if (rc == 0 && last_refused) {
		rc_image_spec_format(&last_refused->image, image, sizeof(image));
		rc = r->refused > 1
			? rc_error_set(&ctx->err, -EPERM, "cannot adopt %s: %s "
				       "(%zu images refused%s)", image,
				       last_refused->message, r->refused,
				       r->adopted ? "; the others adopted" : "")
			: rc_error_set(&ctx->err, -EPERM, "cannot adopt %s: %s%s",
				       image, last_refused->message,
				       r->adopted ? " (the others adopted)" : "");
	}
	return rc;
}

int cmd_adopt(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *as = NULL, *pool_text = NULL, *match = NULL;
	bool dry_run = false;
	struct cli_option options[] = {
		{ 0, "as", CLI_OPT_STRING, &as, "VOL",
		  "the volume's name (default: the image's name); for one\n"
		  "image only" },
		{ 0, "pool", CLI_OPT_STRING, &pool_text, "POOL[/NAMESPACE]",
		  "adopt every image of the pool (or namespace), each its\n"
		  "own volume, parents before their clones" },
		{ 0, "match", CLI_OPT_STRING, &match, "GLOB",
		  "with --pool: only the images whose names match the shell\n"
		  "pattern GLOB ('volume-*', 'csi-vol-*')" },
		{ 0, "dry-run", CLI_OPT_FLAG, &dry_run, NULL,
		  "say what would be recorded; record nothing" },
		CLI_OPT_FORMAT(ctx),
		CLI_OPT_END,
	};
	struct cli_spec spec = {
		"adopt POOL[/NAMESPACE]/IMAGE [--as VOL] | adopt --pool "
		"POOL[/NAMESPACE] [--match GLOB]",
		"Records images that rowcat did not create (made by OpenStack,\n"
		"ceph-csi, Proxmox or by hand) as volumes: each image becomes the\n"
		"operating image of a volume, with its snapshots (origin\n"
		"'adopted', with Ceph's times and protection) and its ancestry\n"
		"on the cluster up to the root, across pools and namespaces.\n"
		"Ancestors that are no volume's (a Glance image that Cinder\n"
		"volumes were cloned from) are recorded as foreign: rowcat reads\n"
		"through them and never collects, protects, unprotects or removes\n"
		"them or their snapshots. Nothing is changed on the cluster; the\n"
		"catalog's rows are written in one transaction. Adopting again\n"
		"adds nothing. Refused, one line each: images in the RBD trash,\n"
		"being migrated, with a task queued in the mgr (a flatten),\n"
		"named or tagged as rowcat's own by another catalog, and volume\n"
		"names that are taken (--as gives another).",
		options, 0, 1,
	};
	struct ops_adopt_options opts = {0};
	struct ops_adopt_report report = {0};
	struct rc_image_spec image;
	char pool[RC_NAME_MAX], ns[RC_NAME_MAX];
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	if (rc == 1 && pool_text)
		return rc_error_usage(&ctx->err, "give POOL[/NAMESPACE]/IMAGE or "
				      "--pool POOL[/NAMESPACE], not both");
	if (rc == 0 && !pool_text)
		return rc_error_usage(&ctx->err, "give POOL[/NAMESPACE]/IMAGE, or "
				      "--pool POOL[/NAMESPACE]");
	if (pool_text && as)
		return rc_error_usage(&ctx->err, "--as names one image's volume; "
				      "with --pool each volume takes its "
				      "image's name");
	if (!pool_text && match)
		return rc_error_usage(&ctx->err, "--match needs --pool");
	if (pool_text) {
		rc = parse_pool(ctx, pool_text, pool, ns);
		if (rc == 0 && match)
			rc = check_match(ctx, match);
	} else {
		rc = rc_image_spec_parse(&image, argv[1], "image name", &ctx->err);
		if (rc == 0 && as && (rc = rc_volume_name_check(as, &ctx->err)) < 0)
			rc_error_prefix(&ctx->err, "--as: ");
	}
	if (rc < 0)
		return rc;
	opts.volume = as;
	opts.match = match;
	opts.dry_run = dry_run;
	rc = cli_open_catalog(ctx, false);
	if (rc == 0)
		rc = cli_connect(ctx);
	if (rc < 0)
		return rc;
	rc = pool_text
		? ops_adopt_pool(ctx->conn, ctx->catalog, pool, ns, &opts, &report,
				 &ctx->err)
		: ops_adopt_image(ctx->conn, ctx->catalog, &image, &opts, &report,
				  &ctx->err);
	/* one image refused: ops said why, in the one line main prints */
	if (rc == 0)
		rc = report_result(ctx, &report, pool_text != NULL, dry_run);
	ops_adopt_report_free(&report);
	return rc;
}
