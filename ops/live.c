/*
 * A live snap's guest: paused for the snapshot, switched to the clone,
 * resumed.
 *
 * QEMU's `stop` drains the guest's in-flight I/O before it answers, so
 * the snapshot taken while the guest is paused holds every write the
 * guest saw acknowledged. The guest must not run again on the image it
 * left before its disk reads the clone: a write that landed there after
 * the snapshot would be stranded on an image the volume no longer uses.
 * So the window closes one of two ways, and only these:
 *
 *   switched   the format node reads the clone; the old storage node is
 *              deleted (its watch and lock on the old image go), then the
 *              guest resumes on the clone
 *   released   the disk was not switched; a new storage node, if added,
 *              is deleted, and the guest resumes on the image it was
 *              using, which holds all its writes; the operation undoes
 *              its snapshot and clone
 *
 * A watchdog thread bounds the window: when the pause timeout passes, or
 * SIGINT or SIGTERM arrives, before the disk was switched, it releases
 * the guest at once, whatever librbd call the operation is blocked in;
 * the operation sees it at its next step (ops_live_check) and undoes
 * itself. The QMP connection is shared under `lock`, so the watchdog's
 * `cont` and the operation's switch never cross: whichever takes the lock
 * first decides how the window closes.
 *
 * The same window serves a consumer that is not QEMU, through the
 * operator's hooks (qmp NULL): the freeze hook opens it, the thaw hook
 * closes it. There is no disk to reopen: the switch is the catalog's, so
 * the window counts as switched once the operation holds it for its
 * commit (ops_live_hold), after which the watchdog leaves it alone; then
 * the switch hook repoints the consumer, and the thaw hook runs. A window
 * released before the hold is thawed on the image it was using.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rowcat/host.h"
#include "rowcat/qmp.h"
#include "rowcat/sys/failpoint.h"
#include "internal.h"

/* How long one monitor command may take to answer. */
#define QMP_COMMAND_TIMEOUT_MS 30000
/* How often the watchdog looks at the clock and the signal flag. */
#define WATCH_INTERVAL_MS 5

struct ops_live {
	struct qmp *qmp;
	struct qmp_disk disk;
	char where[CATALOG_CONSUMER_MAX];
	pthread_mutex_t lock;    /* the connection and everything below */
	pthread_cond_t changed;
	pthread_t watchdog;
	bool watching;
	bool signals_held;       /* SIGINT/SIGTERM taken for this window */
	bool paused;             /* rowcat stopped the guest, not resumed */
	bool switched;           /* the format node reads the new node */
	bool closing;            /* the window is over: watchdog, stop */
	char new_node[CATALOG_NODE_MAX]; /* added, not yet deleted */
	int release_code;        /* why the watchdog released: 0, -ETIME,
				    -EINTR */
	int release_signal;
	struct rc_error release_err; /* a failing `cont` of the watchdog */
	int64_t timeout_ms;
	int64_t paused_at_ms;
	int64_t paused_ms;
	/* the operator's hooks (qmp NULL), run by ev->run_hook */
	const struct ops_events *ev;
	char freeze[CATALOG_HOOK_MAX], thaw[CATALOG_HOOK_MAX];
	char switch_cmd[CATALOG_HOOK_MAX];
	char volume[RC_NAME_MAX];
	struct rc_image_spec old_image, new_image;
};

bool ops_consumer_elsewhere(const struct catalog_volume *volume,
			    char host[RC_HOST_MAX])
{
	char self[RC_HOST_MAX];

	host[0] = '\0';
	if (!volume->consumer[0] || !volume->consumer_host[0])
		return false;
	rc_host_name(self);
	if (strcmp(self, volume->consumer_host) == 0)
		return false;
	snprintf(host, RC_HOST_MAX, "%s", volume->consumer_host);
	return true;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one of the hooks, telling it the volume uses `operating`. */
static int run_hook(struct ops_live *live, const char *what, const char *cmd,
		    const struct rc_image_spec *operating, struct rc_error *err)
{
	struct ops_hook_env env = { live->volume, &live->old_image,
				    &live->new_image, operating };

	if (!live->ev || !live->ev->run_hook)
		return rc_error_set(err, -ENOTSUP, "this caller cannot run the "
				    "%s hook '%s'", what, cmd);
	return live->ev->run_hook(live->ev->ctx, what, cmd, &env, err);
}

/* The thaw hook, telling it the volume uses `operating`; the pause ends
 * with it, whatever it answers (it is not run again). */
static int thaw(struct ops_live *live, const struct rc_image_spec *operating,
		struct rc_error *err)
{
	int rc;

	RC_FAILPOINT("row.thaw.before");
	rc = run_hook(live, "thaw", live->thaw, operating, err);
	live->paused = false;
	if (live->paused_at_ms)
		live->paused_ms = monotonic_ms() - live->paused_at_ms;
	RC_FAILPOINT("row.thaw.after");
	return rc;
}

/* Adds a second failure to the message of the first. */
static void add_failure(struct rc_error *err, const char *fmt, ...)
{
	size_t len = strlen(err->message);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message + len, sizeof(err->message) - len, fmt, ap);
	va_end(ap);
}

