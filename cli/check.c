/* rowcat check: every difference between the catalog and the cluster. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "json.h"

static int print_plain(void *arg, const struct rbdops_difference *diff)
{
	(void)arg;
	printf("%s\n", diff->message);
	return 0;
}

static int print_json(void *arg, const struct rbdops_difference *diff)
{
	struct json_writer *w = arg;

	json_object_begin(w);
	json_kv_string(w, "kind", diff->kind_name);
	json_kv_string(w, "volume", diff->volume);
	json_kv_string(w, "subject", diff->subject);
	json_kv_string(w, "message", diff->message);
	json_object_end(w);
	return 0;
}

int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option options[] = { CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"check [VOL] [--format plain|json]",
		"Compares the catalog with the cluster, for VOL or every volume:\n"
		"images and snapshots the catalog says exist, their parent links and\n"
		"protection; snapshots and clone-named images (VOL.rcN) on the\n"
		"cluster that the catalog does not know (orphans); unfinished\n"
		"operations. Prints each difference on a line (JSON: a list) and\n"
		"exits 0 when there is none, 1 otherwise. Changes nothing.\n"
		"First runs SQLite's integrity check of the catalog (quick check with\n"
		"VOL) and refuses a damaged catalog.",
		options, 0, 1,
	};
	struct json_writer w;
	const char *volume = NULL;
	size_t count = 0;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	if (rc == 1) {
		volume = argv[1];
		rc = rc_name_check("volume name", volume, &ctx->err);
		if (rc < 0)
			return rc;
	}
	rc = cli_open_catalog(ctx, false);
	/* a damaged catalog would hide differences, or invent them; the
	 * whole check, unlike one volume's, can afford the thorough one */
	if (rc == 0)
		rc = catalog_verify(ctx->catalog, volume == NULL, &ctx->err);
	if (rc == 0)
		rc = cli_connect(ctx);
	if (rc < 0)
		return rc;
	if (ctx->format == FORMAT_JSON) {
		json_init(&w, stdout);
		json_array_begin(&w);
		rc = rbdops_check(ctx->conn, ctx->catalog, volume, print_json, &w,
				  &count, &ctx->err);
		json_array_end(&w);
		putchar('\n');
	} else {
		rc = rbdops_check(ctx->conn, ctx->catalog, volume, print_plain, NULL,
				  &count, &ctx->err);
	}
	if (rc < 0)
		return rc;
	if (count == 0)
		return 0;
	return rc_error_set(&ctx->err, -EEXIST, "%zu difference%s between the "
			    "catalog and the cluster", count, count == 1 ? "" : "s");
}
