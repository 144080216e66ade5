/* Private to catalog/: the connection and its named, prepared statements. */
#ifndef ROWCAT_CATALOG_INTERNAL_H
#define ROWCAT_CATALOG_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "rowcat/catalog.h"
#include "rowcat/sys/journal.h"

enum catalog_query {
	Q_VOLUME_FIND,
	Q_VOLUME_INSERT,
	Q_VOLUME_SET_OPERATING,
	Q_VOLUME_LIST,
	Q_VOLUME_GET,
	Q_SNAPSHOT_GET,
	Q_SNAPSHOT_FIND,
	Q_SNAPSHOT_SET_PROTECTED,
	Q_SNAPSHOT_SET_POLICY_AT,
	Q_OP_RUNNING_FOR_VOLUME,
	Q_OP_SET_TARGET,
	Q_OP_SET_CONSUMER,
	Q_OP_SET_PAUSED,
	Q_VOLUME_SET_CONSUMER,
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
	Q_GC_VOLUMES,
	Q_GC_VOLUMES_ONE,
	Q_GC_IMAGES,
	Q_GC_IMAGES_ONE,
	Q_GC_SNAPSHOTS,
	Q_GC_SNAPSHOTS_ONE,
	Q_GC_IMAGES_NEWEST_FIRST,
	Q_GC_SNAPSHOTS_NEWEST_IMAGE_FIRST,
	Q_SNAPSHOT_MARK,
	Q_VOLUME_MARK,
	Q_SNAPSHOT_EXPIRE,
	Q_SNAPSHOT_SET_PINNED,
	Q_IMAGE_IDENTIFY,
	Q_IMAGE_SET_TRASH_UNTIL,
	Q_IMAGE_TRASHED,
	Q_IMAGE_PURGED,
	Q_SNAPSHOT_REMOVED,
	Q_SNAPSHOT_FIND_ANY,
	Q_IMAGE_UNTRASHED,
	Q_SNAPSHOT_UNMARK,
	Q_VOLUME_UNMARK,
	Q_OP_GET,
	Q_OP_HOLDER,
	Q_OP_SET_HOLDER,
	Q_ADOPT_IMAGE_INSERT,
	Q_ADOPT_IMAGE_OWN,
	Q_ADOPT_SNAPSHOT_FIND,
	Q_ADOPT_SNAPSHOT_INSERT,
	Q_ADOPT_OP_INSERT,
	Q_SNAPSHOT_FIND_ABOVE,
	Q_COUNT
};

/* 'rowc': marks the file as ours in the SQLite header. */
#define CATALOG_APPLICATION_ID 0x726f7763

struct catalog {
	sqlite3 *db;
	sqlite3_stmt *stmts[Q_COUNT];
	char path[4096];
	bool rados;                  /* through Ceph's VFS: path is rados:// */
	int oplock_fd; /* PATH-oplock, opened on first claim; -1 until then */
	int job_lock_fds[CATALOG_JOB_KINDS]; /* PATH-JOB.lock held; -1 not */
	bool has_claims;             /* claims given: every claim goes there */
	struct catalog_claims claims;
	struct catalog_txn_counts txns; /* see txn_count.c */
	bool txns_traced;               /* ROWCAT_DEBUG_TXNS=sql */
	/* the process's writers of this catalog queue here before BEGIN
	 * IMMEDIATE (see catalog_begin); the catalog_open'd connection owns
	 * it, the catalog_reopen'd ones share it */
	pthread_mutex_t *writers;
	bool owns_writers;
	bool holds_writers;          /* between catalog_begin and its end */
};

/*
 * Returns the prepared statement for q, reset and with its bindings cleared,
 * preparing it on first use; NULL with err set when preparing fails.
 */
sqlite3_stmt *catalog_stmt(struct catalog *cat, enum catalog_query q,
			   struct rc_error *err);

/*
 * Opens, creating it 0600 when missing, a file that rowcat keeps beside
 * the catalog (PATH-oplock, PATH-gc.lock, PATH-policy.lock), read-write.
 * Refuses a symbolic link there, and anything but a regular file with a
 * single link: in a directory others may write to, either could aim
 * rowcat's writes at a file of someone else's choosing. Returns the
 * descriptor, the caller's to close, or a negative errno with err set.
 */
int catalog_open_side_file(const char *path, struct rc_error *err);

/* Starts counting cat's transactions (txn_count.c), as soon as it is
 * open; catalog_txn_count_stop adds its counts to the process's as it
 * closes. */
void catalog_txn_count_start(struct catalog *cat);
void catalog_txn_count_stop(struct catalog *cat);

