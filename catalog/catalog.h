/*
 * catalog: rowcat's SQLite catalog of volumes, images, snapshots and the
 * operations journal.
 *
 * The catalog is the source of truth for lineage: which image was cloned
 * from which snapshot, which image each volume writes to now (its operating
 * image), and how deep each image's clone chain is. Everything here is plain
 * SQLite; this module knows nothing of librbd.
 *
 * A struct catalog is one open connection, used by one thread at a time.
 * Writers group their changes between catalog_begin (BEGIN IMMEDIATE, with a
 * busy timeout, so several rowcat processes may share one file) and
 * catalog_commit or catalog_rollback.
 */
#ifndef ROWCAT_CATALOG_H
#define ROWCAT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "names.h"

struct catalog;

enum catalog_open_mode {
	CATALOG_OPEN_EXISTING, /* -ENOENT when there is no catalog at path */
	CATALOG_OPEN_CREATE,   /* create the file, mode 0600, when missing */
};

/*
 * Opens the catalog at path and migrates it to the newest schema this
 * binary knows. Fails, changing nothing, when path is a directory, is not a
 * rowcat catalog, or has a schema newer than this binary's. On success *out
 * is the caller's, to be closed with catalog_close.
 */
int catalog_open(struct catalog **out, const char *path,
		 enum catalog_open_mode mode, struct rc_error *err);

/* Closes the catalog; NULL is fine. An open transaction is rolled back. */
void catalog_close(struct catalog *cat);

/* The newest schema version this binary can migrate to. */
int catalog_schema_version_supported(void);

/* The schema version of an open catalog (its PRAGMA user_version). */
int catalog_schema_version(struct catalog *cat);

/* BEGIN IMMEDIATE: takes the write lock now, waiting up to the busy timeout. */
int catalog_begin(struct catalog *cat, struct rc_error *err);
int catalog_commit(struct catalog *cat, struct rc_error *err);
/* Rolls back the open transaction, if any. Never fails. */
void catalog_rollback(struct catalog *cat);

/* ---- rows ------------------------------------------------------------- */

struct catalog_volume {
	int64_t id;
	char name[RC_NAME_MAX];
	uint64_t size;
	int64_t operating_image_id;
	int64_t created_at;
	int64_t marked_at;          /* 0: not marked for collection */
};

struct catalog_image {
	int64_t id;
	int64_t volume_id;
	struct rc_image_spec spec;
	int64_t parent_snapshot_id; /* 0: a root image */
	int64_t flattened_at;       /* 0: reads through its parent, if any */
	int64_t created_at;
	int64_t removed_at;         /* 0: still on the cluster */
};

struct catalog_snapshot {
	int64_t id;
	int64_t image_id;
	char name[RC_NAME_MAX];
	bool is_protected;
	char origin[RC_NAME_MAX];   /* "manual", "pre-restore", "policy:NAME" */
	int64_t created_at;
	bool pinned;
	int64_t marked_at;
	int64_t removed_at;
};

/* Finds a volume by name; -ENOENT with a message when there is none. */
int catalog_volume_find(struct catalog *cat, const char *name,
			struct catalog_volume *out, struct rc_error *err);

/* Reads one volume by id; -ENOENT when there is none. */
int catalog_volume_get(struct catalog *cat, int64_t id,
		       struct catalog_volume *out, struct rc_error *err);

/* Reads one image by id; -ENOENT when there is none. */
int catalog_image_get(struct catalog *cat, int64_t id,
		      struct catalog_image *out, struct rc_error *err);

/* Finds the image with this pool/namespace/name; -ENOENT when none. */
int catalog_image_find(struct catalog *cat, const struct rc_image_spec *spec,
		       struct catalog_image *out, struct rc_error *err);

/*
 * Inserts a volume whose operating image is the new root image `image`,
 * created at `now`. Call inside a transaction. -EEXIST when the volume name
 * or the image is already in the catalog.
 */
int catalog_volume_insert(struct catalog *cat, const char *name, uint64_t size,
			  const struct rc_image_spec *image, int64_t now,
			  int64_t *volume_id, struct rc_error *err);

