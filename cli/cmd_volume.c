/* Volume commands: init, create, ls, which. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rowcat/sys/grow.h"
#include "json.h"
#include "json_out.h"
#include "rowcat/units.h"

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_spec spec = {
		"init",
		"Creates the catalog, or migrates an existing one to this rowcat's\n"
		"schema. Running it again is harmless. An existing catalog is first\n"
		"checked (SQLite's quick check); a damaged one is refused.",
		NULL, 0, 0,
	};
	int rc = cli_parse(ctx, &spec, argc, argv);

	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_open_catalog(ctx, true);
	if (rc < 0)
		return rc;
	if (!ctx->quiet)
		fprintf(stderr, "rowcat: catalog %s ready (schema version %d)\n",
			ctx->catalog_path, catalog_schema_version(ctx->catalog));
	return 0;
}

int cmd_create(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *size_text = NULL;
	struct cli_option options[] = {
		{ 0, "size", CLI_OPT_STRING, &size_text, "SIZE",
		  "size of the volume, as rbd reads it: 64M, 10G, 1T (binary\n"
		  "units), 4096B (bytes); a plain number is MiB" },
		CLI_OPT_END,
	};
	struct cli_spec spec = {
		"create POOL[/NAMESPACE]/VOL --size SIZE",
		"Creates an RBD image named VOL (features " RBDOPS_IMAGE_FEATURES_TEXT
		")\nand a volume VOL in the catalog whose operating image it is.\n"
		"Later commands name the volume by VOL alone.",
		options, 1, 1,
	};
	struct rc_image_spec image;
	uint64_t size;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = rc_image_spec_parse(&image, argv[1], "volume name", &ctx->err);
	if (rc == 0)
		rc = rc_volume_name_check(image.name, &ctx->err);
	if (rc < 0)
		return rc;
	if (!size_text)
		return rc_error_usage(&ctx->err, "--size is required");
	rc = rc_size_parse(size_text, &size, &ctx->err);
	if (rc < 0)
		return rc;
	rc = cli_open_catalog(ctx, false);
	if (rc < 0)
		return rc;
	rc = cli_connect(ctx);
	if (rc < 0)
		return rc;
	return ops_volume_create(ctx->conn, ctx->catalog, &image, size,
				 &ctx->err);
}

/* ---- ls ------------------------------------------------------------------ */

struct ls_rows {
	struct catalog_volume_summary *rows;
	size_t count, capacity;
};

static int collect_row(void *ctx, const struct catalog_volume_summary *row,
		       struct rc_error *err)
{
	struct ls_rows *all = ctx;

	if (row->operating.removed_at) /* collected by gc: history only */
		return 0;
	if (rc_grow((void **)&all->rows, &all->capacity, all->count + 1,
		    sizeof(*all->rows), 64) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory");
	all->rows[all->count++] = *row;
	return 0;
}

static void print_ls_json(const struct ls_rows *all)
{
	struct json_writer w;
	char spec[RC_SPEC_MAX];

	json_init(&w, stdout);
	json_array_begin(&w);
	for (size_t i = 0; i < all->count; i++) {
		const struct catalog_volume_summary *r = &all->rows[i];
		rc_image_spec_format(&r->operating.spec, spec, sizeof(spec));
		json_object_begin(&w);
		json_kv_string(&w, "volume", r->volume.name);
		json_kv_string(&w, "pool", r->operating.spec.pool);
		json_kv_string(&w, "pool_namespace", r->operating.spec.ns);
		json_kv_int(&w, "size", (int64_t)r->volume.size);
		json_kv_string(&w, "operating", spec);
		json_kv_int(&w, "depth", r->depth);
		json_kv_int(&w, "snapshots", r->snapshot_count);
		json_kv_bool(&w, "marked", r->volume.marked_at != 0);
		json_object_end(&w);
	}
	json_array_end(&w);
	putchar('\n');
}

static void print_ls_plain(const struct ls_rows *all)
{
	int name_w = 6, pool_w = 4, size_w = 4, op_w = 9;
	char spec[RC_SPEC_MAX], size[RC_SIZE_TEXT_MAX];

	for (size_t i = 0; i < all->count; i++) {
		const struct catalog_volume_summary *r = &all->rows[i];
		rc_image_spec_format(&r->operating.spec, spec, sizeof(spec));
		rc_size_format(r->volume.size, size);
		name_w = (int)strlen(r->volume.name) > name_w ? (int)strlen(r->volume.name) : name_w;
		pool_w = (int)strlen(r->operating.spec.pool) > pool_w ? (int)strlen(r->operating.spec.pool) : pool_w;
		size_w = (int)strlen(size) > size_w ? (int)strlen(size) : size_w;
		op_w = (int)strlen(spec) > op_w ? (int)strlen(spec) : op_w;
	}
	printf("%-*s  %-*s  %*s  %-*s  %5s  %9s\n", name_w, "VOLUME", pool_w,
	       "POOL", size_w, "SIZE", op_w, "OPERATING", "DEPTH", "SNAPSHOTS");
	for (size_t i = 0; i < all->count; i++) {
		const struct catalog_volume_summary *r = &all->rows[i];
		rc_image_spec_format(&r->operating.spec, spec, sizeof(spec));
		rc_size_format(r->volume.size, size);
		printf("%-*s  %-*s  %*s  %-*s  %5d  %9d%s\n", name_w,
		       r->volume.name, pool_w, r->operating.spec.pool, size_w,
		       size, op_w, spec, r->depth, r->snapshot_count,
		       r->volume.marked_at ? "  marked for collection" : "");
	}
}

int cmd_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option options[] = { CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"ls [--format plain|json]",
		"Lists every volume: its pool, size, operating image, the clone\n"
		"depth of that image, and how many snapshots its tree holds. A\n"
		"volume removed with 'rowcat rm' is listed as marked until gc has\n"
		"moved its operating image to the trash.",
		options, 0, 0,
	};
	struct ls_rows all = {0};
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_open_catalog(ctx, false);
	if (rc < 0)
		return rc;
	rc = catalog_volume_list(ctx->catalog, collect_row, &all, &ctx->err);
	if (rc < 0)
		goto out;
	if (ctx->format == FORMAT_JSON)
		print_ls_json(&all);
	else
		print_ls_plain(&all);
out:
	free(all.rows);
	return rc;
}

int cmd_which(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option options[] = { CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"which VOL [--format plain|json]",
		"Prints the operating image of VOL as POOL[/NAMESPACE]/IMAGE: the\n"
		"image a hypervisor attaches, which all writes go to.",
		options, 1, 1,
	};
	struct catalog_volume volume;
	struct catalog_image image;
	struct json_object *obj;
	char text[RC_SPEC_MAX];
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_find_volume(ctx, argv[1], &volume);
	if (rc < 0)
		return rc;
	rc = catalog_image_get(ctx->catalog, volume.operating_image_id, &image,
			       &ctx->err);
	if (rc < 0)
		return rc;
	if (ctx->format == FORMAT_JSON) {
		obj = json_object_new_object();
		if (!obj)
			return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		json_object_object_add(obj, "volume",
				       cli_json_string(volume.name));
		rc = cli_json_print(ctx, cli_json_add_image(obj, &image.spec));
		json_object_put(obj);
		return rc;
	}
	rc_image_spec_format(&image.spec, text, sizeof(text));
	printf("%s\n", text);
	return 0;
}
