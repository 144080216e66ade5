/*
 * ops: rowcat's operations. Each is journalled in the catalog first and
 * then carried out on Ceph through the thin layer of rbdops.h, one
 * idempotent step at a time, so that a crash at any step is settled by
 * recovery (ops/recover.c): create, snap, restore and flatten of a volume, gc's
 * steps, the policy engine, and check, which compares the two.
 *
 * Every rule that protects data (one operation per volume, a volume marked
 * by `rowcat rm` takes no snap, restore or flatten, a gc step only while
 * its plan still holds) is enforced inside the transaction that journals
 * the operation, never before it.
 */
#ifndef ROWCAT_OPS_H
#define ROWCAT_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rowcat/catalog.h"
#include "rowcat/error.h"
#include "rowcat/host.h"
#include "rowcat/names.h"
#include "rowcat/policy.h"
#include "rowcat/rbdops.h"

/* ---- a catalog that many hosts share ------------------------------------ */

/* How long a claim lasts unless renewed, in seconds: the SQLite VFS's own
 * lock lasts as long (cephsqlite_lock_renewal_timeout). */
#define OPS_CLAIM_LEASE_DEFAULT 30

/* The claims of a catalog in RADOS: leases on the object NAME.claims
 * beside its database, renewed by a thread of this process. */
struct ops_claims;

/*
 * Opens the catalog at uri (rados://POOL[/NS]/NAME) over conn, as conn's
 * client: loads Ceph's SQLite VFS with conn's context, opens the catalog
 * and gives it claims that every host sees, each lasting lease_s seconds
 * (0: OPS_CLAIM_LEASE_DEFAULT) unless renewed. *cat and *claims are the
 * caller's: close every catalog that uses the claims (catalog_reopen's
 * too) first, then ops_claims_close, then disconnect.
 */
int ops_catalog_open_shared(struct rbd_conn *conn, const char *uri,
			    enum catalog_open_mode mode, int lease_s,
			    struct catalog **cat, struct ops_claims **claims,
			    struct rc_error *err);

/* Drops what the claims still hold and stops renewing; NULL is fine. */
void ops_claims_close(struct ops_claims *claims);

/* ---- operations: journalled in the catalog, carried out on Ceph -------- */

/* What a hook is told: the volume, its operating image before the snap
 * and its clone, and which of the two the volume uses as the hook runs. */
struct ops_hook_env {
	const char *volume;
	const struct rc_image_spec *old_image;
	const struct rc_image_spec *new_image;
	const struct rc_image_spec *operating;
};

/*
 * What an operation tells its caller while it runs. Every member may be
 * NULL, and so may the struct.
 */
struct ops_events {
	/*
	 * Called after the commit that made new_image the operating image of
	 * volume in place of old_image (snap, restore, and their recovery).
	 * A negative return, with err set, is returned by the operation,
	 * which stays done: the switch is never undone for it.
	 */
	int (*switched)(void *ctx, const char *volume,
			const struct rc_image_spec *old_image,
			const struct rc_image_spec *new_image,
			struct rc_error *err);
	/*
	 * Runs cmd, hook `what` ("freeze", "switch" or "thaw") of a snap
	 * between the operator's hooks (ops_row_options.on_freeze), for the
	 * volume and images env names; 0 when it succeeded, else a negative
	 * code with err saying how it failed (the caller says what that
	 * means). May be called from the thread that bounds the window.
	 * NULL: such a snap is refused, and its recovery left for a caller
	 * that can run hooks.
	 */
	int (*run_hook)(void *ctx, const char *what, const char *cmd,
			const struct ops_hook_env *env, struct rc_error *err);
	/* librbd's progress callback for long steps (flatten). */
	rbdops_progress_fn progress;
	void *ctx;
};

/* What snap, restore and flatten did, for the caller to report. */
struct ops_result {
	char snapshot[RC_NAME_MAX];    /* snap: the new snapshot; restore:
					  the safety snapshot */
	struct rc_image_spec old_image; /* the operating image before */
	struct rc_image_spec new_image; /* and after */
	bool nothing_to_do;             /* flatten of an image without parent */
	int64_t paused_ms;              /* a live snap: how long its guest
					   was paused; -1: none was */
	bool frozen;                    /* a snap between hooks: paused_ms
					   is how long its consumer was
					   frozen */
	int depth;                      /* snap, restore: the clone levels
					   new_image reads through */
};

/*
 * SIGINT or SIGTERM that arrived while a live snap's guest was paused:
 * rowcat took it as a failure of that snap (the guest resumed on its
 * image, the snap undone) and holds it so that the caller stops too,
 * once it has reported; 0 when none arrived.
 */
int ops_live_interrupted(void);

/* The default bound on a live snap's pause. */
#define OPS_PAUSE_TIMEOUT_MS 10000

/*
 * Creates volume spec->name: an image at spec of `size` bytes and the
 * catalog's volume whose operating image it is. Everything that can be
 * checked is checked before anything changes: the name is free in the
 * catalog and on the cluster, the pool and namespace exist. Then the
 * operation is journalled, the image created, and the volume recorded in
 * one transaction with the end of the operation.
 */
