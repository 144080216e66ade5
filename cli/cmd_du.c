/*
 * rowcat du: what each image and snapshot of a volume's tree holds on its
 * own, as rbd du counts it, the volume's total, and what gc would free
 * now and after a flatten (ops_volume_du does the work).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/clock.h"
#include "rowcat/policy.h"
#include "rowcat/units.h"
#include "table.h"

/* rowcat gc's defaults (cmd_gc.c): du shows what that gc would free. */
#define DU_JOBS 4

enum {
	COL_NAME, COL_ID, COL_TYPE, COL_PROVISIONED, COL_USED, COL_TOTAL,
	COL_METHOD, COL_STATE, COL_GC, COL_COUNT
};

static const struct cli_column du_columns[COL_COUNT] = {
	[COL_NAME] = { "NAME", "an image as POOL[/NS]/IMAGE, its snapshots\n"
		       "under it as @SNAPSHOT", true, false },
	[COL_ID] = { "ID", "POOL[/NS]/IMAGE or POOL[/NS]/IMAGE@SNAPSHOT,\n"
		     "as rbd takes it", false, false },
	[COL_TYPE] = { "TYPE", "image or snapshot", false, false },
	[COL_PROVISIONED] = { "PROVISIONED", "its size", true, true },
	[COL_USED] = { "USED", "what it holds on its own, as rbd du's USED:\n"
		       "a snapshot what changed since the one before\n"
		       "it, an image what changed since its newest\n"
		       "snapshot", true, true },
	[COL_TOTAL] = { "TOTAL", "an image's USED with its snapshots'",
			false, true },
	[COL_METHOD] = { "METHOD", "how an image was measured: fast-diff (its\n"
			 "object maps) or full diff (every object\n"
			 "asked)", true, false },
	[COL_STATE] = { "STATE", "operating, read through (not the volume's\n"
			"own), in trash, purged, removed, missing,\n"
			"not in catalog", true, false },
	[COL_GC] = { "GC", "what gc does with it: now, after flatten\n"
		     "(once the operating image is flattened)", true, false },
};

static const char *state_word(enum ops_du_state state)
{
	switch (state) {
	case OPS_DU_MEASURED:
		return "measured";
	case OPS_DU_IN_TRASH:
		return "in-trash";
	case OPS_DU_GONE:
		return "gone";
	case OPS_DU_MISSING:
		return "missing";
	}
	return "?";
}

static const char *gc_word(enum ops_du_gc gc)
{
	switch (gc) {
	case OPS_DU_GC_KEEPS:
		return "keeps";
	case OPS_DU_GC_NOW:
		return "now";
	case OPS_DU_GC_AFTER_FLATTEN:
		return "after-flatten";
	}
	return "?";
}

static const char *owner_word(enum ops_du_owner owner)
{
	switch (owner) {
	case OPS_DU_OWN:
		return "own";
	case OPS_DU_READ_THROUGH:
		return "read-through";
	}
	return "?";
}

static const char *method_word(const struct ops_du_image *img)
{
	return img->fast_diff ? "fast-diff" : "full diff";
}

/* What gc collected is left out unless --all; the trash still holds
 * its bytes, so it stays. */
static bool shown(enum ops_du_state state, bool all)
{
	return all || state != OPS_DU_GONE;
}

/* ---- JSON ----------------------------------------------------------------- */

static struct json_object *json_bytes(bool known, uint64_t bytes)
{
	return known ? json_object_new_int64((int64_t)bytes) : NULL;
}

static struct json_object *json_frees(const struct ops_du_frees *f)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "used_size", json_object_new_int64((int64_t)f->bytes));
	json_object_object_add(o, "images", json_object_new_int64((int64_t)f->images));
	json_object_object_add(o, "snapshots",
			       json_object_new_int64((int64_t)f->snapshots));
	json_object_object_add(o, "unmeasured",
			       json_object_new_int64((int64_t)f->unmeasured));
	return o;
}

static struct json_object *json_snapshot(const struct ops_du_snapshot *s)
{
	struct json_object *o = json_object_new_object();
	bool measured = s->state == OPS_DU_MEASURED;