/* -ENOENT for a snapshot called name that volume_id does not have, err
 * saying whose it is when the volume reads through one of that name. */
int catalog_snapshot_not_found(struct catalog *cat, int64_t volume_id,
			       const char *name, struct rc_error *err);

/* Records the connection's last SQLite error in err, with context. */
int catalog_sql_error(struct catalog *cat, struct rc_error *err,
		      const char *doing);

/* Ends the open transaction: commits when rc is 0, else (or when the
 * commit fails) rolls back. Returns the outcome. */
int catalog_settle(struct catalog *cat, int rc, struct rc_error *err);

/* Runs an INSERT or UPDATE whose parameters are bound, then resets it;
 * *rowid gets the new row's id when rowid is not NULL. */
int catalog_run_write(struct catalog *cat, sqlite3_stmt *st, int64_t *rowid,
		      struct rc_error *err, const char *doing);

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
	t ".removed_at, " t ".rbd_id, " t ".trash_until, " t ".purged_at, " \
	t ".adopted_at"
#define CATALOG_IMAGE_NCOLS 13
#define CATALOG_SNAPSHOT_COLUMNS(t) \
	t ".id, " t ".image_id, " t ".name, " t ".protected, " t ".origin, " \
	t ".created_at, " t ".pinned, " t ".marked_at, " t ".removed_at, " \
	t ".policy_at"
#define CATALOG_SNAPSHOT_NCOLS 10
#define CATALOG_VOLUME_COLUMNS(t) \
	t ".id, " t ".name, " t ".size, " t ".operating_image_id, " \
	t ".created_at, " t ".marked_at, " t ".consumer, " t ".consumer_host"
#define CATALOG_VOLUME_NCOLS 8


/*
 * The rules of catalog_op_begin for op, inside the caller's transaction:
 * -EBUSY, -EAGAIN or -ESTALE as described there.
 */
int catalog_volume_check_free(struct catalog *cat,
			      const struct catalog_operation *op,
			      struct rc_error *err);

/*
 * catalog_op_begin with one more rule: check(cat, ctx, err), run inside the
 * journalling transaction after the volume rules, refuses by failing.
 */
typedef int (*catalog_op_check_fn)(struct catalog *cat, void *ctx,
				   struct rc_error *err);
int catalog_op_begin_checked(struct catalog *cat, struct catalog_operation *op,
			     catalog_op_check_fn check, void *check_ctx,
			     struct rc_error *err);

/* Column list and reader for whole operation rows. */
#define CATALOG_OP_COLUMNS \
	"id, volume_id, kind, state, step, image_id, snapshot_id," \
	" target_pool, target_namespace, target_image, target_snapshot, size," \
	" started_at, finished_at, error, wall_started_ms, wall_finished_ms, origin," \
	" policy_at, reason, clients_ignored, consumer, consumer_format_node," \
	" consumer_storage_node, consumer_resume, paused_ms, consumer_thaw," \
	" consumer_switch, host, user, pid"
/* Reads one; -EINVAL, naming it, when its kind, state or step is not one
 * this rowcat knows or its step is not of its kind. */
int catalog_read_op(sqlite3_stmt *st, struct catalog_operation *out,
		    struct rc_error *err);

/*
 * The planner itself (catalog_gc_plan's rules), drawn without holding the
 * rows: images come one at a time from a source, newest first, each with
 * its own snapshots, and the planner keeps only what an older image still
 * needs to know of its clones (the clones of snapshots not reached yet),
 * the volumes, and the plan. For a catalog of a million images; the same
 * rows from any source make the same plan.
 */
struct catalog_gc_image_rows {
	struct catalog_gc_image image;
	int64_t parent_image_id;    /* the image its parent snapshot is of;
				       0 when it has none, or no such
				       snapshot or image is in the catalog */
	const struct catalog_gc_snapshot *snapshots; /* its own, by id */
	size_t snapshot_count;
};

/* Fills *rows with the next image, by descending id; 1 when it did, 0 at
 * the end, or a negative error. The rows stay valid until the next call. */
typedef int (*catalog_gc_next_image)(void *ctx,
				     struct catalog_gc_image_rows *rows,
				     struct rc_error *err);

/* volumes: every volume, sorted by id. -EINVAL when an image comes out of
 * order or is older than its parent; -ENOMEM; the source's errors. */
int catalog_gc_plan_stream(const struct catalog_gc_volume *volumes,
			   size_t volume_count, catalog_gc_next_image next,
			   void *ctx, const struct catalog_gc_options *opts,
			   struct catalog_gc_plan *out, struct rc_error *err);

/* The operation kind of a gc action. */
enum catalog_op_kind catalog_gc_action_kind(enum catalog_gc_action action);

#endif
