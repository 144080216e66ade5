/*
 * The catalog's writers, for the operations layer (ops/) only: the rows an
 * operation adds, its journal entries and its transactions. Each is one
 * step of a saga whose order and crash tables live in ops/; called out of
 * that order they break the rule that catalog and cluster converge. The
 * command line reads the catalog through rowcat/catalog.h and changes it
 * through rowcat/ops.h; only tests use this header besides ops/.
 */
#ifndef ROWCAT_SYS_JOURNAL_H
#define ROWCAT_SYS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rowcat/catalog.h"

/* ---- transactions: an operation's catalog changes commit together ------ */

/* BEGIN IMMEDIATE: takes the write lock now, waiting up to the busy timeout. */
int catalog_begin(struct catalog *cat, struct rc_error *err);
int catalog_commit(struct catalog *cat, struct rc_error *err);

/* Rolls back the open transaction, if any. Never fails. */
void catalog_rollback(struct catalog *cat);

/* ---- the rows an operation writes -------------------------------------- */

/*
 * Inserts a volume whose operating image is the new root image `image`,
 * created at `now`. Call inside a transaction. -EEXIST when the volume name
 * or the image is already in the catalog.
 */
int catalog_volume_insert(struct catalog *cat, const char *name, uint64_t size,
			  const struct rc_image_spec *image, int64_t now,
			  int64_t *volume_id, struct rc_error *err);

/* Inserts a snapshot of image_id, made at `now` by the real clock;
 * *snapshot_id receives its id. */
int catalog_snapshot_insert(struct catalog *cat, int64_t image_id,
			    const char *name, const char *origin,
			    bool is_protected, int64_t now,
			    int64_t *snapshot_id, struct rc_error *err);

/* Inserts an image of volume_id cloned from parent_snapshot_id. */
int catalog_clone_insert(struct catalog *cat, int64_t volume_id,
			 const struct rc_image_spec *image,
			 int64_t parent_snapshot_id, int64_t now,
			 int64_t *image_id, struct rc_error *err);

/* Records whether snapshot_id is protected on the cluster. */
int catalog_snapshot_set_protected(struct catalog *cat, int64_t snapshot_id,
				   bool is_protected, struct rc_error *err);

/* Records the policy clock's time a snapshot was taken at (0: none; see
 * struct catalog_snapshot), inside the caller's transaction. */
int catalog_snapshot_set_policy_at(struct catalog *cat, int64_t snapshot_id,
				   int64_t policy_at, struct rc_error *err);

/* Records that image_id was flattened at `now`: it reads through no parent
 * any more, while its parent link stays as history. */
int catalog_image_set_flattened(struct catalog *cat, int64_t image_id,
				int64_t now, struct rc_error *err);

/* Makes image_id the operating image of volume_id. */
int catalog_volume_set_operating(struct catalog *cat, int64_t volume_id,
				 int64_t image_id, struct rc_error *err);

/* ---- the journal ------------------------------------------------------- */

/*
 * Writes op as a new 'running' operation started at op->started_at,
 * claims it (catalog_op_claim) and commits it, in a transaction of its
 * own, before any cluster call. Sets op->id and op->wall_started_ms, and
 * op->policy_at, when 0, from the policy clock when --now set it.
 *
 * When op->volume_id is set, the same transaction enforces one running
 * operation per volume: -EBUSY when a live rowcat is carrying one out,
 * -EAGAIN when a dead rowcat left one (recovery settles it first), and,
 * with op->requires_operating (snap, restore, flatten), -EPERM when the
 * volume is marked by `rowcat rm` and -ESTALE when op->image_id is no
 * longer the volume's operating image (another rowcat switched it
 * meanwhile).
 */
int catalog_op_begin(struct catalog *cat, struct catalog_operation *op,
		     struct rc_error *err);

/*
 * catalog_op_begin, and then, in the same transaction once op->id is set
 * and op->step is 'journalled', then(cat, op, ctx, err): an operation's
 * first records (snap's clone name) commit with it, at no extra
 * transaction. A failure of then journals nothing and is returned.
 */
typedef int (*catalog_op_then_fn)(struct catalog *cat,
				  struct catalog_operation *op, void *ctx,
				  struct rc_error *err);
int catalog_op_begin_then(struct catalog *cat, struct catalog_operation *op,
			  catalog_op_then_fn then, void *then_ctx,
			  struct rc_error *err);

/*
 * Records that op completed `step`, in a transaction of its own.
 */
int catalog_op_set_step(struct catalog *cat, struct catalog_operation *op,
			enum catalog_op_step step, struct rc_error *err);

/* catalog_op_set_step inside the caller's transaction; op->step is the
 * caller's to set once that transaction committed. */
int catalog_op_write_step(struct catalog *cat,
			  const struct catalog_operation *op,
			  enum catalog_op_step step, struct rc_error *err);