int ops_volume_create(struct rbd_conn *conn, struct catalog *cat,
		      const struct rc_image_spec *spec, uint64_t size,
		      struct rc_error *err);

/*
 * How snap and restore treat the operating image's clients. {0}, or a
 * NULL pointer, is the default. A snap with a consumer (given here, or
 * recorded for the volume) is live: it pauses the guest of the QEMU there,
 * and switches the guest's disk to the clone before it resumes it; that
 * guest is the client, and the rule below does not apply to it.
 */
struct ops_row_options {
	/* go on although clients have the operating image open (clients the
	 * operator knows only read); the operation's row keeps their names
	 * (catalog_operation.clients_ignored) */
	bool ignore_clients;
	/* where to reach the QEMU whose guest disk the operating image is
	 * ('unix:PATH', 'virsh:DOMAIN'; see qmp_where_normalize); NULL: the
	 * consumer recorded for the volume, if any */
	const char *consumer;
	int64_t pause_timeout_ms;       /* 0: OPS_PAUSE_TIMEOUT_MS */
	/* a consumer that is not QEMU: a snap runs on_freeze (then, if it
	 * failed, on_thaw at once, and nothing is taken), takes the snapshot
	 * and clone, switches the catalog, runs on_switch (NULL: none), and
	 * on_thaw, which always runs, by recovery after a crash (the
	 * operation journals it and on_switch first). Both or neither; not
	 * with a consumer (given or recorded). Run by ops_events.run_hook. */
	const char *on_freeze;
	const char *on_thaw;
	const char *on_switch;
	/* a snap that another rowcat's decision must not overtake: refused
	 * (-ESTALE) unless this image (an id, 0: any) is still the
	 * operating image when the snap is journalled. A policy run reads
	 * what is due against one operating image; a snapshot another run
	 * took meanwhile switched it. */
	int64_t expect_operating_image_id;
};

/*
 * Whether volume's recorded consumer runs on another host than this one
 * (rc_host_name), whose name then goes to host. A volume without a
 * consumer is on no host (false), and one whose consumer was recorded
 * before hosts were (consumer_host empty, schema 7 and older) counts as
 * this host's, as it did then. A snap through the recorded consumer, and
 * a policy run, leave such a volume to its host.
 */
bool ops_consumer_elsewhere(const struct catalog_volume *volume,
			    char host[RC_HOST_MAX]);

/*
 * rowcat snap: snapshots the operating image of `volume` as `snapshot`
 * (NULL: a UTC timestamp name such as 20261125T103000Z), protects the
 * snapshot, clones it into a new image and makes the clone the operating
 * image; the snapshot is recorded with `origin` ("manual", "policy:NAME").
 * Recovers the volume's unfinished operations first; -EBUSY when another
 * rowcat is working on the volume. Refused before anything changes
 * (RC_IN_USE, with err->in_use and a message naming each client and the
 * ways forward) when another client has the operating image open, unless
 * opts->ignore_clients (ops/clients.c). See row.c for the steps.
 */
int ops_volume_snap(struct rbd_conn *conn, struct catalog *cat,
		    const char *volume, const char *snapshot,
		    const char *origin, const struct ops_row_options *opts,
		    const struct ops_events *ev,
		    struct ops_result *result, struct rc_error *err);

/*
 * rowcat restore: takes a protected safety snapshot of the operating image
 * (origin "pre-restore"), then clones `snapshot` (any snapshot in the
 * volume's tree) into a new image that becomes the operating image.
 * Nothing is deleted. Refused like snap while a client has the operating
 * image open: reverting a disk under a running guest is never wanted.
 */
int ops_volume_restore(struct rbd_conn *conn, struct catalog *cat,
		       const char *volume, const char *snapshot,
		       const struct ops_row_options *opts,
		       const struct ops_events *ev,
		       struct ops_result *result, struct rc_error *err);

/*
 * rowcat flatten: flattens the operating image until it has no parent on
 * the cluster, and records that in the catalog (the parent link stays, as
 * history). An operating image without parent is result->nothing_to_do.
 */
int ops_volume_flatten(struct rbd_conn *conn, struct catalog *cat,
		       const char *volume, const struct ops_events *ev,
		       struct ops_result *result, struct rc_error *err);

/* ---- rowcat adopt (adopt.c) --------------------------------------------- */

struct ops_adopt_options {
	const char *volume;   /* --as: the volume's name (one image only);
				 NULL: the image's own name */
	const char *match;    /* --pool: a glob (fnmatch) image names must
				 match; NULL: every image */
	bool dry_run;         /* judge and say, record nothing */
};

enum ops_adopt_outcome {
	OPS_ADOPT_ADOPTED,    /* recorded (dry run: would be) */
	OPS_ADOPT_ALREADY,    /* the operating image of a volume already */
	OPS_ADOPT_REFUSED,    /* message says why */
};