	if (!o)
		return NULL;
	json_object_object_add(o, "snapshot", cli_json_string(s->name));
	json_object_object_add(o, "snapshot_id", measured ?
		json_object_new_int64((int64_t)s->rbd_snap_id) : NULL);
	json_object_object_add(o, "in_catalog",
			       json_object_new_boolean(s->snapshot_id != 0));
	json_object_object_add(o, "state", json_object_new_string(state_word(s->state)));
	json_object_object_add(o, "provisioned_size",
			       json_bytes(measured, s->provisioned));
	json_object_object_add(o, "used_size", json_bytes(measured, s->used));
	json_object_object_add(o, "method", measured ? json_object_new_string(
		s->fast_diff ? "fast-diff" : "full diff") : NULL);
	json_object_object_add(o, "gc", json_object_new_string(gc_word(s->gc)));
	return o;
}

static struct json_object *json_image(const struct ops_du_image *img, bool all)
{
	struct json_object *o = cli_json_add_image(json_object_new_object(),
						   &img->image.spec);
	struct json_object *snaps = json_object_new_array();
	bool measured = img->state == OPS_DU_MEASURED;

	if (!o || !snaps) {
		json_object_put(o);
		json_object_put(snaps);
		return NULL;
	}
	json_object_object_add(o, "id", cli_json_nonempty(img->rbd_id));
	json_object_object_add(o, "owner", json_object_new_string(owner_word(img->owner)));
	json_object_object_add(o, "foreign",
			       json_object_new_boolean(img->image.volume_id == 0));
	json_object_object_add(o, "operating", json_object_new_boolean(img->operating));
	json_object_object_add(o, "state", json_object_new_string(state_word(img->state)));
	json_object_object_add(o, "method", measured ?
			       json_object_new_string(method_word(img)) : NULL);
	json_object_object_add(o, "provisioned_size",
			       json_bytes(measured, img->provisioned));
	json_object_object_add(o, "used_size", json_bytes(measured, img->head_used));
	json_object_object_add(o, "total_used_size", json_bytes(measured, img->used));
	json_object_object_add(o, "gc", json_object_new_string(gc_word(img->gc)));
	json_object_object_add(o, "snapshots", snaps);
	for (size_t s = 0; s < img->snapshot_count; s++) {
		if (shown(img->snapshots[s].state, all) &&
		    !cli_json_append(snaps, json_snapshot(&img->snapshots[s]))) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static int print_json(struct cli_ctx *ctx, const struct ops_du_report *r,
		      bool all)
{
	struct json_object *top = json_object_new_object();
	struct json_object *images = json_object_new_array();
	const struct ops_du_image *op = NULL;
	int rc = 0;

	if (!top || !images) {
		json_object_put(top);
		json_object_put(images);
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < r->image_count; i++)
		if (r->images[i].operating)
			op = &r->images[i];
	json_object_object_add(top, "volume", cli_json_string(r->volume.name));
	json_object_object_add(top, "size", json_object_new_int64((int64_t)r->volume.size));
	json_object_object_add(top, "operating",
			       op ? cli_json_image(&op->image.spec) : NULL);
	json_object_object_add(top, "images", images);
	for (size_t i = 0; i < r->image_count && rc == 0; i++)
		if (shown(r->images[i].state, all) &&
		    !cli_json_append(images, json_image(&r->images[i], all)))
			rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	json_object_object_add(top, "total_used_size",
			       json_object_new_int64((int64_t)r->total));
	json_object_object_add(top, "read_through_used_size",
			       json_object_new_int64((int64_t)r->read_through));
	json_object_object_add(top, "gc_frees_now", json_frees(&r->gc_now));
	json_object_object_add(top, "gc_frees_after_flatten", r->can_flatten ?
			       json_frees(&r->after_flatten) : NULL);
	if (rc == 0)
		rc = cli_json_print(ctx, top);
	json_object_put(top);
	return rc;
}

/* ---- the table ------------------------------------------------------------ */

static void size_text(uint64_t bytes, bool exact, char buf[RC_SIZE_TEXT_MAX])
{
	if (exact)
		snprintf(buf, RC_SIZE_TEXT_MAX, "%llu", (unsigned long long)bytes);
	else
		rc_size_format_human(bytes, buf);
}

static void add_word(char *out, size_t size, const char *word)
{
	size_t used = strlen(out);

	if (*word)
		snprintf(out + used, size - used, "%s%s", used ? " " : "", word);
}

static void image_state(const struct ops_du_image *img, char *out, size_t len)
{
	out[0] = '\0';
	if (img->operating)
		add_word(out, len, "operating");
	if (img->owner == OPS_DU_READ_THROUGH)
		add_word(out, len, img->image.volume_id == 0
			 ? "read through (foreign ancestor)"
			 : "read through (another volume's)");
	switch (img->state) {
	case OPS_DU_IN_TRASH:
		add_word(out, len, "in trash");
		break;
	case OPS_DU_GONE:
		add_word(out, len, "purged");
		break;
	case OPS_DU_MISSING:
		add_word(out, len, "missing");
		break;
	case OPS_DU_MEASURED:
		break;
	}
}

static const char *snapshot_state(const struct ops_du_snapshot *s)
{
	switch (s->state) {
	case OPS_DU_IN_TRASH:
		return "in trash";
	case OPS_DU_GONE:
		return "removed";
	case OPS_DU_MISSING:
		return "missing";
	default:
		return s->snapshot_id ? "" : "not in catalog";
	}
}

static const char *gc_text(enum ops_du_gc gc)
{
	return gc == OPS_DU_GC_NOW ? "now"
	     : gc == OPS_DU_GC_AFTER_FLATTEN ? "after flatten" : "";
}

static int image_row(struct cli_table *t, const struct ops_du_image *img,
		     bool bytes)
{
	struct libscols_line *line = cli_table_row(t);
	char spec[RC_SPEC_MAX], text[RC_SIZE_TEXT_MAX], state[128];
	bool measured = img->state == OPS_DU_MEASURED;
	int rc;

	if (!line)
		return -ENOMEM;
	rc_image_spec_format(&img->image.spec, spec, sizeof(spec));
	rc = cli_table_set(t, line, COL_NAME, spec);
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_ID, spec);
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_TYPE, "image");
	if (measured) {
		size_text(img->provisioned, bytes, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_PROVISIONED, text);
		size_text(img->head_used, bytes, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_USED, text);
		size_text(img->used, bytes, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_TOTAL, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_METHOD,
						 method_word(img));
	}
	image_state(img, state, sizeof(state));
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_STATE, state);
	return rc < 0 ? rc : cli_table_set(t, line, COL_GC, gc_text(img->gc));
}

