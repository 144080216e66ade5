/*
 * rbdops: rowcat's side of the cluster, through librados and librbd.
 *
 * A struct rbd_conn is one connected client. It is made the way Ceph's own
 * tools make theirs (ceph.conf found as librados finds it, CEPH_ARGS,
 * --id/--name/--cluster/--conf) and always with client timeouts, so an
 * unreachable cluster is an error within the timeout, never a hang.
 * This module knows nothing of command lines beyond Ceph's own conventions.
 */
#ifndef ROWCAT_RBDOPS_H
#define ROWCAT_RBDOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "names.h"

/* Every image rowcat creates or clones has exactly these features. */
#define RBDOPS_IMAGE_FEATURES_TEXT \
	"layering, exclusive-lock, object-map, fast-diff, deep-flatten"

/*
 * Seconds that connecting, and then each monitor or OSD request, may take
 * before rowcat gives up (exit 75). It is a bound on one request, never on
 * a whole command, so it must cover what a healthy but busy cluster does:
 * Ceph itself reports an OSD request as merely slow at 30 s
 * (osd_op_complaint_time), and a request waits out the detection of a dead
 * OSD (osd_heartbeat_grace, 20 s) and the peering after it, or a monitor
 * election. 30 s, the old default, ended a `check` on a loaded test
 * machine; Ceph's own clients wait 300 s to connect and forever on a
 * request. --timeout (or the policy file's cluster timeout) sets all three.
 */
#define RBDOPS_DEFAULT_TIMEOUT 120

struct rbd_conn;

/*
 * How to reach the cluster. NULL members fall back to CEPH_ARGS and then to
 * Ceph's defaults (cluster "ceph", client.admin, the usual ceph.conf search).
 */
struct rbdops_conn_options {
	const char *conf;     /* -c/--conf: the ceph.conf to read */
	const char *cluster;  /* --cluster */
	const char *id;       /* --id/--user: the client is client.ID */
	const char *name;     /* -n/--name: the full entity name */
	const char *keyring;  /* -k/--keyring */
	const char *mon_host; /* -m/--mon-host */
	int timeout_seconds;  /* 0 means RBDOPS_DEFAULT_TIMEOUT */
};

/*
 * Connects to the cluster. On success *out is the caller's, to be released
 * with rbdops_disconnect. A cluster that does not answer within the timeout
 * is -ETIMEDOUT (see rc_error_is_unreachable).
 */
int rbdops_connect(struct rbd_conn **out, const struct rbdops_conn_options *opts,
		   struct rc_error *err);

/* Disconnects; NULL is fine. */
void rbdops_disconnect(struct rbd_conn *conn);

/* Checks that pool exists and, when ns is not "", that the RBD namespace
 * does too. -ENODEV for a missing pool, -ENOENT for a missing namespace,
 * with a message naming it. */
int rbdops_pool_check(struct rbd_conn *conn, const char *pool, const char *ns,
		      struct rc_error *err);

/* Sets *exists to whether an image named by spec exists on the cluster.
 * A pool that does not exist is an error (-ENODEV), not a missing image:
 * a renamed pool still holds its images. */
int rbdops_image_exists(struct rbd_conn *conn, const struct rc_image_spec *spec,
			bool *exists, struct rc_error *err);

/*
 * Creates an image of `size` bytes with RBDOPS_IMAGE_FEATURES_TEXT.
 * -EEXIST when an image of that name exists already.
 */
int rbdops_image_create(struct rbd_conn *conn, const struct rc_image_spec *spec,
			uint64_t size, struct rc_error *err);

/* The image metadata key that names the operation which made an image. */
#define RBDOPS_OWNER_KEY "rowcat.operation"

/* Sets image metadata key = value on the image at spec. */
int rbdops_image_set_meta(struct rbd_conn *conn, const struct rc_image_spec *spec,
			  const char *key, const char *value,
			  struct rc_error *err);

/*
 * What recovery needs to know of an image it may have made: whether it
 * exists (its pool missing is -ENODEV, as for rbdops_image_exists) and its
 * RBDOPS_OWNER_KEY metadata ("" when unset). Not its creation time:
 * ownership is never decided by comparing the cluster's clock with ours.
 */
struct rbdops_image_facts {
	bool exists;
	char owner[128];
};
int rbdops_image_facts(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_image_facts *out, struct rc_error *err);

/*
 * Says so when a failure is a full pool or cluster. Ceph holds the writes
 * to a full pool until space is freed, so librbd reports a timeout: when
 * err is -ETIMEDOUT (or -ENOSPC, -EDQUOT), this asks the monitors for the
 * OSD map and, if pool is full, puts "pool 'P' is full: its quota is
 * reached" (-EDQUOT) or "the cluster is full" (-ENOSPC) before the
 * message. Neither is rc_error_is_unreachable: waiting alone does not
 * cure them (exit 1, not 75). Anything else, or a monitor that does not
 * answer either, leaves err as it was. Returns err->code.
 */
