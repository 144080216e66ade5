/*
 * Plain RADOS objects, for a catalog in RADOS: whether an object exists,
 * its bytes and extended attributes, the cls locks on it, a lock of
 * rowcat's own and removal. Nothing here knows how Ceph's SQLite VFS lays
 * a database out; catalog/ names the objects.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "internal.h"

void rbdops_object_where(const char *pool, const char *ns, const char *oid,
			 char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s/%s", pool, ns[0] ? "/" : "", ns, oid);
}

int rbdops_object_stat(struct rbd_conn *conn, const char *pool, const char *ns,
		       const char *oid, bool *exists, uint64_t *size,
		       struct rc_error *err)
{
	char where[3 * RC_NAME_MAX];
	rados_ioctx_t io = NULL;
	uint64_t bytes = 0;
	time_t mtime;
	int rc;

	*exists = false;
	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		goto out;
	rc = rados_stat(io, oid, &bytes, &mtime);
	if (rc == 0) {
		*exists = true;
		if (size)
			*size = bytes;
	} else if (rc == -ENOENT) {
		rc = 0;
	} else {
		rbdops_object_where(pool, ns, oid, where, sizeof(where));
		rc = rbdops_fail(err, rc, "looking up RADOS object %s", where);
	}
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

int rbdops_object_read(struct rbd_conn *conn, const char *pool, const char *ns,
		       const char *oid, uint64_t off, void *buf, size_t len,
		       size_t *got, struct rc_error *err)
{
	char where[3 * RC_NAME_MAX];
	rados_ioctx_t io = NULL;
	int rc;

	*got = 0;
	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		goto out;
	rc = rados_read(io, oid, buf, len, off);
	rbdops_object_where(pool, ns, oid, where, sizeof(where));
	if (rc >= 0) {
		*got = (size_t)rc;
		rc = 0;
	} else if (rc == -ENOENT) {
		rc = rc_error_set(err, -ENOENT, "RADOS object %s does not exist",
				  where);
	} else {
		rc = rbdops_fail(err, rc, "reading RADOS object %s", where);
	}
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

int rbdops_object_xattr(struct rbd_conn *conn, const char *pool, const char *ns,
			const char *oid, const char *name, char *buf, size_t len,
			struct rc_error *err)
{
	char where[3 * RC_NAME_MAX];
	rados_ioctx_t io = NULL;
	int rc;

	buf[0] = '\0';
	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		goto out;
	rc = rados_getxattr(io, oid, name, buf, len - 1);
	rbdops_object_where(pool, ns, oid, where, sizeof(where));
	if (rc >= 0) {
		buf[rc] = '\0';
		rc = 0;
	} else if (rc == -ENODATA || rc == -ENOENT) {
		rc = rc_error_set(err, rc, "RADOS object %s has no attribute %s",
				  where, name);
	} else {
		rc = rbdops_fail(err, rc, "reading attribute %s of RADOS object "
				 "%s", name, where);
	}
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

int rbdops_object_lock_names(struct rbd_conn *conn, const char *pool,
			     const char *ns, const char *oid,
			     char (*names)[RBDOPS_LEASE_NAME_MAX], size_t max,
			     size_t *count, struct rc_error *err)
{
	static const char prefix[] = "lock.";
	char where[3 * RC_NAME_MAX];
	rados_xattrs_iter_t it = NULL;
	rados_ioctx_t io = NULL;
	const char *name, *value;
	size_t len;
	int rc;

	*count = 0;
	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		goto out;
	rc = rados_getxattrs(io, oid, &it);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	while (rc == 0 && (rc = rados_getxattrs_next(it, &name, &value,
						     &len)) == 0 && name) {
		/* cls_lock keeps each lock in the attribute lock.NAME */
		if (strncmp(name, prefix, strlen(prefix)) != 0 ||
		    strlen(name + strlen(prefix)) >= RBDOPS_LEASE_NAME_MAX)
			continue;
		if (*count < max)
			snprintf(names[*count], RBDOPS_LEASE_NAME_MAX, "%s",
				 name + strlen(prefix));
		(*count)++;
	}
	if (rc < 0) {
		rbdops_object_where(pool, ns, oid, where, sizeof(where));
		rc = rbdops_fail(err, rc, "listing the attributes of RADOS "
				 "object %s", where);
	}
	if (*count > max)
		*count = max;
out:
	if (it)
		rados_getxattrs_end(it);
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

/* rbdops_cls_lock_info's each: description and expiry for the locker of
 * out that is the same entity and cookie. */