/* What became of one image. */
struct ops_adopt_item {
	struct rc_image_spec image;
	char volume[RC_NAME_MAX];        /* the volume it is (or would be) */
	enum ops_adopt_outcome outcome;
	uint64_t size;
	size_t snapshots;                /* the image's, recorded with it */
	bool has_parent;
	struct rc_image_spec parent;
	char parent_snapshot[RC_NAME_MAX];
	size_t ancestors_added;          /* foreign ancestors recorded */
	size_t snapshots_added;          /* snapshot rows recorded */
	bool was_foreign;                /* was a foreign ancestor until now */
	char message[2 * RC_SPEC_MAX];   /* REFUSED: why */
};

struct ops_adopt_report {
	struct ops_adopt_item *items;    /* in the order they were recorded */
	size_t count;
	size_t adopted, already, refused;
};
void ops_adopt_report_free(struct ops_adopt_report *report);

/*
 * rowcat adopt POOL[/NS]/IMAGE: records an image rowcat did not create as
 * volume opts->volume (NULL: the image's name), whose operating image it
 * is, with its snapshots (origin 'adopted', Ceph's times and protection)
 * and its ancestry on the cluster as far as the root: the ancestors the
 * catalog lacks are recorded as foreign ancestors, no volume's, that
 * rowcat reads through and never collects, protects, unprotects or
 * removes. Changes nothing on the cluster; the catalog rows are written
 * in one transaction, journalled as an operation of kind adopt, done. An
 * image that is a volume's operating image already is report->already,
 * nothing added. Refused, with one line and nothing changed: an image
 * that is not there (or in the RBD trash), being migrated, with a task
 * queued in the mgr (a flatten), whose ancestor is in the trash or being
 * migrated, named as rowcat names clones or tagged as rowcat's (another
 * catalog's), an image of a volume that is not its operating image, and
 * a volume name that is taken or not a volume name.
 */
int ops_adopt_image(struct rbd_conn *conn, struct catalog *cat,
		    const struct rc_image_spec *image,
		    const struct ops_adopt_options *opts,
		    struct ops_adopt_report *report, struct rc_error *err);

/*
 * rowcat adopt --pool POOL[/NS]: adopts every image of pool/ns whose name
 * matches opts->match, each its own volume named as the image, parents
 * before their clones, so that an image cloned from another of the run
 * reads through that volume's snapshot. Each image is judged as
 * ops_adopt_image judges one; those refused are items of the report
 * (OPS_ADOPT_REFUSED, message), the others recorded in one transaction.
 * Images in the trash that match are refused items too. -ENOENT when
 * opts->match matches no image.
 */
int ops_adopt_pool(struct rbd_conn *conn, struct catalog *cat,
		   const char *pool, const char *ns,
		   const struct ops_adopt_options *opts,
		   struct ops_adopt_report *report, struct rc_error *err);

/* ---- rowcat unrm ------------------------------------------------------- */

struct ops_unrm_events {
	/* Gives the cluster connection when the undo needs one (something
	 * is to be restored from the trash) and none was passed in. */
	int (*connect)(void *ctx, struct rbd_conn **conn, struct rc_error *err);
	const struct ops_events *ops;   /* for what recovery settles */
	void *ctx;
};

struct ops_unrm_result {
	bool nothing_to_do;             /* no mark, nothing in the trash */
	size_t restored;                /* images restored from the trash */
	char origin[RC_NAME_MAX];       /* of the snapshot unmarked */
};

/*
 * rowcat unrm VOL[@SNAP]: undoes `rowcat rm` of the volume (snapshot
 * NULL) or of its snapshot. Before gc collected anything, clears the mark
 * (catalog only; no cluster is needed, conn may be NULL); once gc moved
 * images the volume needs again to the RBD trash, restores them by one
 * journalled operation (unrm.c draws its steps) that clears the mark when
 * it ends. Refused, with one line naming it and nothing changed, when gc
 * made it final: -ENOENT for a snapshot gc removed or an image it purged;
 * -EPERM for a snapshot of a volume that is marked itself; -EBUSY while
 * another rowcat works on the volume. Undoing what is not marked is
 * result->nothing_to_do.
 */
int ops_volume_unrm(struct rbd_conn *conn, struct catalog *cat,
		    const char *volume, const char *snapshot,
		    const struct ops_unrm_events *ev,
		    struct ops_unrm_result *result, struct rc_error *err);

/* ---- rowcat check ------------------------------------------------------ */

enum ops_difference_kind {
	OPS_DIFF_MISSING_IMAGE,     /* in the catalog, not on the cluster */
	OPS_DIFF_PARENT,            /* parent links disagree */
	OPS_DIFF_MISSING_SNAPSHOT,
	OPS_DIFF_PROTECTION,        /* protected on one side only */
	OPS_DIFF_UNKNOWN_SNAPSHOT,  /* on a catalog image, not in the catalog */
	OPS_DIFF_ORPHAN_IMAGE,      /* named as rowcat's, not in the catalog */
	OPS_DIFF_UNFINISHED,        /* an operation still in the journal */
	OPS_DIFF_TRASH,             /* not where gc left it: in the trash
					  until purged, then gone */
	OPS_DIFF_LOST_DATA,         /* check --data: a flattened image lacks
					  an object its parent snapshot has
					  data in; it reads zeros there */
	OPS_DIFF_MAP_WITHOUT_OBJECT,/* check --data: a clone's object map
					  claims an object the cluster lacks;
					  librbd's own flatten would lose it */
};

