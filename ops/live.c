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
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
};

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

int ops_live_open(const char *where, const struct rc_image_spec *image,
		  struct ops_live **out, struct rc_error *err)
{
	struct ops_live *live = calloc(1, sizeof(*live));
	int rc;

	*out = NULL;
	if (!live)
		return rc_error_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&live->lock, NULL);
	pthread_cond_init(&live->changed, NULL);
	snprintf(live->where, sizeof(live->where), "%s", where);
	live->paused_ms = -1;
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

int ops_live_pause(struct ops_live *live, int64_t timeout_ms, bool *stopped,
		   struct rc_error *err)
{
	char status[32];
	bool running = false;
	int rc;

	*stopped = false;
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
	if (pthread_create(&live->watchdog, NULL, watch, live) == 0) {
		live->watching = true;
		return 0;
	}
	/* no bound on the window without its watchdog: resume at once */
	rc = rc_error_set(err, -EAGAIN, "cannot start the thread that bounds "
			  "the guest's pause; it was resumed");
	ops_live_abort(live, NULL);
	return rc;
}

int ops_live_check(struct ops_live *live, struct rc_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&live->lock);
	if (live->release_code == -ETIME)
		rc = rc_error_set(err, -ECANCELED, "the guest was paused for "
				  "longer than the pause timeout (%.1f s), so "
				  "it runs again on the image it was using",
				  (double)live->timeout_ms / 1000);
	else if (live->release_code == -EINTR)
		rc = rc_error_set(err, -ECANCELED, "interrupted by %s while the "
				  "guest was paused; it runs again on the image "
				  "it was using", strsignal(live->release_signal));
	if (rc < 0 && live->release_err.code)
		rc_error_prefix(err, "resuming it failed (%s): ",
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

int ops_live_resume(struct ops_live *live, struct rc_error *err)
{
	int rc = 0;

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
	struct ops_live *live = calloc(1, sizeof(*live));
	int rc;

	*out = NULL;
	if (!live)
		return rc_error_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&live->lock, NULL);
	pthread_cond_init(&live->changed, NULL);
	snprintf(live->where, sizeof(live->where), "%s", op->consumer.where);
	snprintf(live->disk.format_node, sizeof(live->disk.format_node), "%s",
		 op->consumer.format_node);
	snprintf(live->disk.storage_node, sizeof(live->disk.storage_node), "%s",
		 op->consumer.storage_node);
	live->paused_ms = -1;
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