/* Reads one snapshot by id; -ENOENT when there is none. */
int catalog_snapshot_get(struct catalog *cat, int64_t id,
			 struct catalog_snapshot *out, struct rc_error *err);

/*
 * Finds the snapshot called `name` anywhere in the tree of volume_id that
 * gc has not removed. Snapshot names are unique within a volume, so that
 * `rowcat restore VOL SNAP` names one. -ENOENT with a message when none.
 */
int catalog_snapshot_find(struct catalog *cat, int64_t volume_id,
			  const char *name, struct catalog_snapshot *out,
			  struct rc_error *err);

/* Records whether snapshot_id is protected on the cluster. */
int catalog_snapshot_set_protected(struct catalog *cat, int64_t snapshot_id,
				   bool is_protected, struct rc_error *err);

/* Inserts a snapshot of image_id; *snapshot_id receives its id. */
int catalog_snapshot_insert(struct catalog *cat, int64_t image_id,
			    const char *name, const char *origin,
			    bool is_protected, int64_t now,
			    int64_t *snapshot_id, struct rc_error *err);

/* Inserts an image of volume_id cloned from parent_snapshot_id. */
int catalog_clone_insert(struct catalog *cat, int64_t volume_id,
			 const struct rc_image_spec *image,
			 int64_t parent_snapshot_id, int64_t now,
			 int64_t *image_id, struct rc_error *err);

/* Records that image_id was flattened at `now`: it reads through no parent
 * any more, while its parent link stays as history. */
int catalog_image_set_flattened(struct catalog *cat, int64_t image_id,
				int64_t now, struct rc_error *err);

/* Makes image_id the operating image of volume_id. */
int catalog_volume_set_operating(struct catalog *cat, int64_t volume_id,
				 int64_t image_id, struct rc_error *err);

/* ---- lineage ---------------------------------------------------------- */

/* One volume as `rowcat ls` shows it. */
struct catalog_volume_summary {
	struct catalog_volume volume;
	struct catalog_image operating;
	int depth;          /* clone levels the operating image reads through */
	int snapshot_count; /* live snapshots anywhere in the volume's tree */
};

typedef int (*catalog_volume_fn)(void *ctx,
				 const struct catalog_volume_summary *row);

/*
 * Calls fn for every volume, ordered by name. A nonzero return from fn stops
 * the walk and is returned.
 */
int catalog_volume_list(struct catalog *cat, catalog_volume_fn fn, void *ctx,
			struct rc_error *err);

/*
 * The tree of one volume, loaded in one recursive query from its root image
 * down. images[0] is the root; every other image's parent snapshot is in
 * snapshots; both arrays are in creation order. depths[i] is the clone
 * depth of images[i].
 */
struct catalog_lineage {
	struct catalog_volume volume;
	struct catalog_image *images;
	int *depths;
	size_t image_count;
	struct catalog_snapshot *snapshots;
	size_t snapshot_count;
};

/* Loads the lineage of volume; free it with catalog_lineage_free. */
int catalog_lineage_load(struct catalog_lineage **out, struct catalog *cat,
			 const struct catalog_volume *volume,
			 struct rc_error *err);
void catalog_lineage_free(struct catalog_lineage *lineage);

/*
 * The ancestors of image_id, nearest first: the image it was cloned from,
 * that image's parent, and so on to the root. With reads_through, stops
 * where a flatten cut the chain, so the list is exactly the images whose
 * data image_id still reads. *out (count entries) is the caller's to free().
 */
int catalog_image_ancestors(struct catalog *cat, int64_t image_id,
			    bool reads_through, struct catalog_image **out,
			    size_t *count, struct rc_error *err);

/*
 * The clone depth of image_id: how many ancestor images its reads may go
 * through (0 for a root or a flattened image).
 */
int catalog_image_depth(struct catalog *cat, int64_t image_id, int *depth,
			struct rc_error *err);

/* ---- the operations journal ------------------------------------------ */

/*
 * One journalled operation. The target_* members name what the operation
 * will create, chosen before the first cluster call, so that each step can
 * look first and recognise its own work after a crash.
 */