/* One difference between the catalog and the cluster. */
struct ops_difference {
	enum ops_difference_kind kind;
	const char *kind_name;         /* "missing-image", "orphan-image", ... */
	const char *volume;
	char subject[RC_SPEC_MAX + RC_NAME_MAX]; /* pool/image or pool/image@snap */
	char message[RC_ERROR_MESSAGE_MAX];      /* the whole line, for people */
	/* check --data only: the object, and its bytes in the image */
	bool has_object;
	uint64_t object, offset, length;
};

/* Called for each difference: 0 goes on; a negative errno-style code,
 * explained in err, stops the check and is returned. */
typedef int (*ops_difference_fn)(void *ctx,
				 const struct ops_difference *diff,
				 struct rc_error *err);

/*
 * Compares the catalog with the cluster, for one volume or (volume NULL)
 * all of them: every image and snapshot the catalog says exists, with its
 * parent link and protection; every snapshot on those images that the
 * catalog does not know; every image in their pools named as a clone of
 * one of these volumes (VOL.rcN) that the catalog does not know; every
 * unfinished operation. Calls fn for each difference and sets *count.
 * Changes nothing.
 */
int ops_check(struct rbd_conn *conn, struct catalog *cat,
	      const char *volume, ops_difference_fn fn, void *ctx,
	      size_t *count, struct rc_error *err);

/*
 * Compares the data of one volume's images with their parent snapshots,
 * object by object over the parent overlap, for every image of the
 * volume that has a parent in the catalog's lineage whose snapshot is
 * still on the cluster:
 *  - flattened (no parent on the cluster any more): an object that is not
 *    on the cluster while the parent snapshot holds data other than zeros
 *    in its extent is OPS_DIFF_LOST_DATA: the image reads zeros there;
 *  - still a clone: an object the image's object map claims (librbd's
 *    fast diff) that is not on the cluster is
 *    OPS_DIFF_MAP_WITHOUT_OBJECT: it reads through to the parent now,
 *    and a flatten that trusts the map (librbd 16.2's) would lose it.
 * Costs one RADOS stat per object of a flattened image's overlap (per
 * claimed object of a clone), plus one read of the parent snapshot for
 * each object a flattened image lacks, through one buffer of an object's
 * size. Calls fn for each finding and sets *count. Changes nothing.
 */
int ops_check_data(struct rbd_conn *conn, struct catalog *cat,
		   const char *volume, ops_difference_fn fn, void *ctx,
		   size_t *count, struct rc_error *err);

/* ---- rowcat du ---------------------------------------------------------- */

/* Where an image or snapshot of the tree is, for du. */
enum ops_du_state {
	OPS_DU_MEASURED,    /* on the cluster, measured */
	OPS_DU_IN_TRASH,    /* gc moved it (or its image) to the RBD trash:
			       not measured */
	OPS_DU_GONE,        /* gc purged or removed it */
	OPS_DU_MISSING,     /* the catalog has it, the cluster does not
			       ('rowcat check' says more) */
};

/* What gc does with an item, by the plans du draws. */
enum ops_du_gc {
	OPS_DU_GC_KEEPS,
	OPS_DU_GC_NOW,            /* the plan of now collects it */
	OPS_DU_GC_AFTER_FLATTEN,  /* only once the operating image is
				     flattened */
};

enum ops_du_owner {
	OPS_DU_OWN,               /* the volume's own */
	OPS_DU_READ_THROUGH,      /* an ancestor the volume reads through
				     that is no volume's own (a foreign
				     ancestor) or another volume's */
};

struct ops_du_snapshot {
	int64_t snapshot_id;      /* in the catalog; 0: on the cluster only */
	char name[RC_NAME_MAX];
	uint64_t rbd_snap_id;     /* librbd's; 0 when not measured */
	enum ops_du_state state;
	uint64_t provisioned, used; /* rbd du's, when measured */
	bool fast_diff;
	enum ops_du_gc gc;
};

struct ops_du_image {
	struct catalog_image image;
	enum ops_du_owner owner;
	bool operating;
	enum ops_du_state state;
	char rbd_id[RC_RBD_ID_MAX];
	bool fast_diff;           /* every row of it answered by fast-diff */
	bool fast_diff_feature;
	uint64_t provisioned;
	uint64_t head_used;       /* the image's own row in rbd du */
	uint64_t used;            /* head and every snapshot measured */
	struct ops_du_snapshot *snapshots; /* catalog's creation order, then
					      those only the cluster has */
	size_t snapshot_count;
	enum ops_du_gc gc;
};

/* What a gc plan collects of the volume, in du's bytes. */
struct ops_du_frees {
	uint64_t bytes;           /* measured bytes of what it collects */
	size_t images;            /* moved to the trash (their bytes: the
				     image with its snapshots) */
	size_t snapshots;         /* removed from an image that stays */
	size_t unmeasured;        /* steps on items du did not measure
				     (already in the trash, missing) */
};