/* ---- SIGINT and SIGTERM during a window -------------------------------- */

/*
 * While any window is open, SIGINT and SIGTERM only raise a flag that the
 * watchdogs read: the window closes as on a failure (the guest resumes on
 * its image), never as on a crash (the guest left paused). Outside a
 * window they do what they did before.
 */
static pthread_mutex_t signals_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned open_windows;
static struct sigaction saved_int, saved_term;
static volatile sig_atomic_t interrupted;

static void on_signal(int signo)
{
	interrupted = signo;
}

static void signals_take(void)
{
	struct sigaction sa;

	pthread_mutex_lock(&signals_lock);
	if (open_windows++ == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		interrupted = 0;
		sigaction(SIGINT, &sa, &saved_int);
		sigaction(SIGTERM, &sa, &saved_term);
	}
	pthread_mutex_unlock(&signals_lock);
}

/* A signal that arrived during a window, for the caller to act on once
 * the operation has settled (ops_live_interrupted). */
static volatile sig_atomic_t pending;

static void signals_give_back(void)
{
	pthread_mutex_lock(&signals_lock);
	if (--open_windows == 0) {
		sigaction(SIGINT, &saved_int, NULL);
		sigaction(SIGTERM, &saved_term, NULL);
		if (interrupted)
			pending = interrupted;
		interrupted = 0;
	}
	pthread_mutex_unlock(&signals_lock);
}

int ops_live_interrupted(void)
{
	return pending ? pending : interrupted;
}

/* ---- the watchdog ------------------------------------------------------ */

/* Resumes the guest on the image it was using; under live->lock. */
static void release_locked(struct ops_live *live, int code, int signo)
{
	live->release_code = code;
	live->release_signal = signo;
	if (!live->qmp) {
		thaw(live, &live->old_image, &live->release_err);
		rc_failpoint_wake_blocked();
		return;
	}
	if (live->new_node[0] &&
	    qmp_node_del(live->qmp, live->new_node, &live->release_err) == 0)
		live->new_node[0] = '\0';
	if (qmp_cont(live->qmp, &live->release_err) == 0) {
		live->paused = false;
		live->paused_ms = monotonic_ms() - live->paused_at_ms;
	}
	/* a test holding the operation at a :block failpoint goes on now */
	rc_failpoint_wake_blocked();
}

static void *watch(void *arg)
{
	struct ops_live *live = arg;
	struct timespec until;
	int64_t deadline = live->paused_at_ms + live->timeout_ms;

	pthread_mutex_lock(&live->lock);
	while (!live->closing) {
		int signo = interrupted;

		if (!live->switched && live->paused &&
		    (signo || monotonic_ms() >= deadline)) {
			release_locked(live, signo ? -EINTR : -ETIME, signo);
			break;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WATCH_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&live->changed, &live->lock, &until);
	}
	pthread_mutex_unlock(&live->lock);
	return NULL;
}

/* ---- the window -------------------------------------------------------- */

static void close_window(struct ops_live *live);

/* A window not yet open, for the consumer at where; NULL: no memory. */
static struct ops_live *window_new(const char *where)
{
	struct ops_live *live = calloc(1, sizeof(*live));

	if (!live)
		return NULL;
	pthread_mutex_init(&live->lock, NULL);
	pthread_cond_init(&live->changed, NULL);
	snprintf(live->where, sizeof(live->where), "%s", where);
	live->paused_ms = -1;
	return live;
}

int ops_live_open(const char *where, const struct rc_image_spec *image,
		  struct ops_live **out, struct rc_error *err)
{
	struct ops_live *live = window_new(where);
	int rc;

