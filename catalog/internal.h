/* Private to catalog/: the connection and its named, prepared statements. */
#ifndef ROWCAT_CATALOG_INTERNAL_H
#define ROWCAT_CATALOG_INTERNAL_H

#include <sqlite3.h>

#include "catalog.h"

enum catalog_query {
	Q_VOLUME_FIND,
	Q_VOLUME_INSERT,
	Q_VOLUME_SET_OPERATING,
	Q_VOLUME_LIST,
	Q_VOLUME_GET,
	Q_SNAPSHOT_GET,
	Q_SNAPSHOT_FIND,
	Q_SNAPSHOT_SET_PROTECTED,
	Q_OP_RUNNING_FOR_VOLUME,
	Q_OP_SET_TARGET,
	Q_OP_LIST_VOLUME,
	Q_IMAGE_GET,
	Q_IMAGE_FIND,
	Q_IMAGE_INSERT,
	Q_IMAGE_SET_FLATTENED,
	Q_SNAPSHOT_INSERT,
	Q_VOLUME_SNAPSHOT_COUNT,
	Q_LINEAGE_IMAGES,
	Q_LINEAGE_SNAPSHOTS,
	Q_IMAGE_ANCESTORS,
	Q_IMAGE_DEPTH,
	Q_OP_INSERT,
	Q_OP_END,
	Q_OP_SET_STEP,
	Q_OP_LIST_RUNNING,
	Q_COUNT
};

struct catalog {
	sqlite3 *db;
	sqlite3_stmt *stmts[Q_COUNT];
	char path[4096];
	int oplock_fd; /* PATH-oplock, opened on first claim; -1 until then */
};

/*
 * Returns the prepared statement for q, reset and with its bindings cleared,
 * preparing it on first use; NULL with err set when preparing fails.
 */
sqlite3_stmt *catalog_stmt(struct catalog *cat, enum catalog_query q,
			   struct rc_error *err);

/* Records the connection's last SQLite error in err, with context. */
int catalog_sql_error(struct catalog *cat, struct rc_error *err,
		      const char *doing);

/* Column readers shared by the queries that return whole rows. */
void catalog_read_image(sqlite3_stmt *st, int first_col,
			struct catalog_image *out);
void catalog_read_snapshot(sqlite3_stmt *st, int first_col,
			   struct catalog_snapshot *out);
void catalog_read_volume(sqlite3_stmt *st, int first_col,
			 struct catalog_volume *out);

/* The column lists that catalog_read_* expect, in order. */
#define CATALOG_IMAGE_COLUMNS(t) \
	t ".id, " t ".volume_id, " t ".pool, " t ".namespace, " t ".name, " \
	t ".parent_snapshot_id, " t ".flattened_at, " t ".created_at, " \
	t ".removed_at"
#define CATALOG_IMAGE_NCOLS 9
#define CATALOG_SNAPSHOT_COLUMNS(t) \
	t ".id, " t ".image_id, " t ".name, " t ".protected, " t ".origin, " \
	t ".created_at, " t ".pinned, " t ".marked_at, " t ".removed_at"
#define CATALOG_SNAPSHOT_NCOLS 9
#define CATALOG_VOLUME_COLUMNS(t) \
	t ".id, " t ".name, " t ".size, " t ".operating_image_id, " \
	t ".created_at, " t ".marked_at"
#define CATALOG_VOLUME_NCOLS 6

/* Column list and reader for whole operation rows. */
#define CATALOG_OP_COLUMNS \
	"id, volume_id, kind, state, step, image_id, snapshot_id," \
	" target_pool, target_namespace, target_image, target_snapshot, size," \
	" started_at, finished_at, error, wall_started_ms, wall_finished_ms, origin"
void catalog_read_op(sqlite3_stmt *st, struct catalog_operation *out);

#endif
