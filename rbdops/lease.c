/*
 * Leases: exclusive cls locks with an expiry, renewed by one thread, and
 * the fencing of a holder that stopped renewing (include/rowcat/rbdops.h
 * says what they promise).
 *
 * The held set is shared by the caller's threads (--jobs workers take and
 * drop leases) and the renewal thread, under one mutex that is never held
 * across a request to the cluster: a slow OSD must not stall a worker's
 * take behind a renewal. The renewal thread works on a copy of the set,
 * and an entry's generation tells it, when the answer comes, whether the
 * lease it renewed is still the one held (not dropped, or dropped and
 * taken again, meanwhile). Renewing with LIBRADOS_LOCK_FLAG_MUST_RENEW
 * never brings back a lease dropped under it: cls_lock answers -ENOENT.
 *
 *   take ──> held ──renewal ok──> held
 *              │ renewal fails, or none for lease_s
 *              v
 *            lost (for good: the process may write nothing more)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "rowcat/clock.h"

struct held_lease {
	char name[RBDOPS_LEASE_NAME_MAX];
	uint64_t generation;
	struct timespec renewed; /* CLOCK_MONOTONIC, when the last good
				    take or renewal was sent: the OSD's
				    expiry is at least lease_s after it */
};

struct rbd_leases {
	struct rbd_conn *conn; /* borrowed */
	rados_ioctx_t io;
	char where[RC_NAME_MAX * 3 + 4]; /* "pool[/ns]/oid", for messages */
	char oid[RC_NAME_MAX * 2];
	char cookie[RBDOPS_COOKIE_MAX];
	char entity[RBDOPS_ENTITY_MAX]; /* our instance, "client.4463" */
	char host[RBDOPS_HOST_MAX];
	char rados_addr[RBDOPS_ADDR_MAX];
	char vfs_addr[RBDOPS_ADDR_MAX];
	long pid;
	int lease_s;

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t wake;
	bool stopping;
	struct held_lease *held;
	size_t count, capacity;
	uint64_t generations;
	bool lost;
	char lost_why[RC_ERROR_MESSAGE_MAX];

	pthread_t renewer;
	bool renewer_started;
};

/* ---- the description ---- */

static bool plain_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("._-:/[],", c) != NULL;
}

/* Appends "key=" and value, percent-encoded, to buf at *used. */
static bool put_field(char *buf, size_t len, size_t *used, const char *key,
		      const char *value)
{
	int n = snprintf(buf + *used, len - *used, "%s%s=", *used ? ";" : "",
			 key);

	if (n < 0 || (size_t)n >= len - *used)
		return false;
	*used += (size_t)n;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (len - *used < 4)
			return false;
		if (plain_byte(*p))
			buf[(*used)++] = (char)*p;
		else
			*used += (size_t)snprintf(buf + *used, 4, "%%%02X", *p);
	}
	buf[*used] = '\0';
	return true;
}