/* Records op->target (the name an operation will create), in a
 * transaction of its own, before anything of that name is made. */
int catalog_op_set_target(struct catalog *cat, struct catalog_operation *op,
			  struct rc_error *err);

/* catalog_op_set_target inside the caller's transaction. */
int catalog_op_write_target(struct catalog *cat,
			    const struct catalog_operation *op,
			    struct rc_error *err);

/* Records op->consumer (a live snap, before it pauses the guest). */
int catalog_op_set_consumer(struct catalog *cat, struct catalog_operation *op,
			    struct rc_error *err);

/* Records how long op paused its guest, inside the caller's transaction. */
int catalog_op_set_paused(struct catalog *cat, struct catalog_operation *op,
			  int64_t paused_ms, struct rc_error *err);

/*
 * Claims operation op_id for this process: an exclusive lock that the
 * kernel releases when the process ends, however it ends. catalog_op_begin
 * claims the new operation before committing it, so an operation that is
 * 'running' and unclaimed belongs to a rowcat that was killed, or that
 * could not record the operation's end (a full disk). -EBUSY when a live
 * process holds it. (The lock is a byte of the file PATH-oplock beside the
 * catalog.)
 */
int catalog_op_claim(struct catalog *cat, int64_t op_id, struct rc_error *err);

/* Releases a claim; harmless when not held. */
void catalog_op_release(struct catalog *cat, int64_t op_id);

/*
 * Ends op with state (done, failed, rolled-back) at `now`, with `error`
 * (may be NULL) as its message, and records its volume. Call inside
 * the transaction that makes the operation's final catalog change, so that
 * the change and the end of the operation commit together.
 */
int catalog_op_end(struct catalog *cat, struct catalog_operation *op,
		   enum catalog_op_state state, const char *error, int64_t now,
		   struct rc_error *err);

/*
 * catalog_op_end, then commits the open transaction: the operation's last
 * catalog change and its end land together. On any failure the whole
 * transaction is rolled back and op's state is left 'running'.
 */
int catalog_op_finish(struct catalog *cat, struct catalog_operation *op,
		      enum catalog_op_state state, const char *error, int64_t now,
		      struct rc_error *err);

#ifndef NDEBUG
/*
 * The invariants of an operation in memory, checked with assert() in the
 * manner of SQLite's assert_pager_state(): returns 1, so that callers
 * write assert(catalog_assert_op_state(op)) and a build with NDEBUG
 * compiles the check out. Called where an operation changes: when it is
 * journalled, at each step, when it ends, and when recovery loads it.
 * What it checks is listed in catalog/operation.c.
 */
int catalog_assert_op_state(const struct catalog_operation *op);
#endif

/* ---- gc's steps -------------------------------------------------------- */

/*
 * Journals step as an operation (kind catalog_gc_action_kind) and claims
 * it, after checking in the same transaction that a plan made from the
 * catalog as it is now still holds the step: -ESTALE when something made
 * its target needed again (a restore, a pin), -EBUSY or -EAGAIN when a
 * snap, restore or flatten of the volume is running. gc operations do not
 * exclude each other.
 */
int catalog_gc_step_begin(struct catalog *cat, const struct catalog_gc_step *step,
			  const struct catalog_gc_options *opts,
			  struct catalog_operation *op, struct rc_error *err);

/* Records, before a trash move, the image's librbd id, which names it in
 * the trash. (catalog_gc_step_begin records when its delay ends.) */
int catalog_gc_image_identify(struct catalog *cat, int64_t image_id,
			      const char *rbd_id, struct rc_error *err);

/*
 * Records what gc operation op did (the image trashed or purged, the
 * snapshot removed, at `now`, with op->reason as why) and ends op done,
 * in one transaction.
 */
int catalog_gc_step_finish(struct catalog *cat, struct catalog_operation *op,
			   int64_t now, struct rc_error *err);

/* ---- rowcat unrm --------------------------------------------------------- */

/*
 * Clears the mark of volume_id (snapshot_id 0) or of its snapshot
 * snapshot_id, catalog only, in a transaction of its own that checks
 * again that nothing is to be restored from the trash: -ESTALE when gc
 * moved something the volume would need meanwhile (an unrm operation is
 * then wanted), -EBUSY or -EAGAIN while an operation runs on the volume.
 */
int catalog_unrm_unmark(struct catalog *cat, int64_t volume_id,
			int64_t snapshot_id, struct rc_error *err);

/*
 * Ends unrm operation op: records the n images (ids) as back from the
 * trash (removed_at, removed_why and trash_until cleared), clears the mark
 * of op->volume_id (op->snapshot_id 0) or of snapshot op->snapshot_id, and
 * ends op done at `now`, in one transaction.
 */