struct ops_du_report {
	struct catalog_volume volume;
	struct ops_du_image *images;    /* own images first, by id, then
					   those read through, nearest first,
					   then other volumes' */
	size_t image_count;
	uint64_t total;           /* the volume's own images and snapshots */
	uint64_t read_through;    /* the ancestors it reads through that are
				     not its own */
	struct ops_du_frees gc_now;
	/* what gc would collect in addition once the operating image is
	 * flattened; can_flatten false when it reads through no parent */
	bool can_flatten;
	struct ops_du_frees after_flatten;
};

/* The most images du measures at once. */
#define OPS_DU_MAX_JOBS 64

/*
 * rowcat du VOL: measures every image of the volume's tree on the
 * cluster (rbdops_image_usage: one open per image, `jobs` images at once,
 * 1 to OPS_DU_MAX_JOBS, each in a thread of its own sharing conn) and
 * every snapshot,
 * and the ancestors it reads through that are not its own (foreign
 * ancestors, counted apart in read_through); images and snapshots gc
 * moved to the trash or removed are reported as such, unmeasured. Then
 * draws gc's plan of the catalog as it is (opts, as rowcat gc would) and
 * the plan as it would be with the operating image flattened, and says
 * what each collects (ops_du_frees). Changes nothing. -ENOENT for a
 * volume that is not in the catalog. *out is the caller's, for
 * ops_du_report_free, whatever the result.
 */
int ops_volume_du(struct rbd_conn *conn, struct catalog *cat,
		  const char *volume, const struct catalog_gc_options *opts,
		  int jobs, struct ops_du_report *out, struct rc_error *err);
void ops_du_report_free(struct ops_du_report *report);

/*
 * The pure part of du: plans gc on state (the whole catalog's) with opts,
 * and again with report's operating image flattened (only when it reads
 * through a parent: can_flatten), and fills gc_now and after_flatten and
 * the gc verdict of each item of report from the steps on the volume's
 * own items: an image moved to the trash frees what it holds with its
 * snapshots, a snapshot removed from an image that stays what it holds,
 * a purge of an image du did not measure counts as unmeasured.
 * -ENOMEM, or the planner's failure.
 */
int ops_du_frees(struct ops_du_report *report,
		 const struct catalog_gc_state *state,
		 const struct catalog_gc_options *opts, struct rc_error *err);

/* What a recovery did. */
struct ops_recovery {
	int finished;    /* rolled forward to done */
	int undone;      /* rolled back */
	int failed;      /* could not be completed; ended as failed */
	int busy;        /* claimed by a live rowcat, left alone */
	/* the first of those: which, and who holds it (until when, on a
	 * catalog that many hosts share) */
	int64_t busy_op_id;
	char busy_op_kind[32];
	char busy_holder[512];
};

/*
 * Finishes or undoes every operation that a rowcat left 'running' when it
 * died, looking at the cluster first, so that the catalog and the cluster
 * agree again. Operations that a live rowcat holds are counted as busy and
 * left alone. Returns 0 when every operation it owned was settled.
 */
int ops_recover(struct rbd_conn *conn, struct catalog *cat,
		const struct ops_events *ev,
		struct ops_recovery *report, struct rc_error *err);

/* ---- rowcat gc --------------------------------------------------------- */

struct ops_gc_options {
	struct catalog_gc_options plan; /* what the plan was made with */
	int jobs;                       /* steps carried out at once (>= 1) */
};

enum ops_gc_outcome {
	OPS_GC_DONE,
	OPS_GC_BUSY,    /* in use (a client, a running operation): kept,
			      tried again by the next run */
	OPS_GC_SKIPPED, /* no longer garbage, or a step it waits for did
			      not succeed */
	OPS_GC_FAILED,
};

/* What became of one step. */
struct ops_gc_step_report {
	size_t index;                      /* in the plan */
	const struct catalog_gc_step *step;
	enum ops_gc_outcome outcome;
	const char *message;               /* why, unless done */
	uint64_t bytes;                    /* a purge: what the image used */
	bool bytes_known;
};

struct ops_gc_events {
	/* Called for each step as it finishes, one call at a time. */
	void (*step_done)(void *ctx, const struct ops_gc_step_report *r);
	void *ctx;
};

struct ops_gc_report {
	size_t done, busy, skipped, failed;
	size_t trashed, snapshots_removed, purged;
	uint64_t bytes_freed;          /* by purges that could be measured */
	size_t purges_unmeasured;      /* no cheap `rbd du` (no valid map) */
};

/* ---- a gc job: rowcat gc, policy run --gc --------------------------------- */

/* The volumes a gc job collects: every volume (rowcat gc), or a list. */
struct ops_gc_scope {
	bool every_volume;
	const int64_t *volume_ids;      /* without every_volume: these, by id */
	size_t volume_count;
};

struct ops_gc_job_options {
	struct ops_gc_options gc;       /* the plan's options, jobs at a time */
	size_t max_steps;               /* carry out at most these; 0: all */
	bool dry_run;                   /* plan only: no lock, no cluster, no
					   recovery, nothing changed */
};