static int snapshot_row(struct cli_table *t, const struct ops_du_image *img,
			const struct ops_du_snapshot *s, bool bytes)
{
	struct libscols_line *line = cli_table_row(t);
	char id[RC_SPEC_MAX + RC_NAME_MAX + 4], text[RC_SIZE_TEXT_MAX];
	size_t len;
	int rc;

	if (!line)
		return -ENOMEM;
	snprintf(id, sizeof(id), "%s@%s", t->raw ? "" : "  ", s->name);
	rc = cli_table_set(t, line, COL_NAME, id);
	rc_image_spec_format(&img->image.spec, id, sizeof(id));
	len = strlen(id);
	snprintf(id + len, sizeof(id) - len, "@%s", s->name);
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_ID, id);
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_TYPE, "snapshot");
	if (s->state == OPS_DU_MEASURED) {
		size_text(s->provisioned, bytes, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_PROVISIONED, text);
		size_text(s->used, bytes, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, COL_USED, text);
	}
	rc = rc < 0 ? rc : cli_table_set(t, line, COL_STATE, snapshot_state(s));
	return rc < 0 ? rc : cli_table_set(t, line, COL_GC, gc_text(s->gc));
}

/* An amount in a sentence: binary units, or "N bytes" with --bytes. */
static void amount(uint64_t bytes, bool exact, char buf[RC_SIZE_TEXT_MAX])
{
	if (exact)
		snprintf(buf, RC_SIZE_TEXT_MAX, "%llu bytes",
			 (unsigned long long)bytes);
	else
		rc_size_format_human(bytes, buf);
}