struct catalog_operation {
	int64_t id;
	int64_t volume_id;          /* 0 until the volume exists (create) */
	char kind[32];              /* "create", "snap", ... */
	char state[16];             /* "running", "done", "failed", ... */
	char step[64];              /* the last step that completed */
	int64_t image_id;
	int64_t snapshot_id;
	struct rc_image_spec target;
	char target_snapshot[RC_NAME_MAX];
	char origin[RC_NAME_MAX];   /* of the snapshot it takes */
	uint64_t size;
	int64_t started_at;         /* rowcat's clock (rc_clock_now) */
	int64_t finished_at;
	int64_t wall_started_ms;    /* the real wall clock, for durations */
	int64_t wall_finished_ms;
	char error[RC_ERROR_MESSAGE_MAX];
	/* Not stored: catalog_op_begin refuses unless image_id is the
	 * volume's operating image at the moment it journals. */
	bool requires_operating;
};

/*
 * Writes op as a new 'running' operation started at op->started_at,
 * claims it (catalog_op_claim) and commits it, in a transaction of its
 * own, before any cluster call. Sets op->id and op->wall_started_ms.
 *
 * When op->volume_id is set, the same transaction enforces one running
 * operation per volume: -EBUSY when a live rowcat is carrying one out,
 * -EAGAIN when a dead rowcat left one (recovery settles it first), and,
 * with op->requires_operating, -ESTALE when op->image_id is no longer the
 * volume's operating image (another rowcat switched it meanwhile).
 */
int catalog_op_begin(struct catalog *cat, struct catalog_operation *op,
		     struct rc_error *err);

/*
 * Records that op completed `step`, in a transaction of its own.
 */
int catalog_op_set_step(struct catalog *cat, struct catalog_operation *op,
			const char *step, struct rc_error *err);

/* Records op->target (the name an operation will create), in a
 * transaction of its own, before anything of that name is made. */
int catalog_op_set_target(struct catalog *cat, struct catalog_operation *op,
			  struct rc_error *err);

/*
 * Every operation of volume_id, newest first. *out (count entries) is the
 * caller's to free().
 */
int catalog_op_list_volume(struct catalog *cat, int64_t volume_id,
			   struct catalog_operation **out, size_t *count,
			   struct rc_error *err);

/*
 * Every operation still 'running', oldest first. *out (count entries) is
 * the caller's to free().
 */
int catalog_op_list_running(struct catalog *cat, struct catalog_operation **out,
			    size_t *count, struct rc_error *err);

/*
 * Claims operation op_id for this process: an exclusive lock that the
 * kernel releases when the process ends, however it ends. catalog_op_begin
 * claims the new operation before committing it, so an operation that is
 * 'running' and unclaimed belongs to a rowcat that died. -EBUSY when a live
 * process holds it. (The lock is a byte of the file PATH-oplock beside the
 * catalog.)
 */
int catalog_op_claim(struct catalog *cat, int64_t op_id, struct rc_error *err);

/* Whether another process holds the claim of op_id (a live rowcat is
 * carrying it out). Tests without taking the claim. */
bool catalog_op_claimed_elsewhere(struct catalog *cat, int64_t op_id);

/* Releases a claim; harmless when not held. */
void catalog_op_release(struct catalog *cat, int64_t op_id);

/*
 * Ends op with state ("done", "failed", "rolled-back") at `now`, with
 * `error` (may be NULL) as its message, and records its volume. Call inside
 * the transaction that makes the operation's final catalog change, so that
 * the change and the end of the operation commit together.
 */
int catalog_op_end(struct catalog *cat, struct catalog_operation *op,
		   const char *state, const char *error, int64_t now,
		   struct rc_error *err);

/*
 * catalog_op_end, then commits the open transaction: the operation's last
 * catalog change and its end land together. On any failure the whole
 * transaction is rolled back.
 */
int catalog_op_finish(struct catalog *cat, struct catalog_operation *op,
		      const char *state, const char *error, int64_t now,
		      struct rc_error *err);

#endif
