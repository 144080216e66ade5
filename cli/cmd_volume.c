/* Volume commands: init, create, ls, which. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/sys/grow.h"
#include "rowcat/units.h"
#include "table.h"

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

static struct json_object *ls_row_json(const struct catalog_volume_summary *r)
{
	struct json_object *o = json_object_new_object();
	char spec[RC_SPEC_MAX];

	if (!o)
		return NULL;
	rc_image_spec_format(&r->operating.spec, spec, sizeof(spec));
	json_object_object_add(o, "volume", cli_json_string(r->volume.name));
	json_object_object_add(o, "pool", cli_json_string(r->operating.spec.pool));
	json_object_object_add(o, "pool_namespace",
			       cli_json_string(r->operating.spec.ns));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)r->volume.size));
	json_object_object_add(o, "operating", cli_json_string(spec));
	json_object_object_add(o, "depth", json_object_new_int(r->depth));
	json_object_object_add(o, "snapshots", json_object_new_int(r->snapshot_count));
	json_object_object_add(o, "marked", json_object_new_boolean(r->volume.marked_at != 0));
	return o;
}

static struct json_object *ls_row_json_at(const void *rows, size_t i)
{
	return ls_row_json(&((const struct catalog_volume_summary *)rows)[i]);
}

/* The same keys as the volume at the top of tree --format json. */
static int print_ls_json(struct cli_ctx *ctx, const struct ls_rows *all)
{
	return cli_json_print_array(ctx, all->rows, all->count, ls_row_json_at,
				    "listing volumes");
}

enum {
	LS_VOLUME, LS_POOL, LS_NAMESPACE, LS_SIZE, LS_BYTES, LS_OPERATING,
	LS_DEPTH, LS_SNAPSHOTS, LS_STATE, LS_COUNT
};

static const struct cli_column ls_columns[LS_COUNT] = {
	[LS_VOLUME] = { "VOLUME", "the volume's name", true, false },
	[LS_POOL] = { "POOL", "the pool of its operating image", true, false },
	[LS_NAMESPACE] = { "NAMESPACE", "the namespace of its operating image", false, false },
	[LS_SIZE] = { "SIZE", "its size in binary units", true, true },
	[LS_BYTES] = { "BYTES", "its size in bytes", false, true },
	[LS_OPERATING] = { "OPERATING", "the operating image, POOL[/NS]/IMAGE: what\n"
			   "to attach", true, false },
	[LS_DEPTH] = { "DEPTH", "the clone depth of the operating image", true, true },
	[LS_SNAPSHOTS] = { "SNAPSHOTS", "snapshots in its tree that gc has not\n"
			   "removed", true, true },
	[LS_STATE] = { "STATE", "marked for collection (rowcat rm VOL), or\n"
		       "nothing", true, false },
};

static int print_ls_table(struct cli_ctx *ctx, const struct ls_rows *all,
			  struct cli_table *t)
{
	char text[RC_SPEC_MAX];
	int rc = 0;

	for (size_t i = 0; i < all->count && rc == 0; i++) {
		const struct catalog_volume_summary *r = &all->rows[i];
		struct libscols_line *line = cli_table_row(t);

		if (!line) {
			rc = -ENOMEM;
			break;
		}
		rc = cli_table_set(t, line, LS_VOLUME, r->volume.name);
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_POOL, r->operating.spec.pool);
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_NAMESPACE, r->operating.spec.ns);
		rc_size_format(r->volume.size, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_SIZE, text);
		snprintf(text, sizeof(text), "%" PRIu64, r->volume.size);
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_BYTES, text);
		rc_image_spec_format(&r->operating.spec, text, sizeof(text));
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_OPERATING, text);
		snprintf(text, sizeof(text), "%d", r->depth);
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_DEPTH, text);
		snprintf(text, sizeof(text), "%d", r->snapshot_count);
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_SNAPSHOTS, text);
		rc = rc < 0 ? rc : cli_table_set(t, line, LS_STATE,
			r->volume.marked_at ? "marked for collection" : "");
	}
	if (rc < 0)
		return rc_error_set(&ctx->err, rc, "out of memory listing volumes");
	return cli_table_print(t, ctx);
}

int cmd_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_table_options table_options = {0};
	struct cli_option options[] = {
		CLI_OPT_TABLE(&table_options), CLI_OPT_FORMAT(ctx), CLI_OPT_END,
	};
	struct cli_spec spec = {
		"ls [-o COLUMNS] [--raw] [--noheadings] [--format plain|json]",
		"Lists every volume: its pool, size, operating image, the clone\n"
		"depth of that image, and how many snapshots its tree holds. A\n"
		"volume removed with 'rowcat rm' is listed as marked until gc has\n"
		"moved its operating image to the trash.",
		options, 0, 0,
	};
	struct cli_table table = {0};
	struct ls_rows all = {0};
	int rc;

	rc = cli_parse_table(ctx, &spec, ls_columns, LS_COUNT, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_table_init(&table, ctx, ls_columns, LS_COUNT, &table_options);
	if (rc < 0)
		return rc;
	rc = cli_open_catalog(ctx, false);
	if (rc < 0)
		goto out;
	rc = catalog_volume_list(ctx->catalog, collect_row, &all, &ctx->err);
	if (rc < 0)
		goto out;
	if (ctx->format == FORMAT_JSON)
		rc = print_ls_json(ctx, &all);
	else
		rc = print_ls_table(ctx, &all, &table);
out:
	cli_table_free(&table);
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