int catalog_unrm_finish(struct catalog *cat, struct catalog_operation *op,
			const int64_t *images, size_t n, int64_t now,
			struct rc_error *err);

/* ---- rowcat adopt (adopt_rows.c) ----------------------------------------- */

/* A snapshot found on the cluster, as adopt records it (origin 'adopted'). */
struct catalog_adopt_snapshot {
	char name[RC_NAME_MAX];     /* its name on the cluster */
	bool is_protected;
	/* never collected: a snapshot in Ceph's trash namespace (removed
	 * while clones still read it), which only Ceph may remove */
	bool pinned;
	int64_t created_at;         /* Ceph's timestamp */
};

/* An image found on the cluster. */
struct catalog_adopt_image {
	struct rc_image_spec spec;
	char rbd_id[RC_RBD_ID_MAX]; /* librbd's id: tells a catalog row of
				       the same name that is another image */
	int64_t created_at;         /* Ceph's creation time */
	/* chain[i], i > 0, of a catalog_adopt: the snapshot of chain[i - 1]
	 * that it is a clone of; unused for chain[0] */
	struct catalog_adopt_snapshot parent_snapshot;
};

/* One image to adopt as volume `volume`, with its ancestry. */
struct catalog_adopt {
	const char *volume;
	uint64_t size;
	/* root first: chain[0] has no parent, chain[i] is a clone of
	 * chain[i - 1]@chain[i].parent_snapshot, and chain[chain_length - 1]
	 * is the image adopted, the volume's operating image */
	const struct catalog_adopt_image *chain;
	size_t chain_length;
	/* every snapshot of the image adopted */
	const struct catalog_adopt_snapshot *snapshots;
	size_t snapshot_count;
};

enum catalog_adopt_outcome {
	CATALOG_ADOPT_ADOPTED,      /* recorded (or, dry run, would be) */
	CATALOG_ADOPT_ALREADY,      /* the image is the operating image of
				       volume `volume` already: nothing added */
	CATALOG_ADOPT_MANAGED,      /* an image of volume `volume` that is not
				       its operating image: rowcat's already */
	CATALOG_ADOPT_NAME_TAKEN,   /* another volume has the name */
	CATALOG_ADOPT_OTHER_IMAGE,  /* the catalog has an image of that name
				       (of the chain) with another librbd id:
				       not the image on the cluster now */
};

/* What became of one adoption. */
struct catalog_adopt_result {
	enum catalog_adopt_outcome outcome;
	char volume[RC_NAME_MAX];   /* the volume made, or the one that has
				       the image or the name */
	int64_t volume_id, image_id, operation_id; /* ADOPTED: the rows */
	size_t ancestors_added;     /* foreign ancestors recorded */
	size_t snapshots_added;     /* snapshot rows, of the chain and of
				       the image */
	bool was_foreign;           /* the image was a foreign ancestor of
				       another volume's chain until now */
	char message[2 * RC_SPEC_MAX]; /* why, unless ADOPTED/ALREADY */
};

/*
 * Records each of the n adoptions, in order, in one transaction: for each
 * that the catalog does not refuse, the chain's ancestors that it lacks
 * as foreign ancestors (volume_id NULL, adopted_at `now`; one it has, as
 * another volume's image or a foreign one, is reused), the snapshot each
 * link reads through, the volume and its operating image (a foreign
 * ancestor of that name becomes the volume's), every snapshot of the
 * image, and an operation of kind adopt ended done at `now`. An adoption
 * that is refused adds nothing (results[i] says why) and the others go
 * on; so the order must put parents before their clones. With dry_run,
 * the transaction is rolled back: results say what would be recorded.
 * Any failure writes nothing.
 */
int catalog_adopt_record(struct catalog *cat, const struct catalog_adopt *a,
			 size_t n, int64_t now, bool dry_run,
			 struct catalog_adopt_result *results,
			 struct rc_error *err);

/* ---- the policy engine's marks ----------------------------------------- */

/*
 * Retention's marks: marks for collection at `now`, in one transaction,
 * each of the n snapshots (by id) that is in volume_id's tree, has origin
 * `origin` and is neither pinned, marked nor removed already; others are
 * left alone, so a pin taken meanwhile always wins. *marked counts those
 * marked.
 */
int catalog_snapshots_expire(struct catalog *cat, int64_t volume_id,
			     const char *origin, const int64_t *ids, size_t n,
			     int64_t now, size_t *marked, struct rc_error *err);

/* 1 when another process holds the claim of op_id (a live rowcat is
 * carrying it out; holder says who), 0 when nobody does, negative with err
 * set when that cannot be told. Tests without taking the claim. */
int catalog_op_claimed_elsewhere(struct catalog *cat, int64_t op_id,
				 char *holder, size_t len, struct rc_error *err);

#endif