/* What a gc job tells its caller while it runs. Every member may be NULL. */
struct ops_gc_job_events {
	/*
	 * Gives the cluster connection once the job lock is held, when the
	 * job was called without one (so that a refused run never connects).
	 * Not called in a dry run.
	 */
	int (*connect)(void *ctx, struct rbd_conn **conn, struct rc_error *err);
	/* What recovery settled before the plan was made. */
	void (*recovered)(void *ctx, const struct ops_recovery *recovered);
	/*
	 * The plan, once made, before any step of it is carried out (in a
	 * dry run, the job's last call); count is how many of its steps the
	 * job carries out. The plan lives until the job returns. A negative
	 * return, with err set, ends the job with it.
	 */
	int (*planned)(void *ctx, const struct catalog_gc_plan *plan,
		       size_t count, struct rc_error *err);
	/* Each step as it finishes, one call at a time. */
	void (*step_done)(void *ctx, const struct ops_gc_step_report *r);
	/* For the operations that recovery settles (the switch hook). */
	const struct ops_events *ops;
	void *ctx;
};

struct ops_gc_job_report {
	bool locked;                    /* the job held gc's lock: a run that
					   counts, failed or not */
	bool ran;                       /* the plan was carried out */
	size_t waiting;                 /* the plan's garbage not yet
					   collectable */
	struct ops_gc_report run;       /* what became of the steps */
};

/*
 * The gc pipeline, for every volume or a list of them: takes gc's job
 * lock (catalog_job_lock; -EBUSY when another gc holds it), gets the
 * cluster connection (conn, else ev->connect), settles what crashes left
 * (every volume: ops_recover, whose failure ends the job; a list: each
 * volume's recovery, a volume busy with a live rowcat left out, as is a
 * volume marked by `rowcat rm` since the list was made: the next run
 * collects them), loads the catalog's gc state and plans (catalog_gc_plan
 * with opts->gc.plan), tells ev->planned, and carries out the first
 * opts->max_steps steps (ops_gc_run). A dry run only plans: it takes no
 * lock, needs no cluster (conn may be NULL) and changes nothing.
 * Returns 0, or the first failure; report says how far it went.
 */
int ops_gc_job(struct rbd_conn *conn, struct catalog *cat,
	       const struct ops_gc_scope *scope,
	       const struct ops_gc_job_options *opts,
	       const struct ops_gc_job_events *ev,
	       struct ops_gc_job_report *report, struct rc_error *err);

/* ---- the policy engine: rowcat policy run -------------------------------- */

/*
 * Volumes a policy run works on at once. Most of a snapshot's time is a
 * wait for the monitor (its id comes from a proposal round, 1 s by
 * default), and the snapshots waiting at once share a round, so the
 * default is high; each volume in flight costs a thread, a catalog
 * connection (4 descriptors) and its open images, 1 to 2 MiB (more for a
 * deeper volume: an open clone holds its parents open). With a catalog
 * in RADOS, its lock (a few hundred transactions a second) is the limit,
 * and every worker's connection costs it an opening: 64 jobs ran 100
 * volumes slower than 8 there.
 *
 * What is not waiting is image opens, and an open of a clone opens every
 * image above it: a volume's snapshot costs CPU and memory in proportion
 * to its depth + 1 (its levels). So the volumes in flight together hold
 * at most OPS_POLICY_LEVELS_AT_ONCE levels: 128 volumes at depth 0 or 1,
 * 64 at depth 3, 25 at depth 9 (bench row 4: 128 at once took 100
 * volumes' first snapshots in 1.6 s, and were twice as slow as 32 at
 * depth 8).
 */
#define OPS_POLICY_DEFAULT_JOBS 128
#define OPS_POLICY_DEFAULT_JOBS_RADOS 8
#define OPS_POLICY_MAX_JOBS 256
#define OPS_POLICY_LEVELS_AT_ONCE 256

/* A volume in the catalog and the policy that manages it. */
struct ops_policy_volume {
	struct catalog_volume_summary summary; /* as listed before the run */
	const struct policy *policy;
};

enum ops_policy_outcome {
	OPS_POLICY_OK,
	OPS_POLICY_BUSY,     /* another rowcat works on it: the next run */
	OPS_POLICY_FAILED,
	OPS_POLICY_IN_USE,   /* a client has it open: no snapshot taken
				(the message names the clients) */
	OPS_POLICY_ELSEWHERE, /* its consumer runs on another host (host):
				 left to that host's run, untouched */
};

/* What became of one volume. */
struct ops_policy_result {
	enum ops_policy_outcome outcome;
	bool due;                       /* a snapshot was due */
	char snapshot[RC_NAME_MAX];     /* the one taken; "" none */
	char flattened[RC_SPEC_MAX];    /* the image flattened; "" none */
	size_t expired;                 /* snapshots marked by retention */
	char message[RC_ERROR_MESSAGE_MAX]; /* why, unless ok */
	char host[RC_HOST_MAX];         /* OPS_POLICY_ELSEWHERE's host */
};

