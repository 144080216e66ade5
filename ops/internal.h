/* Private to ops/: what the operations and their recovery share. */
#ifndef ROWCAT_OPS_INTERNAL_H
#define ROWCAT_OPS_INTERNAL_H

#include <errno.h>
#include <stddef.h>

#include "rowcat/ops.h"
#include "rowcat/sys/failpoint.h"
#include "rowcat/sys/journal.h"

/* rbdops_explain_failure for the pool of volume's operating image, for
 * the failures of snap, restore and flatten. */
int ops_explain_volume_failure(struct rbd_conn *conn, struct catalog *cat,
			       const char *volume, struct rc_error *err);

/* "missing-image", "lost-data", ...: the kind's name in check's JSON. */
const char *ops_difference_kind_name(enum ops_difference_kind kind);

/*
 * Runs call (which sets rc) between the failpoints before and after; on
 * failure jumps to the caller's `out` label without passing `after`.
 * "before:error" in $ROWCAT_FAILPOINT makes the step fail instead.
 */
#define OPS_STEP(before, after, call)					    \
	do {								    \
		RC_FAILPOINT(before);					    \
		rc = rc_failpoint_error(before)				    \
			? rc_error_set(err, -EIO, "failure injected at %s", \
				       before)				    \
			: (call);					    \
		if (rc < 0)						    \
			goto out;					    \
		RC_FAILPOINT(after);					    \
	} while (0)

/*
 * Retention as a policy run weighs it, over snaps (n of them: a volume's
 * snapshots): p's own (origin policy:NAME) that are neither marked nor
 * removed, pinned ones included, and besides them the snapshot also_id (0:
 * none), whatever its state, to ask what retention would say of it among
 * them. weighed[i] says which were weighed; kept[i] is true for the rest;
 * why (NULL, or n entries) says why of those weighed. expire() marks
 * what this does not keep, and rowcat explain says why from it.
 */
int ops_policy_retention(const struct policy *p,
			 const struct catalog_snapshot *snaps, size_t n,
			 int64_t also_id, bool *weighed, bool *kept,
			 struct policy_retention *why, struct rc_error *err);

/* Failures that waiting may cure: the operation stays for recovery. */
bool ops_is_transient(const struct rc_error *err);

/* The RBDOPS_OWNER_KEY value that marks an image as op's work. */
void ops_owner_tag(const struct catalog_operation *op, char *buf,
		   size_t len);

/* Ends op with state and why, in a transaction of its own. */
int ops_end_operation(struct catalog *cat, struct catalog_operation *op,
		      enum catalog_op_state state, const char *why,
		      struct rc_error *err);

/*
 * Ends op with state after the failure err describes, and keeps err: when
 * the journal cannot record the end either, err says so as well, and op
 * stays running for 'rowcat recover' to settle (the failure the operator
 * must read is still the first one).
 */
void ops_end_failed(struct catalog *cat, struct catalog_operation *op,
		    enum catalog_op_state state, struct rc_error *err);

/* create's last steps: tag the image; record the volume and end the op. */
int ops_create_tag(struct rbd_conn *conn, const struct catalog_operation *op,
		   struct rc_error *err);
int ops_create_finish(struct catalog *cat, struct catalog_operation *op,
		      struct rc_error *err);

/* Settle one interrupted operation of each kind (row.c, flatten.c). */
int ops_row_recover(struct rbd_conn *conn, struct catalog *cat,
		    struct catalog_operation *op,
		    const struct ops_events *ev,
		    struct ops_recovery *report, struct rc_error *err);
int ops_gc_recover(struct rbd_conn *conn, struct catalog *cat,
		   struct catalog_operation *op,
		   struct ops_recovery *report, struct rc_error *err);
int ops_unrm_recover(struct rbd_conn *conn, struct catalog *cat,
		     struct catalog_operation *op, struct ops_recovery *report,
		     struct rc_error *err);
int ops_flatten_recover(struct rbd_conn *conn, struct catalog *cat,
			struct catalog_operation *op,
			const struct ops_events *ev,
			struct ops_recovery *report, struct rc_error *err);

/* Runs ev->switched, if any, after a commit that switched images. */
int ops_notify_switch(const struct ops_events *ev, const char *volume,
		      const struct rc_image_spec *old_image,
		      const struct rc_image_spec *new_image,
		      struct rc_error *err);

/*
 * The clone name rule: VOLUME.rcN (N the operation's id), or
 * VOLUME.rcN-K when an image that is not ours holds that name.
 * Whether name is one of volume's clone names.
 */
bool ops_is_clone_name(const char *volume, const char *name);

/*
 * Before snap or restore journal anything: the clients that have
 * volume's operating image open (ops/clients.c). The caller read volume
 * and operating in one transaction that found no operation of the volume
 * running; once clients are seen, the catalog is read again. None: 0. Some, and
 * opts->ignore_clients: 0, with their names in ignored (ignored_len
 * bytes; "" when there are none). Otherwise RC_IN_USE (err->in_use), with
 * one line naming each client and the ways forward. 0, leaving the
 * refusal to the journal (busy, or switched: look again), while another
 * rowcat is at work on the volume, whose own open would count.
 */
int ops_row_check_clients(struct rbd_conn *conn, struct catalog *cat,
			  const struct catalog_volume *volume,
			  const struct catalog_image *operating,
			  bool is_restore, const struct ops_row_options *opts,
			  char *ignored, size_t ignored_len,
			  struct rc_error *err);

/*
 * Whether an operation of volume_id is running: what a caller reads, with
 * its other reads in one read transaction (catalog_read_begin), to call
 * ops_recover_volume, which lists them again, only when there is one.
 */