int rbdops_lease_desc_format(char *buf, size_t len, const char *host, long pid,
			     const char *rados_addr, const char *vfs_addr,
			     int lease_s, int64_t renewed_at)
{
	char pid_text[24], lease_text[16], renewed_text[24];
	size_t used = 0;

	snprintf(pid_text, sizeof(pid_text), "%ld", pid);
	snprintf(lease_text, sizeof(lease_text), "%d", lease_s);
	snprintf(renewed_text, sizeof(renewed_text), "%" PRId64, renewed_at);
	if (len == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if (!put_field(buf, len, &used, "host", host) ||
	    !put_field(buf, len, &used, "pid", pid_text) ||
	    !put_field(buf, len, &used, "rados", rados_addr ? rados_addr : "") ||
	    !put_field(buf, len, &used, "vfs", vfs_addr ? vfs_addr : "") ||
	    !put_field(buf, len, &used, "lease", lease_text) ||
	    !put_field(buf, len, &used, "renewed", renewed_text))
		return -ENAMETOOLONG;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the n bytes at value into out (len bytes), cut to fit; a stray
 * '%' is kept as it is. */
static void decode_value(const char *value, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++) {
		int hi, lo;

		if (value[i] == '%' && i + 2 < n &&
		    (hi = hex_value(value[i + 1])) >= 0 &&
		    (lo = hex_value(value[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = value[i];
		}
	}
	out[o] = '\0';
}

bool rbdops_lease_desc_parse(const char *desc, struct rbdops_lease_holder *out)
{
	bool ours = false;

	for (const char *p = desc; *p;) {
		size_t field = strcspn(p, ";");
		const char *eq = memchr(p, '=', field);
		char number[32];

		if (eq) {
			size_t key = (size_t)(eq - p), n = field - key - 1;
			const char *value = eq + 1;

			if (key == 4 && strncmp(p, "host", 4) == 0) {
				decode_value(value, n, out->host,
					     sizeof(out->host));
				ours = true;
			} else if (key == 5 && strncmp(p, "rados", 5) == 0) {
				char addr[RBDOPS_ADDR_MAX];

				decode_value(value, n, addr, sizeof(addr));
				if (addr[0] && !out->rados_addr[0])
					snprintf(out->rados_addr,
						 sizeof(out->rados_addr), "%s",
						 addr);
			} else if (key == 3 && strncmp(p, "vfs", 3) == 0) {
				decode_value(value, n, out->vfs_addr,
					     sizeof(out->vfs_addr));
			} else if (key == 3 && strncmp(p, "pid", 3) == 0) {
				decode_value(value, n, number, sizeof(number));
				out->pid = strtol(number, NULL, 10);
			} else if (key == 5 && strncmp(p, "lease", 5) == 0) {
				decode_value(value, n, number, sizeof(number));
				out->lease_s = (int)strtol(number, NULL, 10);
			} else if (key == 7 && strncmp(p, "renewed", 7) == 0) {
				decode_value(value, n, number, sizeof(number));
				out->renewed_at = strtoll(number, NULL, 10);
			}
		}
		p += field;
		if (*p == ';')
			p++;
	}
	return ours;
}

/* ---- reading a lock ---- */

/* rbdops_cls_lock_info's each: the first holder, the one an exclusive
 * lock has. */
static int first_holder(const struct cls_locker *locker, void *arg)
{
	struct rbdops_lease_holder *out = arg;

	snprintf(out->entity, sizeof(out->entity), "%s", locker->entity);
	/* another tool's cookie may be longer than ours: cut to fit */
	snprintf(out->cookie, sizeof(out->cookie), "%.*s",
		 (int)sizeof(out->cookie) - 1, locker->cookie);
	snprintf(out->rados_addr, sizeof(out->rados_addr), "%s", locker->addr);
	out->expires_at = locker->expires_at;
	rbdops_lease_desc_parse(locker->description, out);
	return 1;
}

/* The holder of lock name, which the OSD says with description and expiry
 * only in cls_lock's get_info (rados_list_lockers gives neither). */
static int read_holder(struct rbd_leases *l, const char *name, bool *held,
		       struct rbdops_lease_holder *out, struct rc_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rbdops_cls_lock_info(l->io, l->oid, name, first_holder, out);
	*held = rc == 0 && out->entity[0];
	if (rc == -ENOENT) /* no object: nothing was ever locked on it */
		return 0;
	if (rc == -EPROTO)
		return rc_error_set(err, -EPROTO, "reading lease '%s' on %s: "
				    "the OSD's answer is not cls_lock's "
				    "get_info reply as Ceph 16 sends it",
				    name, l->where);
	if (rc < 0)
		return rbdops_fail(err, rc, "reading lease '%s' on %s", name,
				   l->where);
	out->ours = *held && strcmp(out->entity, l->entity) == 0 &&
		    strcmp(out->cookie, l->cookie) == 0;
	return 0;
}

void rbdops_lease_holder_format(const struct rbdops_lease_holder *h,
				char *buf, size_t len)
{
	char when[RC_ISO_TIME_MAX] = "", who[RBDOPS_HOST_MAX + 32];

	if (h->host[0] && h->pid)
		snprintf(who, sizeof(who), "host %s (pid %ld, ", h->host, h->pid);
	else if (h->host[0])
		snprintf(who, sizeof(who), "host %s (", h->host);
	else
		snprintf(who, sizeof(who), "(");
	if (h->expires_at)
		rc_time_format_iso(h->expires_at, when);
	else if (h->renewed_at && h->lease_s)
		rc_time_format_iso(h->renewed_at + h->lease_s, when);
	snprintf(buf, len, "%s%s%s%s)%s%s%s", who, h->entity,
		 h->rados_addr[0] ? " at " : "", h->rados_addr,
		 when[0] ? " until " : "", when,
		 when[0] ? " unless renewed" : ", without expiry");
}

/* ---- the held set (callers hold l->mu) ---- */

static struct held_lease *find_held(struct rbd_leases *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->held[i].name, name) == 0)
			return &l->held[i];
	return NULL;
}

static void now_monotonic(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static double seconds_since(const struct timespec *then)
{
	struct timespec now;

	now_monotonic(&now);
	return (double)(now.tv_sec - then->tv_sec) +
	       (double)(now.tv_nsec - then->tv_nsec) / 1e9;
}

/* Why a renewal's answer means the lease is gone. */
static const char *loss_reason(int code)
{
	switch (code) {
	case -ENOENT:
		return "it expired or was broken: another host may have "
		       "taken over";
	case -ESHUTDOWN: /* EBLOCKLISTED */
		return "this client is blocklisted: another host fenced it";
	case -EBUSY:
		return "another client holds it";
	case -ETIMEDOUT:
		return "the cluster did not answer in time";
	default:
		return NULL;
	}
}

/* Marks the leases lost, for good, with why (cut to fit). */
static void set_lost(struct rbd_leases *l, const char *fmt, ...) RC_PRINTF(2, 3);

static void set_lost(struct rbd_leases *l, const char *fmt, ...)
{
	va_list ap;

	l->lost = true;
	va_start(ap, fmt);
	vsnprintf(l->lost_why, sizeof(l->lost_why), fmt, ap);
	va_end(ap);
}

static void mark_lost(struct rbd_leases *l, const char *name, int code)
{
	const char *why = loss_reason(code);

	if (l->lost)
		return;
	set_lost(l, "lease '%s' on %s is lost: renewing it failed: %s%s%s%s; "
		    "this process must write nothing more", name, l->where,
		    strerror(-code), why ? " (" : "", why ? why : "",
		    why ? ")" : "");
}

static int lost_error(struct rbd_leases *l, struct rc_error *err)
{
	return rc_error_set(err, -ESHUTDOWN, "%s", l->lost_why);
}

/* ---- taking and renewing ---- */

static int lock_once(struct rbd_leases *l, const char *name, uint8_t flags)
{
	struct timeval duration = {l->lease_s, 0};
	char desc[1024];
	int rc = rbdops_lease_desc_format(desc, sizeof(desc), l->host, l->pid,
					  l->rados_addr, l->vfs_addr,
					  l->lease_s, rc_clock_now());

	if (rc < 0)
		return rc;
	return rados_lock_exclusive(l->io, l->oid, name, l->cookie, desc,
				    &duration, flags);
}

static int valid_name(const char *name, struct rc_error *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= RBDOPS_LEASE_NAME_MAX ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-:") != n)
		return rc_error_usage(err, "lease name '%s': 1 to %d letters, "
				      "digits and . _ - :", name ? name : "",
				      RBDOPS_LEASE_NAME_MAX - 1);
	return 0;
}

int rbdops_lease_take(struct rbd_leases *l, const char *name,
		      struct rc_error *err)
{
	struct rbdops_lease_holder holder;
	struct held_lease *entry;
	struct timespec sent;
	char who[RC_ERROR_MESSAGE_MAX];
	bool mine, held;
	int rc;

	rc = valid_name(name, err);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&l->mu);
	mine = find_held(l, name) != NULL;
	rc = l->lost ? lost_error(l, err) : 0;
	pthread_mutex_unlock(&l->mu);
	if (rc < 0)
		goto out;

	now_monotonic(&sent);
	/* one of ours is renewed, never taken afresh: a lease that expired
	 * under us was lost, even when nobody took it meanwhile */
	rc = lock_once(l, name, mine ? LIBRADOS_LOCK_FLAG_MUST_RENEW : 0);
	if (rc == -EEXIST) /* ours already (another thread, or a drop whose
			      unlock failed): renew it, which moves its end */
		rc = lock_once(l, name, LIBRADOS_LOCK_FLAG_MUST_RENEW);
	if (rc == -EBUSY) {
		if (read_holder(l, name, &held, &holder, err) == 0 && held) {
			rbdops_lease_holder_format(&holder, who, sizeof(who));
			rc = rc_error_set(err, -EBUSY, "lease '%s' on %s is "
					  "held by %s", name, l->where, who);
		} else {
			rc = rc_error_set(err, -EBUSY, "lease '%s' on %s is "
					  "held by another client", name,
					  l->where);
		}
		goto out;
	}
	if (rc < 0 && mine) {
		pthread_mutex_lock(&l->mu);
		mark_lost(l, name, rc);
		rc = lost_error(l, err);
		pthread_mutex_unlock(&l->mu);
		goto out;
	}
	if (rc == -ENAMETOOLONG) {
		rc = rc_error_set(err, rc, "lease '%s': the holder's "
				  "description does not fit", name);
		goto out;
	}
	if (rc < 0) {
		rc = rbdops_fail(err, rc, "taking lease '%s' on %s", name,
				 l->where);
		goto out;
	}

	pthread_mutex_lock(&l->mu);
	entry = find_held(l, name);
	if (!entry && l->count == l->capacity) {
		size_t capacity = l->capacity ? l->capacity * 2 : 8;
		struct held_lease *grown =
			realloc(l->held, capacity * sizeof(*grown));

		if (grown) {
			l->held = grown;
			l->capacity = capacity;
		}
	}
	if (!entry && l->count < l->capacity) {
		entry = &l->held[l->count++];
		snprintf(entry->name, sizeof(entry->name), "%s", name);
		entry->generation = ++l->generations;
	}
	if (entry)
		entry->renewed = sent;
	pthread_mutex_unlock(&l->mu);
	if (!entry) {
		/* not renewed, so it must not stay held either */
		rbdops_cls_unlock(l->io, l->oid, name, l->cookie);
		rc = rc_error_set(err, -ENOMEM, "out of memory");
	}
out:
	return rc;
}

void rbdops_lease_drop(struct rbd_leases *l, const char *name)
{
	struct held_lease *entry;
	bool mine;

	if (!l || !name)
		return;
	pthread_mutex_lock(&l->mu);
	entry = find_held(l, name);
	mine = entry != NULL;
	if (entry)
		*entry = l->held[--l->count];
	pthread_mutex_unlock(&l->mu);
	if (mine)
		rbdops_cls_unlock(l->io, l->oid, name, l->cookie);
}

int rbdops_lease_holder(struct rbd_leases *l, const char *name,
			struct rbdops_lease_holder *out, struct rc_error *err)
{
	bool held;
	int rc = valid_name(name, err);

	if (rc < 0)
		return rc;
	rc = read_holder(l, name, &held, out, err);
	if (rc == 0 && !held)
		rc = rc_error_set(err, -ENOENT, "nobody holds lease '%s' on %s",
				  name, l->where);
	return rc;
}

int rbdops_leases_check(struct rbd_leases *l, struct rc_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; !l->lost && i < l->count; i++) {
		double age = seconds_since(&l->held[i].renewed);

		/* the OSD may drop it from now on: by its clock the lease
		 * runs lease_s from when it got our request, after we sent
		 * it */
		if (age >= l->lease_s)
			set_lost(l, "lease '%s' on %s is lost: not renewed "
				    "for %.0f s (the cluster did not answer), "
				    "so another host may have taken over; "
				    "this process must write nothing more",
				    l->held[i].name, l->where, age);
	}
	if (l->lost)
		rc = lost_error(l, err);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* ---- the renewal thread ---- */

static void renew_all(struct rbd_leases *l)
{
	struct held_lease *copy = NULL;
	size_t count;

	pthread_mutex_lock(&l->mu);
	count = l->lost ? 0 : l->count;
	if (count && (copy = malloc(count * sizeof(*copy))))
		memcpy(copy, l->held, count * sizeof(*copy));
	pthread_mutex_unlock(&l->mu);
	if (!copy) /* nothing held; or no memory: tried again next round,
		      and rbdops_leases_check notices if that goes on */
		return;
	for (size_t i = 0; i < count; i++) {
		struct held_lease *entry;
		struct timespec sent;
		int rc;

		now_monotonic(&sent);
		rc = lock_once(l, copy[i].name, LIBRADOS_LOCK_FLAG_MUST_RENEW);
		pthread_mutex_lock(&l->mu);
		entry = find_held(l, copy[i].name);
		/* a lease dropped (or dropped and taken again) while we
		 * renewed it is not ours to judge */
		if (entry && entry->generation == copy[i].generation) {
			if (rc == 0)
				entry->renewed = sent;
			else
				mark_lost(l, entry->name, rc);
		}
		pthread_mutex_unlock(&l->mu);
	}
	free(copy);
}

static void *renewer_main(void *arg)
{
	struct rbd_leases *l = arg;
	long interval_ms = l->lease_s * 1000L / 3;

	pthread_mutex_lock(&l->mu);
	while (!l->stopping) {
		struct timespec deadline;

		now_monotonic(&deadline);
		deadline.tv_sec += interval_ms / 1000;
		deadline.tv_nsec += (interval_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (!l->stopping &&
		       pthread_cond_timedwait(&l->wake, &l->mu, &deadline) !=
			       ETIMEDOUT)
			;
		/* a lost lease stops every renewal, as the SQLite VFS's
		 * lock keeper does: the process is to end, and its other
		 * leases then expire for others to take */
		if (l->stopping || l->lost)
			continue;
		pthread_mutex_unlock(&l->mu);
		renew_all(l);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* ---- open, fence, close ---- */

int rbdops_conn_addr(struct rbd_conn *conn, char *buf, size_t len,
		     struct rc_error *err)
{
	char *addrs = NULL;
	int rc = rados_getaddrs(conn->cluster, &addrs);

	if (rc < 0)
		return rbdops_fail(err, rc, "reading the address of %s",
				   conn->entity);
	if ((size_t)snprintf(buf, len, "%s", addrs) >= len)
		rc = rc_error_set(err, -ENAMETOOLONG, "the address of %s is "
				  "too long: %s", conn->entity, addrs);
	rados_buffer_free(addrs);
	return rc;
}

/* 16 random bytes as hex: the cookie that tells this holder from any
 * other process, or earlier open, on the same client instance. */
static int draw_cookie(char *out, size_t len, struct rc_error *err)
{
	unsigned char bytes[16];
	ssize_t got = getrandom(bytes, sizeof(bytes), 0);

	if (got != (ssize_t)sizeof(bytes)) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		got = fd < 0 ? -1 : read(fd, bytes, sizeof(bytes));
		if (fd >= 0)
			close(fd);
		if (got != (ssize_t)sizeof(bytes))
			return rc_error_set(err, -EIO, "no random bytes for "
					    "a lease cookie: %s",
					    strerror(errno ? errno : EIO));
	}
	for (size_t i = 0; i < sizeof(bytes) && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

int rbdops_leases_open(struct rbd_leases **out, struct rbd_conn *conn,
		       const char *pool, const char *ns, const char *oid,
		       const char *host, const char *vfs_addr, int lease_s,
		       struct rc_error *err)
{
	struct rbd_leases *l = NULL;
	pthread_condattr_t attr;
	bool attr_made = false, mu_made = false, wake_made = false;
	int rc = 0;

	*out = NULL;
	ns = ns ? ns : "";
	if (!oid || !oid[0] || strlen(oid) >= sizeof(l->oid)) {
		rc = rc_error_usage(err, "lease object name '%s': 1 to %zu "
				    "characters", oid ? oid : "",
				    sizeof(l->oid) - 1);
		goto out;
	}
	if (lease_s < RBDOPS_LEASE_MIN_SECONDS ||
	    lease_s > RBDOPS_LEASE_MAX_SECONDS) {
		rc = rc_error_usage(err, "a lease of %d s: from %d s to %d s",
				    lease_s, RBDOPS_LEASE_MIN_SECONDS,
				    RBDOPS_LEASE_MAX_SECONDS);
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	l->conn = conn;
	l->lease_s = lease_s;
	l->pid = (long)getpid();
	snprintf(l->oid, sizeof(l->oid), "%s", oid);
	rbdops_object_where(pool, ns, oid, l->where, sizeof(l->where));
	snprintf(l->entity, sizeof(l->entity), "client.%" PRIu64,
		 (uint64_t)rados_get_instance_id(conn->cluster));
	snprintf(l->vfs_addr, sizeof(l->vfs_addr), "%s", vfs_addr ? vfs_addr : "");
	if (host)
		snprintf(l->host, sizeof(l->host), "%s", host);
	else if (gethostname(l->host, sizeof(l->host)) < 0)
		snprintf(l->host, sizeof(l->host), "unknown");
	l->host[sizeof(l->host) - 1] = '\0';
	if ((rc = draw_cookie(l->cookie, sizeof(l->cookie), err)) < 0 ||
	    (rc = rbdops_conn_addr(conn, l->rados_addr, sizeof(l->rados_addr),
				   err)) < 0 ||
	    (rc = rbdops_ioctx(conn, pool, ns, &l->io, err)) < 0)
		goto out;

	/* the renewal's deadline is on the monotonic clock: a wall clock
	 * set back must not postpone it */
	if ((rc = -pthread_condattr_init(&attr)) < 0)
		goto thread_failed;
	attr_made = true;
	if ((rc = -pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) < 0 ||
	    (rc = -pthread_cond_init(&l->wake, &attr)) < 0)
		goto thread_failed;
	wake_made = true;
	if ((rc = -pthread_mutex_init(&l->mu, NULL)) < 0)
		goto thread_failed;
	mu_made = true;
	if ((rc = -pthread_create(&l->renewer, NULL, renewer_main, l)) < 0)
		goto thread_failed;
	l->renewer_started = true;
	goto out;
thread_failed:
	rc = rc_error_set(err, rc, "starting the lease renewal thread: %s",
			  strerror(-rc));
out:
	if (attr_made)
		pthread_condattr_destroy(&attr);
	if (rc < 0 && l) {
		if (mu_made)
			pthread_mutex_destroy(&l->mu);
		if (wake_made)
			pthread_cond_destroy(&l->wake);
		if (l->io)
			rados_ioctx_destroy(l->io);
		free(l);
		return rc;
	}
	*out = l;
	return rc;
}

/* Blocklists addr, saying which cap is missing when the monitors refuse. */
static int blocklist(struct rbd_leases *l, const char *addr,
		     struct rc_error *err)
{
	char copy[RBDOPS_ADDR_MAX];
	int rc;

	snprintf(copy, sizeof(copy), "%s", addr);
	rc = rados_blocklist_add(l->conn->cluster, copy,
				 RBDOPS_LEASE_BLOCKLIST_SECONDS);
	if (rc == -EPERM || rc == -EACCES) {
		rc = rc_error_set(err, rc, "%s may not blocklist %s (to fence "
				  "a lease holder): rowcat needs mon 'profile "
				  "rbd' (see 'ceph auth get %s')",
				  l->conn->entity, addr, l->conn->entity);
		err->denied = true;
		return rc;
	}
	if (rc < 0)
		return rbdops_fail(err, rc, "blocklisting %s", addr);
	return 0;
}

int rbdops_lease_fence(struct rbd_leases *l, const char *name,
		       const struct rbdops_lease_holder *dead,
		       struct rc_error *err)
{
	int rc = valid_name(name, err);

	if (rc < 0)
		goto out;
	/* librbd refuses to blocklist itself (BreakRequest's "attempting
	 * to self-blocklist"); an address of ours is ourselves too */
	if (dead->ours || strcmp(dead->entity, l->entity) == 0 ||
	    strcmp(dead->cookie, l->cookie) == 0 ||
	    (dead->rados_addr[0] && (strcmp(dead->rados_addr, l->rados_addr) == 0 ||
				     strcmp(dead->rados_addr, l->vfs_addr) == 0)) ||
	    (dead->vfs_addr[0] && (strcmp(dead->vfs_addr, l->rados_addr) == 0 ||
				   strcmp(dead->vfs_addr, l->vfs_addr) == 0))) {
		rc = rc_error_set(err, -EINVAL, "refusing to fence the holder "
				  "of lease '%s' on %s: it is this process",
				  name, l->where);
		goto out;
	}
	if (!dead->rados_addr[0]) {
		rc = rc_error_set(err, -EINVAL, "cannot fence %s, the holder "
				  "of lease '%s' on %s: its address is "
				  "unknown", dead->entity, name, l->where);
		goto out;
	}
	/* every address first, then the lock: once the lock is broken the
	 * lease can be taken, and by then the holder's requests must be
	 * refused (rados_blocklist_add waits for the OSD map that says so,
	 * and our later requests carry that map's epoch) */
	rc = blocklist(l, dead->rados_addr, err);
	if (rc < 0)
		goto out;
	if (dead->vfs_addr[0] && strcmp(dead->vfs_addr, dead->rados_addr) != 0) {
		rc = blocklist(l, dead->vfs_addr, err);
		if (rc < 0)
			goto out;
	}
	/* a holder known only from a record (the journal's) has no lock
	 * that this fence could name; whatever it had has expired */
	if (!dead->entity[0] || !dead->cookie[0])
		goto out;
	rc = rados_break_lock(l->io, l->oid, name, dead->entity, dead->cookie);
	if (rc == -ENOENT) /* it expired meanwhile, or was broken by another */
		rc = 0;
	if (rc < 0)
		rc = rbdops_fail(err, rc, "breaking the lock of %s on lease "
				 "'%s' on %s", dead->entity, name, l->where);
out:
	return rc;
}

void rbdops_leases_close(struct rbd_leases *l)
{
	bool lost;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->mu);
	if (l->renewer_started)
		pthread_join(l->renewer, NULL);
	/* the join orders what the thread wrote before this read */
	lost = l->lost;
	/* a lost process leaves its other leases to expire: the cluster
	 * may be the reason it lost them, and an unlock would wait out the
	 * client timeout for each */
	for (size_t i = 0; !lost && i < l->count; i++)
		rbdops_cls_unlock(l->io, l->oid, l->held[i].name, l->cookie);
	rados_ioctx_destroy(l->io);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->mu);
	free(l->held);
	free(l);
}