struct ops_policy_events {
	/*
	 * Called as each volume is done, one call at a time, under the
	 * run's lock: the volume's index in the run, the volume and what
	 * became of it.
	 */
	void (*volume_done)(void *ctx, size_t index,
			    const struct ops_policy_volume *v,
			    const struct ops_policy_result *r);
	/* For each volume's operations: the switch hook (progress is never
	 * used: lines from many threads would interleave). May be NULL. */
	const struct ops_events *ops;
	void *ctx;
};

/*
 * Applies each volume's policy to it, `jobs` volumes at a time (1 to
 * OPS_POLICY_MAX_JOBS threads, each with a catalog connection of its own
 * to cat's file, all sharing conn), fewer while the volumes in flight are
 * deep (OPS_POLICY_LEVELS_AT_ONCE), deciding by `now` (the policy clock
 * when the run began): settles what a crash left of the volume
 * (ops_recover_volume); flattens the operating image when the snapshot's
 * clone would be deeper than max_depth (or it already is); takes the ROW
 * snapshot that is due (origin policy:NAME); and marks for collection,
 * in one transaction, the policy's snapshots that retention no longer
 * keeps (failpoints policy.expire.before/after around it). A volume
 * marked by `rowcat rm` since it was listed is left alone. A snapshot
 * taken whose switch hook failed still lets retention run. results[i]
 * (n of them, the caller's) says what became of vols[i]; one failing
 * volume does not stop the others. A volume whose consumer runs on
 * another host (ops_consumer_elsewhere) is OPS_POLICY_ELSEWHERE, and
 * nothing is done to it, not even recovery: that host's run takes it. A
 * due snapshot that another run took first (it switched the volume
 * after this run read what was due) is not taken again: the volume is
 * read again, and is no longer due. Holds the policy job lock
 * (catalog_job_lock; -EBUSY when another run holds it). Returns 0 unless
 * the run could not start. Each snapshot is taken with row_opts (may be
 * NULL): a volume whose operating image a client has open is
 * OPS_POLICY_IN_USE, unless row_opts->ignore_clients.
 */
int ops_policy_run(struct rbd_conn *conn, struct catalog *cat,
		   const struct ops_policy_volume *vols, size_t n, int64_t now,
		   int jobs, const struct ops_row_options *row_opts,
		   const struct ops_policy_events *ev,
		   struct ops_policy_result *results, struct rc_error *err);

/* When p last took a snapshot of the volume whose lineage this is, by the
 * policy clock (0: never), whatever became of the snapshot since. */
int64_t ops_policy_last_snapshot(const struct catalog_lineage *lineage,
				 const struct policy *p);

/* ---- rowcat explain (explain.c) ------------------------------------------ */

/* What becomes of an image or snapshot, as gc's planner sees it now. */
enum ops_explain_verdict {
	OPS_EXPLAIN_KEPT,       /* needed: gc keeps it */
	OPS_EXPLAIN_GOES,       /* garbage the next gc run collects (a step
				   of its plan) */
	OPS_EXPLAIN_WAITS,      /* garbage gc cannot collect yet (a wait of
				   its plan says why) */
	OPS_EXPLAIN_COLLECTED,  /* gc removed it (a snapshot) or purged it */
};

/* One reason. The ids name items of the explanation, or volumes. */
enum ops_explain_why {
	OPS_WHY_OPERATING,      /* volume_id's operating image */
	OPS_WHY_FOREIGN,        /* a foreign ancestor, no volume's own: rowcat
				   reads through it and never collects it */
	OPS_WHY_OTHER_VOLUME,   /* volume_id's, not this volume's: that
				   volume's explanation says more */
	OPS_WHY_PINNED,         /* rowcat pin */
	OPS_WHY_ORIGIN,         /* its origin (manual, pre-restore, adopted,
				   or a policy that does not manage the
				   volume): only rowcat rm lets it go */
	OPS_WHY_POLICY_KEEPS,   /* the volume's policy keeps it: retention */
	OPS_WHY_POLICY_EXPIRES, /* not marked, but the volume's policy no
				   longer keeps it: its next run marks it
				   (retention) */
	OPS_WHY_POLICY_UNKNOWN, /* the policy's snapshot, and no policy was
				   given to say which rule keeps it */
	OPS_WHY_READ_BY,        /* image_id (of volume_id; 0 no volume's)
				   reads through it; chain: that image is an
				   operating image or one reads through it */
	OPS_WHY_CARRIES,        /* an image: its snapshot snapshot_id is
				   needed */
	OPS_WHY_MARKED,         /* marked for collection at `at`; when
				   policy_checked, the volume's policy would
				   keep it (retention): rowcat rm marked it */
	OPS_WHY_EXPIRED,        /* marked at `at`, and the volume's policy
				   does not keep it (retention) */
	OPS_WHY_VOLUME_REMOVED, /* rowcat rm VOL marked the volume at `at` */
	OPS_WHY_UNNEEDED,       /* an image nothing needed reads or keeps */
	OPS_WHY_GC_STEP,        /* the next gc run's step: action */
	OPS_WHY_GC_WAIT,        /* why gc waits: wait */
	OPS_WHY_FLATTEN_FREES,  /* flattening image_id, volume_id's operating
				   image, would let gc collect it */
	OPS_WHY_COLLECTED,      /* gc removed (purged) it at `at` */
};