static void print_frees(const char *what, const struct ops_du_frees *f,
			bool bytes)
{
	char text[RC_SIZE_TEXT_MAX];

	amount(f->bytes, bytes, text);
	printf("%s%s (%zu image%s with %s snapshots to the trash, %zu "
	       "snapshot%s removed from images that stay", what, text,
	       f->images, f->images == 1 ? "" : "s",
	       f->images == 1 ? "its" : "their", f->snapshots,
	       f->snapshots == 1 ? "" : "s");
	if (f->unmeasured)
		printf("; %zu step%s on what du does not measure", f->unmeasured,
		       f->unmeasured == 1 ? "" : "s");
	printf(")\n");
}

static void print_summary(const struct ops_du_report *r,
			  const struct catalog_gc_options *gc, bool bytes)
{
	const struct ops_du_image *op = NULL;
	char text[RC_SIZE_TEXT_MAX], spec[RC_SPEC_MAX] = "";
	size_t foreign = 0, trashed = 0;

	for (size_t i = 0; i < r->image_count; i++) {
		foreign += r->images[i].owner == OPS_DU_READ_THROUGH;
		trashed += r->images[i].owner == OPS_DU_OWN &&
			   r->images[i].state == OPS_DU_IN_TRASH;
		if (r->images[i].operating)
			op = &r->images[i];
	}
	if (op)
		rc_image_spec_format(&op->image.spec, spec, sizeof(spec));
	amount(r->total, bytes, text);
	printf("total: %s held by the volume's own images and snapshots\n", text);
	if (foreign) {
		amount(r->read_through, bytes, text);
		printf("read through: %s more in %zu ancestor%s not the volume's "
		       "own (not in the total)\n", text, foreign,
		       foreign == 1 ? "" : "s");
	}
	if (trashed)
		printf("in the trash: %zu image%s of the volume (not measured), "
		       "which gc purges once %s delay is over\n", trashed,
		       trashed == 1 ? "" : "s", trashed == 1 ? "its" : "their");
	print_frees("gc would free now: ", &r->gc_now, bytes);
	if (r->can_flatten) {
		char what[RC_SPEC_MAX + 64];

		snprintf(what, sizeof(what), "after a flatten of %s, gc would "
			 "free more: ", spec);
		print_frees(what, &r->after_flatten, bytes);
	} else {
		printf("after a flatten: nothing more (%s reads through no "
		       "parent)\n", op ? spec : "the operating image");
	}
	if (gc->trash_delay > 0 &&
	    (r->gc_now.images || (r->can_flatten && r->after_flatten.images))) {
		char delay[POLICY_DURATION_TEXT_MAX];

		policy_duration_format(gc->trash_delay, delay);
		printf("(an image in the trash frees its bytes when gc purges "
		       "it, %s after the move: --trash-delay)\n", delay);
	}
}

static int print_table(struct cli_ctx *ctx, const struct ops_du_report *r,
		       const struct catalog_gc_options *gc,
		       struct cli_table *t, bool all, bool bytes)
{
	char size[RC_SIZE_TEXT_MAX];
	int rc = 0;

	for (size_t i = 0; i < r->image_count && rc == 0; i++) {
		const struct ops_du_image *img = &r->images[i];

		if (!shown(img->state, all))
			continue;
		rc = image_row(t, img, bytes);
		for (size_t s = 0; s < img->snapshot_count && rc == 0; s++)
			if (shown(img->snapshots[s].state, all))
				rc = snapshot_row(t, img, &img->snapshots[s],
						  bytes);
	}
	if (rc < 0)
		return rc_error_set(&ctx->err, rc, "out of memory");
	if (!t->raw && !t->noheadings) {
		rc_size_format(r->volume.size, size);
		printf("volume %s (%s)\n", r->volume.name, size);
	}
	rc = cli_table_print(t, ctx);
	if (rc == 0 && !t->raw && !t->noheadings)
		print_summary(r, gc, bytes);
	return rc;
}

/* ---- the command ---------------------------------------------------------- */