int rbdops_explain_full(struct rbd_conn *conn, const char *pool,
			struct rc_error *err);

/* rbdops_explain_full for the pool of volume's operating image. */
int rbdops_explain_full_volume(struct rbd_conn *conn, struct catalog *cat,
			       const char *volume, struct rc_error *err);

/* ---- operations: journalled in the catalog, carried out on Ceph -------- */

/*
 * What an operation tells its caller while it runs. Every member may be
 * NULL, and so may the struct.
 */
struct rbdops_events {
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
	/* librbd's progress callback for long steps (flatten). */
	int (*progress)(uint64_t offset, uint64_t total, void *ctx);
	void *ctx;
};

/* What snap, restore and flatten did, for the caller to report. */
struct rbdops_result {
	char snapshot[RC_NAME_MAX];    /* snap: the new snapshot; restore:
					  the safety snapshot */
	struct rc_image_spec old_image; /* the operating image before */
	struct rc_image_spec new_image; /* and after */
	bool nothing_to_do;             /* flatten of an image without parent */
};

/*
 * Creates volume spec->name: an image at spec of `size` bytes and the
 * catalog's volume whose operating image it is. Everything that can be
 * checked is checked before anything changes: the name is free in the
 * catalog and on the cluster, the pool and namespace exist. Then the
 * operation is journalled, the image created, and the volume recorded in
 * one transaction with the end of the operation.
 */
int rbdops_volume_create(struct rbd_conn *conn, struct catalog *cat,
			 const struct rc_image_spec *spec, uint64_t size,
			 struct rc_error *err);

/*
 * rowcat snap: snapshots the operating image of `volume` as `snapshot`
 * (NULL: a UTC timestamp name such as 20261125T103000Z), protects the
 * snapshot, clones it into a new image and makes the clone the operating
 * image; the snapshot is recorded with `origin` ("manual", "policy:NAME").
 * Recovers the volume's unfinished operations first; -EBUSY when another
 * rowcat is working on the volume. See row.c for the steps.
 */
int rbdops_volume_snap(struct rbd_conn *conn, struct catalog *cat,
		       const char *volume, const char *snapshot,
		       const char *origin, const struct rbdops_events *ev,
		       struct rbdops_result *result, struct rc_error *err);

/*
 * rowcat restore: takes a protected safety snapshot of the operating image
 * (origin "pre-restore"), then clones `snapshot` (any snapshot in the
 * volume's tree) into a new image that becomes the operating image.
 * Nothing is deleted.
 */
int rbdops_volume_restore(struct rbd_conn *conn, struct catalog *cat,
			  const char *volume, const char *snapshot,
			  const struct rbdops_events *ev,
			  struct rbdops_result *result, struct rc_error *err);

/*
 * rowcat flatten: flattens the operating image until it has no parent on
 * the cluster, and records that in the catalog (the parent link stays, as
 * history). An operating image without parent is result->nothing_to_do.
 */
int rbdops_volume_flatten(struct rbd_conn *conn, struct catalog *cat,
			  const char *volume, const struct rbdops_events *ev,
			  struct rbdops_result *result, struct rc_error *err);

/* ---- rowcat check ------------------------------------------------------ */

enum rbdops_difference_kind {
	RBDOPS_DIFF_MISSING_IMAGE,     /* in the catalog, not on the cluster */
	RBDOPS_DIFF_PARENT,            /* parent links disagree */
	RBDOPS_DIFF_MISSING_SNAPSHOT,
	RBDOPS_DIFF_PROTECTION,        /* protected on one side only */
	RBDOPS_DIFF_UNKNOWN_SNAPSHOT,  /* on a catalog image, not in the catalog */
	RBDOPS_DIFF_ORPHAN_IMAGE,      /* named as rowcat's, not in the catalog */
	RBDOPS_DIFF_UNFINISHED,        /* an operation still in the journal */
	RBDOPS_DIFF_TRASH,             /* not where gc left it: in the trash
					  until purged, then gone */
	RBDOPS_DIFF_LOST_DATA,         /* check --data: a flattened image lacks
					  an object its parent snapshot has
					  data in; it reads zeros there */
	RBDOPS_DIFF_MAP_WITHOUT_OBJECT,/* check --data: a clone's object map
					  claims an object the cluster lacks;
					  librbd's own flatten would lose it */
};

/* One difference between the catalog and the cluster. */
struct rbdops_difference {
	enum rbdops_difference_kind kind;
	const char *kind_name;         /* "missing-image", "orphan-image", ... */
	const char *volume;
	char subject[RC_SPEC_MAX + RC_NAME_MAX]; /* pool/image or pool/image@snap */
	char message[RC_ERROR_MESSAGE_MAX];      /* the whole line, for people */
	/* check --data only: the object, and its bytes in the image */
	bool has_object;
	uint64_t object, offset, length;
};

typedef int (*rbdops_difference_fn)(void *ctx,
				    const struct rbdops_difference *diff);