struct ops_explain_reason {
	enum ops_explain_why why;
	int64_t volume_id, image_id, snapshot_id;
	int64_t at;
	bool chain, operating;          /* READ_BY */
	bool policy_checked;            /* MARKED */
	enum catalog_gc_action action;  /* GC_STEP */
	struct catalog_gc_wait wait;    /* GC_WAIT */
	struct policy_retention retention; /* POLICY_KEEPS, POLICY_EXPIRES,
					      EXPIRED, MARKED (checked) */
};

/* An image, or one of its snapshots, and what becomes of it. */
struct ops_explain_item {
	struct catalog_image image;       /* the item, or the snapshot's */
	struct catalog_snapshot snapshot; /* id 0: the item is the image */
	enum ops_explain_verdict verdict;
	struct ops_explain_reason *reasons; /* keeping ones, then gc's, then
					       the flattens' */
	size_t reason_count;
};

/* What flattening one operating image would let gc collect. */
struct ops_explain_flatten {
	int64_t volume_id, image_id;
	size_t *items;                  /* indexes into the items */
	size_t count;
};

struct ops_explanation {
	struct catalog_volume volume;
	const struct policy *policy;    /* the volume's; NULL: none given */
	struct catalog_gc_options gc;   /* what gc's plan was judged with */
	/* the volume's images and their snapshots, the images and snapshots
	 * of others that its images read through, and others' images that
	 * read through its snapshots: by image id, each image before its
	 * snapshots; those gc collected too */
	struct ops_explain_item *items;
	size_t count;
	struct ops_explain_flatten *flattens;
	size_t flatten_count;
	struct catalog_volume *volumes; /* every volume an item belongs to */
	size_t volume_count;
};

/*
 * rowcat explain: why each image and snapshot of volume's tree is kept or
 * would go, from the catalog alone (no cluster): gc's planner, run on the
 * whole catalog as `rowcat gc` runs it with gc's options (what it needs,
 * the steps of its next run, the waits of what it cannot collect yet);
 * the retention of policy, the volume's policy (NULL: none known), as a
 * policy run weighs it, for the rule that keeps each of its snapshots or
 * let one go; and the planner again on the catalog as it would be with
 * each operating image among the items flattened, for what each flatten
 * would free. One read of the catalog. *out is the caller's, to free with
 * ops_explanation_free.
 */
int ops_explain(struct ops_explanation **out, struct catalog *cat,
		const struct catalog_volume *volume,
		const struct policy *policy,
		const struct catalog_gc_options *gc, struct rc_error *err);
void ops_explanation_free(struct ops_explanation *e);

/* The explanation's volume of that id, or NULL (0: none). */
const struct catalog_volume *
ops_explain_volume(const struct ops_explanation *e, int64_t id);

/* The item of that image (snapshot_id 0) or snapshot, or NULL. */
const struct ops_explain_item *
ops_explain_find(const struct ops_explanation *e, int64_t image_id,
		 int64_t snapshot_id);

/* ---- the catalog itself (catalog_admin.c) ------------------------------- */

/* Makes the catalog at a rados:// path reachable: its pool (and
 * namespace) checked, Ceph's SQLite VFS loaded on conn's context. */
int ops_catalog_vfs_ready(struct rbd_conn *conn, const char *path,
			  struct rc_error *err);

/*
 * Copies the catalog at from to to (catalog_copy: files and rados://
 * locations, either way), never over a catalog: into RADOS, the look for
 * one and the creation are one step for every rowcat (a RADOS lock on
 * NAME.rowcat-create, which is removed after). conn may be NULL when
 * neither is in RADOS. *schema_version is the copy's.
 */
int ops_catalog_copy(struct rbd_conn *conn, const char *from, const char *to,
		     int *schema_version, struct rc_error *err);

/* Where a catalog is, what it is, and who holds it. */
struct ops_catalog_info {
	bool rados;
	struct catalog_rados_location location; /* rados only */
	char object[2 * RC_NAME_MAX];   /* rados: the object with the lock */
	uint64_t size;                  /* bytes (rados: striper.size) */
	int schema_version;
	int page_size;
	char journal_mode[16];
	/* rados: the VFS's lock on the first object, and the addresses its
	 * holder wrote (striper.excl; "" between transactions) */
	struct rbdops_lock_state lock;
	char holder_addrs[256];
	struct catalog_file_info file;  /* a file: its WAL, jobs, claims */
	/* rados: the claims held now (leases on NAME.claims), by name */
	struct {
		char name[RBDOPS_LEASE_NAME_MAX];
		struct rbdops_locker holder;
	} claims[CATALOG_CLAIMS_SHOWN];
	size_t claims_count;
};

/*
 * Reads it without opening the catalog through SQLite where that would
 * take a lock: a catalog in RADOS is read as objects (its lock's holders,
 * its attributes, its header), a file is opened read-only. conn may be
 * NULL for a file. -ENOENT when there is no catalog at path.
 */
int ops_catalog_info(struct rbd_conn *conn, const char *path,
		     struct ops_catalog_info *out, struct rc_error *err);

#endif