int ops_volume_has_running(struct catalog *cat, int64_t volume_id,
			   bool *running, struct rc_error *err);

/*
 * What an operation on the operating image reads first, inside the
 * caller's read transaction: the volume named name, whether an operation
 * of it is running (*pending), and its operating image.
 */
int ops_volume_read_start(struct catalog *cat, const char *name,
			  struct catalog_volume *volume,
			  struct catalog_image *operating, bool *pending,
			  struct rc_error *err);

/*
 * Recovers the unfinished operations of one volume, as every mutating
 * command does before its own. -EBUSY, with a "volume is busy" message,
 * when a live rowcat holds one of them.
 */
int ops_recover_volume(struct rbd_conn *conn, struct catalog *cat,
		       const struct catalog_volume *volume,
		       const struct ops_events *ev,
		       struct ops_recovery *report, struct rc_error *err);

/*
 * Carries out the first max_steps (0: all) steps of plan, made with
 * opts->plan, jobs at a time. Each step is journalled only if a fresh plan
 * of its volume, made with opts->plan at the real clock (whatever
 * opts->plan.now says), still holds it; one that does not is skipped.
 * Busy and skipped steps are not failures.
 * Returns 0 when no step failed; otherwise the first failure, with a
 * count of them.
 */
int ops_gc_run(struct rbd_conn *conn, struct catalog *cat,
	       const struct catalog_gc_plan *plan, size_t max_steps,
	       const struct ops_gc_options *opts,
	       const struct ops_gc_events *ev,
	       struct ops_gc_report *report, struct rc_error *err);

/* ---- a live snap's guest (live.c) -------------------------------------- */

/*
 * The window in which a live snap's guest is paused: see live.c. One
 * ops_live per operation, used by the thread that runs it (and by its
 * own watchdog).
 */
struct ops_live;

/* Reaches the QEMU at `where` and finds the guest disk that reads image. */
int ops_live_open(const char *where, const struct rc_image_spec *image,
		  struct ops_live **out, struct rc_error *err);
const char *ops_live_format_node(const struct ops_live *live);
const char *ops_live_storage_node(const struct ops_live *live);

/*
 * Pauses the guest (*stopped: rowcat did; a guest paused already is left
 * as it is) and starts the watchdog that releases it after timeout_ms or
 * on SIGINT/SIGTERM.
 */
int ops_live_pause(struct ops_live *live, int64_t timeout_ms, bool *stopped,
		   struct rc_error *err);

/* -ECANCELED, saying why, once the watchdog released the guest. */
int ops_live_check(struct ops_live *live, struct rc_error *err);

/* Adds a storage node for clone and points the guest's disk at it. */
int ops_live_switch(struct ops_live *live, const struct rc_image_spec *clone,
		    const char *node_name, struct rc_error *err);

/* After the switch: deletes the old storage node and resumes the guest. */
int ops_live_resume(struct ops_live *live, struct rc_error *err);

/* Before the switch: deletes a new node, if added, and resumes the guest
 * on the image it was using. err may be NULL. */
int ops_live_abort(struct ops_live *live, struct rc_error *err);

/* The pause in milliseconds once it ended; -1 when not measured. */
int64_t ops_live_paused_ms(const struct ops_live *live);

/*
 * Recovery: reaches op's consumer again. *out stays NULL when no QEMU
 * listens there any more (the guest is gone).
 */
int ops_live_reattach(const struct catalog_operation *op,
		      struct ops_live **out, struct rc_error *err);
/* Whether the guest's format node reads node now. */
int ops_live_reads(struct ops_live *live, const char *node, bool *reads,
		   struct rc_error *err);
/* Tells a reattached window where the switch stands, so that resume or
 * abort finish it. */
void ops_live_recovered(struct ops_live *live, bool switched,
			const char *new_node);

/*
 * A window of the operator's hooks (opts->on_freeze, on_thaw, on_switch),
 * for a snap of volume from old_image to its clone new_image, run by
 * ev->run_hook (-ENOTSUP without one). ops_live_pause runs the freeze
 * (and, when it fails, the thaw), ops_live_check and the watchdog work as
 * for QEMU; ops_live_hold ends the watchdog's say before the commit;
 * ops_live_resume runs the switch hook, then the thaw; ops_live_abort
 * the thaw alone.
 */
int ops_live_open_hooks(const struct ops_events *ev, const char *volume,
			const struct ops_row_options *opts,
			const struct rc_image_spec *old_image,
			const struct rc_image_spec *new_image,
			struct ops_live **out, struct rc_error *err);
/* -ECANCELED, saying why, when the watchdog released the window; else
 * from now on it never does (the catalog switch is about to commit). */
int ops_live_hold(struct ops_live *live, struct rc_error *err);
/* Recovery: the window op's hooks recorded, frozen when op says a freeze
 * may have run (op->consumer.resume). */
int ops_live_reattach_hooks(const struct catalog_operation *op,
			    const struct ops_events *ev, const char *volume,
			    const struct rc_image_spec *old_image,
			    struct ops_live **out, struct rc_error *err);

void ops_live_close(struct ops_live *live);

/*
 * Prefixes err with what became of operation op_id, a `what` of volume
 * `name` that stopped half way: it stays in the journal for `rowcat
 * recover`; or, when this process lost its claim (-ESHUTDOWN: its lease
 * lapsed, or a host that took the operation over fenced it), it is that
 * host's now.
 */
int ops_interrupted(struct rc_error *err, const char *what, const char *name,
		    int64_t op_id);

/* A catalog in RADOS keeps its claims (leases) on the object NAME.claims
 * beside its database. */
#define OPS_CLAIMS_OBJECT_SUFFIX ".claims"

#endif
