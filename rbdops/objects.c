/*
 * Plain RADOS objects, for a catalog in RADOS: whether an object exists,
 * its bytes and extended attributes, the cls locks on it, a lock of
 * rowcat's own and removal. Nothing here knows how Ceph's SQLite VFS lays
 * a database out; catalog/ names the objects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "internal.h"

/* "pool/oid" or "pool/ns/oid", for messages. */
static void where_text(const char *pool, const char *ns, const char *oid,
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
		where_text(pool, ns, oid, where, sizeof(where));
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
	where_text(pool, ns, oid, where, sizeof(where));
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
	where_text(pool, ns, oid, where, sizeof(where));
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

/* ---- cls_lock's get_info, for what rados_list_lockers leaves out ---- */

/*
 * The description and expiry of a lock's holders are only in the reply of
 * the cls method lock.get_info (what `rados lock info` prints): Ceph's
 * little-endian encoding of cls_lock_get_info_reply
 * (src/cls/lock/cls_lock_ops.h, cls_lock_types.h):
 *
 *   struct { map<locker_id_t, locker_info_t>; u8 type; string tag }
 *   locker_id_t   = struct { u8 entity type; u64 entity num; string cookie }
 *   locker_info_t = struct { u32 s, u32 ns (expiry); entity_addr_t;
 *                            string description }
 *
 * where struct is u8 version, u8 compat, u32 length, then the fields, and
 * entity_addr_t is a marker byte 1 then such a struct, or (a client
 * without MSG_ADDR2) 0 then 135 bytes. The lengths let a newer Ceph's
 * added fields be skipped.
 */
struct cls_reader {
	const unsigned char *p, *end;
	bool bad;
};

static uint64_t cls_take(struct cls_reader *r, size_t n)
{
	uint64_t v = 0;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = n; i-- > 0;)
		v = v << 8 | r->p[i];
	r->p += n;
	return v;
}

static void cls_skip(struct cls_reader *r, uint64_t n)
{
	if (r->bad || (uint64_t)(r->end - r->p) < n)
		r->bad = true;
	else
		r->p += n;
}

static void cls_string(struct cls_reader *r, char *out, size_t len)
{
	uint64_t n = cls_take(r, 4);
	size_t keep = n < len ? (size_t)n : len - 1;

	out[0] = '\0';
	if (r->bad || (uint64_t)(r->end - r->p) < n) {
		r->bad = true;
		return;
	}
	memcpy(out, r->p, keep);
	out[keep] = '\0';
	r->p += n;
}

/* Enters a struct; returns where it ends. */
static const unsigned char *cls_struct(struct cls_reader *r)
{
	uint64_t len;

	cls_skip(r, 2);
	len = cls_take(r, 4);
	if (r->bad || (uint64_t)(r->end - r->p) < len) {
		r->bad = true;
		return r->end;
	}
	return r->p + len;
}

static void cls_leave(struct cls_reader *r, const unsigned char *end)
{
	if (r->bad || r->p > end)
		r->bad = true;
	else
		r->p = end;
}

/* Fills description and expiry of out's lockers from get_info's reply,
 * matching them by entity and cookie. */
static void read_lock_info(rados_ioctx_t io, const char *oid, const char *name,
			   struct rbdops_lock_state *out)
{
	unsigned char in[16 + RC_NAME_MAX], reply[16384];
	uint32_t name_len = (uint32_t)strlen(name);
	struct cls_reader r;
	uint64_t count;
	int rc;

	if (name_len >= RC_NAME_MAX)
		return;
	in[0] = 1;
	in[1] = 1;
	for (int i = 0; i < 4; i++) {
		in[2 + i] = (unsigned char)((4 + name_len) >> (8 * i));
		in[6 + i] = (unsigned char)(name_len >> (8 * i));
	}
	memcpy(in + 10, name, name_len);
	rc = rados_exec(io, oid, "lock", "get_info", (const char *)in,
			10 + name_len, (char *)reply, sizeof(reply));
	if (rc < 0)
		return;
	r = (struct cls_reader){ reply, reply + rc, false };
	cls_struct(&r);
	count = cls_take(&r, 4);
	for (uint64_t i = 0; i < count && !r.bad; i++) {
		char entity[RBDOPS_ENTITY_MAX], cookie[RBDOPS_LOCK_COOKIE_MAX];
		char description[RBDOPS_LOCK_DESCRIPTION_MAX];
		const unsigned char *end = cls_struct(&r);
		unsigned type = (unsigned)cls_take(&r, 1);
		uint64_t num = cls_take(&r, 8);
		int64_t expires;

		/* CEPH_ENTITY_TYPE_CLIENT is 8: a lock is a client's */
		snprintf(entity, sizeof(entity), "%s.%" PRIu64,
			 type == 8 ? "client" : "entity", num);
		cls_string(&r, cookie, sizeof(cookie));
		cls_leave(&r, end);
		end = cls_struct(&r);
		expires = (int64_t)cls_take(&r, 4);
		cls_skip(&r, 4); /* nanoseconds */
		if (cls_take(&r, 1) == 1)
			cls_leave(&r, cls_struct(&r));
		else
			cls_skip(&r, 135);
		cls_string(&r, description, sizeof(description));
		cls_leave(&r, end);
		for (size_t k = 0; !r.bad && k < out->count; k++) {
			struct rbdops_locker *l = &out->lockers[k];

			if (strcmp(l->entity, entity) != 0 ||
			    strcmp(l->cookie, cookie) != 0)
				continue;
			snprintf(l->description, sizeof(l->description), "%s",
				 description);
			l->expires_at = expires;
		}
	}
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
	where_text(pool, ns, oid, where, sizeof(where));
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
	if (out->count)
		read_lock_info(io, oid, name, out);
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
	where_text(pool, ns, oid, where, sizeof(where));
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
		where_text(pool, ns, oid, where, sizeof(where));
		rc = rbdops_fail(err, rc, "removing RADOS object %s", where);
	}
out:
	if (io)
		rados_ioctx_destroy(io);
	return rc;
}