	*out = NULL;
	if (!live)
		return rc_error_set(err, -ENOMEM, "out of memory");
	rc = qmp_open(where, QMP_COMMAND_TIMEOUT_MS, &live->qmp, err);
	if (rc == 0)
		rc = qmp_disk_find(live->qmp, image, &live->disk, err);
	if (rc < 0) {
		ops_live_close(live);
		return rc;
	}
	*out = live;
	return 0;
}

const char *ops_live_format_node(const struct ops_live *live)
{
	return live->disk.format_node;
}

const char *ops_live_storage_node(const struct ops_live *live)
{
	return live->disk.storage_node;
}

int64_t ops_live_paused_ms(const struct ops_live *live)
{
	return live->paused_ms;
}

/* Starts the thread that bounds the window (live->paused); without it,
 * the window closes at once. */
static int start_watchdog(struct ops_live *live, struct rc_error *err)
{
	int rc;

	if (pthread_create(&live->watchdog, NULL, watch, live) == 0) {
		live->watching = true;
		return 0;
	}
	/* no bound on the window without its watchdog: resume at once */
	rc = rc_error_set(err, -EAGAIN, "cannot start the thread that bounds "
			  "the %s's pause; it was %s", live->qmp ? "guest"
			  : "consumer", live->qmp ? "resumed" : "thawed");
	ops_live_abort(live, NULL);
	return rc;
}

/*
 * The hooks' pause: the freeze hook, bounded by the hook timeout; the
 * window's own bound counts from its start. A freeze that failed may
 * have frozen part of the consumer: the thaw runs at once.
 */
static int freeze(struct ops_live *live, int64_t timeout_ms, bool *stopped,
		  struct rc_error *err)
{
	struct rc_error thaw_err = {0};
	int rc;

	live->timeout_ms = timeout_ms;
	signals_take();
	live->paused = true;
	*stopped = true;
	live->paused_at_ms = monotonic_ms();
	rc = run_hook(live, "freeze", live->freeze, &live->old_image, err);
	if (rc == 0)
		return start_watchdog(live, err);
	if (thaw(live, &live->old_image, &thaw_err) < 0)
		add_failure(err, "; then %s", thaw_err.message);
	else
		add_failure(err, "; the thaw hook ran");
	signals_give_back();
	return rc;
}

int ops_live_pause(struct ops_live *live, int64_t timeout_ms, bool *stopped,
		   struct rc_error *err)
{
	char status[32];
	bool running = false;
	int rc;

	*stopped = false;
	if (!live->qmp)
		return freeze(live, timeout_ms, stopped, err);
	rc = qmp_query_status(live->qmp, &running, status, err);
	if (rc < 0)
		return rc;
	if (!running) {
		/* paused by someone else: it has no I/O in flight, and it is
		 * theirs to resume */
		live->paused_ms = 0;
		return 0;
	}
	live->timeout_ms = timeout_ms;
	signals_take();
	live->signals_held = true;
	rc = qmp_stop(live->qmp, err);
	if (rc < 0) {
		close_window(live);
		return rc;
	}
	live->paused = true;
	*stopped = true;
	live->paused_at_ms = monotonic_ms();
	return start_watchdog(live, err);
}

int ops_live_check(struct ops_live *live, struct rc_error *err)
{
	int rc = 0;

	const char *who = live->qmp ? "guest" : "consumer";
	const char *how = live->qmp ? "paused" : "frozen";
	const char *after = live->qmp ? "it runs again on the image it was using"
				      : "it was thawed on the image it was using";

	pthread_mutex_lock(&live->lock);
	if (live->release_code == -ETIME)
		rc = rc_error_set(err, -ECANCELED, "the %s was %s for longer "
				  "than the pause timeout (%.1f s), so %s", who,
				  how, (double)live->timeout_ms / 1000, after);
	else if (live->release_code == -EINTR)
		rc = rc_error_set(err, -ECANCELED, "interrupted by %s while the "
				  "%s was %s; %s", strsignal(live->release_signal),
				  who, how, after);
	if (rc < 0 && live->release_err.code)
		rc_error_prefix(err, "%s it failed (%s): ",
				live->qmp ? "resuming" : "thawing",
				live->release_err.message);
	pthread_mutex_unlock(&live->lock);
	return rc;
}