static int fill_locker(const struct cls_locker *locker, void *arg)
{
	struct rbdops_lock_state *out = arg;

	for (size_t k = 0; k < out->count; k++) {
		struct rbdops_locker *l = &out->lockers[k];

		if (strcmp(l->entity, locker->entity) != 0 ||
		    strcmp(l->cookie, locker->cookie) != 0)
			continue;
		snprintf(l->description, sizeof(l->description), "%.*s",
			 (int)sizeof(l->description) - 1, locker->description);
		l->expires_at = locker->expires_at;
	}
	return 0;
}

/* Copies the next of the NUL-separated strings of a rados_list_lockers
 * buffer (*p, up to end) into out, cut to fit. */
static void next_string(const char **p, const char *end, char *out, size_t len)
{
	size_t n = *p < end ? strnlen(*p, (size_t)(end - *p)) : 0;
	size_t keep = n < len ? n : len - 1;

	memcpy(out, *p, keep);
	out[keep] = '\0';
	*p += n + 1;
}

int rbdops_object_lockers(struct rbd_conn *conn, const char *pool,
			  const char *ns, const char *oid, const char *name,
			  struct rbdops_lock_state *out, struct rc_error *err)
{
	char tag[256], clients[4096], cookies[4096], addrs[4096];
	size_t tag_len = sizeof(tag), clients_len = sizeof(clients);
	size_t cookies_len = sizeof(cookies), addrs_len = sizeof(addrs);
	char where[3 * RC_NAME_MAX];
	const char *c = clients, *k = cookies, *a = addrs;
	rados_ioctx_t io = NULL;
	int exclusive = 0;
	ssize_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		goto out;
	rbdops_object_where(pool, ns, oid, where, sizeof(where));
	n = rados_list_lockers(io, oid, name, &exclusive, tag, &tag_len,
			       clients, &clients_len, cookies, &cookies_len,
			       addrs, &addrs_len);
	if (n == -ENOENT) { /* no object: nobody ever locked it */
		rc = 0;
		goto out;
	}
	if (n < 0) {
		rc = rbdops_fail(err, (int)n, "listing the holders of lock %s "
				 "on RADOS object %s", name, where);
		goto out;
	}
	out->exclusive = exclusive != 0;
	for (ssize_t i = 0; i < n && out->count < RBDOPS_LOCKERS_MAX; i++) {
		struct rbdops_locker *l = &out->lockers[out->count++];

		next_string(&c, clients + clients_len, l->entity,
			    sizeof(l->entity));
		next_string(&k, cookies + cookies_len, l->cookie,
			    sizeof(l->cookie));
		next_string(&a, addrs + addrs_len, l->addr, sizeof(l->addr));
	}
	/* what it cannot read stays unread: the holders are known */
	if (out->count)
		rbdops_cls_lock_info(io, oid, name, fill_locker, out);
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

int rbdops_object_lock(struct rbd_conn *conn, const char *pool, const char *ns,
		       const char *oid, const char *name, const char *cookie,
		       const char *description, int seconds,
		       struct rc_error *err)
{
	struct timeval duration = { .tv_sec = seconds };
	char where[3 * RC_NAME_MAX];
	rados_ioctx_t io = NULL;
	int rc;

	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		goto out;
	rbdops_object_where(pool, ns, oid, where, sizeof(where));
	rc = rados_lock_exclusive(io, oid, name, cookie, description, &duration,
				  0);
	if (rc == -EBUSY || rc == -EEXIST)
		rc = rc_error_set(err, -EBUSY, "lock %s on RADOS object %s is "
				  "held by another client", name, where);
	else if (rc < 0)
		rc = rbdops_fail(err, rc, "locking %s on RADOS object %s", name,
				 where);
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}

void rbdops_object_unlock(struct rbd_conn *conn, const char *pool,
			  const char *ns, const char *oid, const char *name,
			  const char *cookie)
{
	struct rc_error ignored = {0};
	rados_ioctx_t io = NULL;

	if (rbdops_ioctx(conn, pool, ns, &io, &ignored) < 0)
		return;
	rados_unlock(io, oid, name, cookie);
	rados_ioctx_destroy(io);
}

int rbdops_object_remove(struct rbd_conn *conn, const char *pool,
			 const char *ns, const char *oid, struct rc_error *err)
{
	char where[3 * RC_NAME_MAX];
	rados_ioctx_t io = NULL;
	int rc;

	rc = rbdops_ioctx(conn, pool, ns, &io, err);
	if (rc < 0)
		goto out;
	rc = rados_remove(io, oid);
	if (rc == -ENOENT)
		rc = 0;
	else if (rc < 0) {
		rbdops_object_where(pool, ns, oid, where, sizeof(where));
		rc = rbdops_fail(err, rc, "removing RADOS object %s", where);
	}
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}