int cmd_du(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *min_age = CLI_GC_MIN_AGE, *trash_delay = CLI_GC_TRASH_DELAY;
	bool all = false, bytes = false;
	int jobs = DU_JOBS;
	struct cli_table_options table_options = {0};
	struct cli_option options[] = {
		{ 'a', "all", CLI_OPT_FLAG, &all, NULL,
		  "list also what gc purged or removed (what is in the trash\n"
		  "is always listed: it still holds its bytes)" },
		{ 'b', "bytes", CLI_OPT_FLAG, &bytes, NULL,
		  "sizes in bytes, not in binary units (JSON always has bytes)" },
		{ 'j', "jobs", CLI_OPT_INT, &jobs, "N",
		  "images measured at once (default 4; each open of a clone\n"
		  "waits on its whole parent chain)" },
		{ 0, "min-age", CLI_OPT_STRING, &min_age, "DURATION",
		  "what gc would free: as 'rowcat gc --min-age' (default "
		  CLI_GC_MIN_AGE ")" },
		{ 0, "trash-delay", CLI_OPT_STRING, &trash_delay, "DURATION",
		  "what gc would free: as 'rowcat gc --trash-delay' (default "
		  CLI_GC_TRASH_DELAY ")" },
		CLI_OPT_TABLE(&table_options), CLI_OPT_FORMAT(ctx), CLI_OPT_END,
	};
	struct cli_spec spec = {
		"du VOL [--all] [--bytes] [--jobs N] [--min-age DURATION] "
		"[--trash-delay DURATION] [-o COLUMNS] [--raw] [--noheadings] "
		"[--format plain|json]",
		"Shows what each image and snapshot of VOL's tree holds on its\n"
		"own, as 'rbd du' counts it (its USED): a snapshot the whole\n"
		"objects that changed between the snapshot before it and itself,\n"
		"an image those that changed since its newest snapshot, its\n"
		"parent's data never counted. Each image is opened once, read-only;\n"
		"librbd answers from the object maps where the image has fast-diff\n"
		"and its maps are valid, and otherwise asks the OSDs for every\n"
		"object (METHOD says which). Then the volume's total, and what\n"
		"'rowcat gc' would free now and once the operating image is\n"
		"flattened, from gc's own plan of the catalog (an image moved to\n"
		"the trash frees its bytes when it is purged, after the trash\n"
		"delay). Ancestors the volume reads through that are not its own\n"
		"(a foreign ancestor such as a Glance image) are listed and\n"
		"measured but counted apart; images in the RBD trash are listed,\n"
		"not measured. Changes nothing.",
		options, 1, 1,
	};
	struct catalog_gc_options gc = {0};
	struct catalog_volume volume;
	struct ops_du_report report = {0};
	struct cli_table table = {0};
	int rc;

	rc = cli_parse_table(ctx, &spec, du_columns, COL_COUNT, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_table_init(&table, ctx, du_columns, COL_COUNT, &table_options);
	if (rc < 0)
		return rc;
	if (jobs < 1 || jobs > OPS_DU_MAX_JOBS) {
		rc = rc_error_usage(&ctx->err, "--jobs: 1 to %d, not %d",
				    OPS_DU_MAX_JOBS, jobs);
		goto out;
	}
	gc.now = rc_clock_now();
	rc = policy_duration_parse(min_age, &gc.min_age, &ctx->err);
	if (rc < 0) {
		rc_error_prefix(&ctx->err, "--min-age: ");
		goto out;
	}
	rc = policy_duration_parse(trash_delay, &gc.trash_delay, &ctx->err);
	if (rc < 0) {
		rc_error_prefix(&ctx->err, "--trash-delay: ");
		goto out;
	}
	/* a volume that is not there is said without asking the cluster */
	rc = cli_find_volume(ctx, argv[1], &volume);
	if (rc == 0)
		rc = cli_connect(ctx);
	if (rc == 0)
		rc = ops_volume_du(ctx->conn, ctx->catalog, argv[1], &gc, jobs, &report,
				   &ctx->err);
	if (rc == 0)
		rc = ctx->format == FORMAT_JSON ? print_json(ctx, &report, all)
			: print_table(ctx, &report, &gc, &table, all, bytes);
out:
	cli_table_free(&table);
	ops_du_report_free(&report);
	return rc;
}