/*
 * Compares the catalog with the cluster, for one volume or (volume NULL)
 * all of them: every image and snapshot the catalog says exists, with its
 * parent link and protection; every snapshot on those images that the
 * catalog does not know; every image in their pools named as a clone of
 * one of these volumes (VOL.rcN) that the catalog does not know; every
 * unfinished operation. Calls fn for each difference and sets *count.
 * Changes nothing.
 */
int rbdops_check(struct rbd_conn *conn, struct catalog *cat,
		 const char *volume, rbdops_difference_fn fn, void *ctx,
		 size_t *count, struct rc_error *err);

/*
 * Compares the data of one volume's images with their parent snapshots,
 * object by object over the parent overlap, for every image of the
 * volume that has a parent in the catalog's lineage whose snapshot is
 * still on the cluster:
 *  - flattened (no parent on the cluster any more): an object that is not
 *    on the cluster while the parent snapshot holds data other than zeros
 *    in its extent is RBDOPS_DIFF_LOST_DATA: the image reads zeros there;
 *  - still a clone: an object the image's object map claims (librbd's
 *    fast diff) that is not on the cluster is
 *    RBDOPS_DIFF_MAP_WITHOUT_OBJECT: it reads through to the parent now,
 *    and a flatten that trusts the map (librbd 16.2's) would lose it.
 * Costs one RADOS stat per object of a flattened image's overlap (per
 * claimed object of a clone), plus one read of the parent snapshot for
 * each object a flattened image lacks, through one buffer of an object's
 * size. Calls fn for each finding and sets *count. Changes nothing.
 */
int rbdops_check_data(struct rbd_conn *conn, struct catalog *cat,
		      const char *volume, rbdops_difference_fn fn, void *ctx,
		      size_t *count, struct rc_error *err);

/* What a recovery did. */
struct rbdops_recovery {
	int finished;    /* rolled forward to done */
	int undone;      /* rolled back */
	int failed;      /* could not be completed; ended as failed */
	int busy;        /* claimed by a live rowcat, left alone */
};

/*
 * Finishes or undoes every operation that a rowcat left 'running' when it
 * died, looking at the cluster first, so that the catalog and the cluster
 * agree again. Operations that a live rowcat holds are counted as busy and
 * left alone. Returns 0 when every operation it owned was settled.
 */
int rbdops_recover(struct rbd_conn *conn, struct catalog *cat,
		   const struct rbdops_events *ev,
		   struct rbdops_recovery *report, struct rc_error *err);

/*
 * Recovers the unfinished operations of one volume, as every mutating
 * command does before its own. -EBUSY, with a "volume is busy" message,
 * when a live rowcat holds one of them.
 */
int rbdops_recover_volume(struct rbd_conn *conn, struct catalog *cat,
			  const struct catalog_volume *volume,
			  const struct rbdops_events *ev,
			  struct rbdops_recovery *report, struct rc_error *err);

/* ---- rowcat gc --------------------------------------------------------- */

struct rbdops_gc_options {
	struct catalog_gc_options plan; /* what the plan was made with */
	int jobs;                       /* steps carried out at once (>= 1) */
};

enum rbdops_gc_outcome {
	RBDOPS_GC_DONE,
	RBDOPS_GC_BUSY,    /* in use (a client, a running operation): kept,
			      tried again by the next run */
	RBDOPS_GC_SKIPPED, /* no longer garbage, or a step it waits for did
			      not succeed */
	RBDOPS_GC_FAILED,
};

/* What became of one step. */
struct rbdops_gc_step_report {
	size_t index;                      /* in the plan */
	const struct catalog_gc_step *step;
	enum rbdops_gc_outcome outcome;
	const char *message;               /* why, unless done */
	uint64_t bytes;                    /* a purge: what the image used */
	bool bytes_known;
};

struct rbdops_gc_events {
	/* Called for each step as it finishes, one call at a time. */
	void (*step_done)(void *ctx, const struct rbdops_gc_step_report *r);
	void *ctx;
};

struct rbdops_gc_report {
	size_t done, busy, skipped, failed;
	size_t trashed, snapshots_removed, purged;
	uint64_t bytes_freed;          /* by purges that could be measured */
	size_t purges_unmeasured;      /* no cheap `rbd du` (no valid map) */
};

/*
 * Carries out the first max_steps (0: all) steps of plan, made with
 * opts->plan, jobs at a time. Each step is journalled only if a fresh plan
 * of its volume, made with opts->plan at the real clock (whatever
 * opts->plan.now says), still holds it; one that does not is skipped.
 * Busy and skipped steps are not failures.
 * Returns 0 when no step failed; otherwise the first failure, with a
 * count of them.
 */
int rbdops_gc_run(struct rbd_conn *conn, struct catalog *cat,
		  const struct catalog_gc_plan *plan, size_t max_steps,
		  const struct rbdops_gc_options *opts,
		  const struct rbdops_gc_events *ev,
		  struct rbdops_gc_report *report, struct rc_error *err);

#endif