int ops_live_switch(struct ops_live *live, const struct rc_image_spec *clone,
		    const char *node_name, struct rc_error *err)
{
	int rc;

	pthread_mutex_lock(&live->lock);
	rc = live->release_code ? -ECANCELED : 0;
	if (rc == 0) {
		/* kept on failure too: QEMU may have added the node and then
		 * not answered, and deleting a node that is not there is
		 * harmless */
		snprintf(live->new_node, sizeof(live->new_node), "%s", node_name);
		rc = qmp_disk_add_storage(live->qmp, &live->disk, clone,
					  node_name, err);
	}
	if (rc == 0)
		rc = qmp_disk_reopen(live->qmp, &live->disk, node_name, err);
	if (rc == 0)
		live->switched = true;
	pthread_mutex_unlock(&live->lock);
	if (rc == -ECANCELED && !err->code)
		rc = ops_live_check(live, err);
	return rc;
}

/* Ends the watchdog and gives the signals back; the window is over. */
static void close_window(struct ops_live *live)
{
	if (live->watching) {
		pthread_mutex_lock(&live->lock);
		live->closing = true;
		pthread_cond_broadcast(&live->changed);
		pthread_mutex_unlock(&live->lock);
		pthread_join(live->watchdog, NULL);
		live->watching = false;
	}
	if (live->signals_held) {
		live->signals_held = false;
		signals_give_back();
	}
}

/* The hooks after the commit: the switch hook repoints the consumer (its
 * failure leaves the switch standing), then the thaw runs, whatever the
 * switch hook did. */
static int switch_and_thaw(struct ops_live *live, struct rc_error *err)
{
	struct rc_error thaw_err = {0};
	char text[RC_SPEC_MAX];
	int rc = 0;

	pthread_mutex_lock(&live->lock);
	if (live->switch_cmd[0]) {
		RC_FAILPOINT("row.switch-hook.before");
		rc = run_hook(live, "switch", live->switch_cmd, &live->new_image,
			      err);
		if (rc == 0)
			RC_FAILPOINT("row.switch-hook.after");
	}
	if (live->paused && thaw(live, &live->new_image, &thaw_err) < 0) {
		if (rc < 0)
			add_failure(err, "; and %s", thaw_err.message);
		else
			*err = thaw_err;
		rc = -ECANCELED;
	}
	pthread_mutex_unlock(&live->lock);
	if (rc < 0) {
		rc_image_spec_format(&live->new_image, text, sizeof(text));
		rc_error_prefix(err, "volume '%s' switched to %s, but ",
				live->volume, text);
	}
	close_window(live);
	return rc;
}

int ops_live_resume(struct ops_live *live, struct rc_error *err)
{
	int rc = 0;

	if (!live->qmp)
		return switch_and_thaw(live, err);
	pthread_mutex_lock(&live->lock);
	/* the old node holds the old image open (its watch, its lock) */
	if (live->switched)
		rc = qmp_node_del(live->qmp, live->disk.storage_node, err);
	if (rc == 0 && live->paused) {
		rc = qmp_cont(live->qmp, err);
		if (rc == 0) {
			live->paused = false;
			if (live->paused_at_ms)
				live->paused_ms = monotonic_ms() -
						  live->paused_at_ms;
		}
	}
	pthread_mutex_unlock(&live->lock);
	close_window(live);
	return rc;
}

int ops_live_abort(struct ops_live *live, struct rc_error *err)
{
	struct rc_error own = {0};
	int rc = 0;

	if (!err)
		err = &own;
	pthread_mutex_lock(&live->lock);
	if (!live->qmp) {
		if (live->paused)
			rc = thaw(live, &live->old_image, err);
		pthread_mutex_unlock(&live->lock);
		close_window(live);
		return rc;
	}
	if (!live->switched && live->new_node[0]) {
		rc = qmp_node_del(live->qmp, live->new_node, err);
		if (rc == 0)
			live->new_node[0] = '\0';
	}
	if (live->paused) {
		int cont_rc = qmp_cont(live->qmp, rc < 0 ? &own : err);
		if (cont_rc == 0) {
			live->paused = false;
			if (live->paused_at_ms)
				live->paused_ms = monotonic_ms() -
						  live->paused_at_ms;
		}
		if (rc == 0)
			rc = cont_rc;
	}
	pthread_mutex_unlock(&live->lock);
	close_window(live);
	return rc;
}

int ops_live_reattach(const struct catalog_operation *op,
		      struct ops_live **out, struct rc_error *err)
{
	struct ops_live *live = window_new(op->consumer.where);
	int rc;

	*out = NULL;
	if (!live)
		return rc_error_set(err, -ENOMEM, "out of memory");
	snprintf(live->disk.format_node, sizeof(live->disk.format_node), "%s",
		 op->consumer.format_node);
	snprintf(live->disk.storage_node, sizeof(live->disk.storage_node), "%s",
		 op->consumer.storage_node);
	rc = qmp_open(op->consumer.where, QMP_COMMAND_TIMEOUT_MS, &live->qmp, err);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		/* no QEMU listens there any more: the guest is gone */
		rc_error_clear(err);
		ops_live_close(live);
		return 0;
	}
	if (rc < 0) {
		ops_live_close(live);
		return rc;
	}
	/* whether rowcat paused it is all the journal can say; the pause
	 * itself was not measured to its end */
	live->paused = op->consumer.resume;
	*out = live;
	return 0;
}

int ops_live_reads(struct ops_live *live, const char *node, bool *reads,
		   struct rc_error *err)
{
	char child[QMP_NODE_MAX];
	int rc = qmp_format_child(live->qmp, live->disk.format_node, child, err);

	*reads = rc == 0 && strcmp(child, node) == 0;
	if (rc == -ENOENT) {
		/* the guest's disk is gone (unplugged): it reads neither */
		rc_error_clear(err);
		rc = 0;
	}
	return rc;
}

void ops_live_recovered(struct ops_live *live, bool switched,
			const char *new_node)
{
	live->switched = switched;
	if (!switched)
		snprintf(live->new_node, sizeof(live->new_node), "%s", new_node);
}

int ops_live_hold(struct ops_live *live, struct rc_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&live->lock);
	if (live->release_code)
		rc = -ECANCELED;
	else
		live->switched = true;
	pthread_mutex_unlock(&live->lock);
	return rc < 0 ? ops_live_check(live, err) : 0;
}

/* A window of the operator's hooks, not yet open. */
static struct ops_live *hooks_window(const struct ops_events *ev,
				     const char *volume, const char *thaw_cmd,
				     const char *switch_cmd,
				     const struct rc_image_spec *old_image,
				     const struct rc_image_spec *new_image)
{
	struct ops_live *live = window_new("");

	if (!live)
		return NULL;
	live->ev = ev;
	snprintf(live->volume, sizeof(live->volume), "%s", volume);
	snprintf(live->thaw, sizeof(live->thaw), "%s", thaw_cmd);
	snprintf(live->switch_cmd, sizeof(live->switch_cmd), "%s",
		 switch_cmd ? switch_cmd : "");
	live->old_image = *old_image;
	live->new_image = *new_image;
	return live;
}

int ops_live_open_hooks(const struct ops_events *ev, const char *volume,
			const struct ops_row_options *opts,
			const struct rc_image_spec *old_image,
			const struct rc_image_spec *new_image,
			struct ops_live **out, struct rc_error *err)
{
	*out = NULL;
	if (!ev || !ev->run_hook)
		return rc_error_set(err, -ENOTSUP, "this caller cannot run the "
				    "freeze and thaw hooks");
	*out = hooks_window(ev, volume, opts->on_thaw, opts->on_switch,
			    old_image, new_image);
	if (!*out)
		return rc_error_set(err, -ENOMEM, "out of memory");
	snprintf((*out)->freeze, sizeof((*out)->freeze), "%s", opts->on_freeze);
	return 0;
}

int ops_live_reattach_hooks(const struct catalog_operation *op,
			    const struct ops_events *ev, const char *volume,
			    const struct rc_image_spec *old_image,
			    struct ops_live **out, struct rc_error *err)
{
	*out = NULL;
	if (!ev || !ev->run_hook)
		return rc_error_set(err, -ENOTSUP, "operation %lld may have "
				    "frozen its consumer, and this caller cannot "
				    "run its thaw hook '%s'", (long long)op->id,
				    op->consumer.thaw);
	*out = hooks_window(ev, volume, op->consumer.thaw,
			    op->consumer.switch_cmd, old_image, &op->target);
	if (!*out)
		return rc_error_set(err, -ENOMEM, "out of memory");
	(*out)->paused = op->consumer.resume;
	return 0;
}

void ops_live_close(struct ops_live *live)
{
	if (!live)
		return;
	close_window(live);
	qmp_disk_release(&live->disk);
	qmp_close(live->qmp);
	pthread_cond_destroy(&live->changed);
	pthread_mutex_destroy(&live->lock);
	free(live);
}
