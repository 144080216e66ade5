/*
 * cls_lock, the OSD class behind rados_lock_*, spoken to directly where
 * librados leaves something out: who holds a lock, with description and
 * expiry (rados_list_lockers gives neither), and an unlock that takes the
 * lock's attribute with it (rados_unlock leaves it behind).
 *
 * The class's requests and replies are Ceph's encoding, little-endian
 * (src/cls/lock/cls_lock_ops.h, cls_lock_types.h, include/encoding.h):
 * a struct is u8 version, u8 compat, u32 length, then its fields; a
 * string is u32 length, then its bytes; a map is u32 count, then its
 * pairs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "internal.h"

/* The attribute cls_lock keeps lock NAME in (cls_lock.cc's LOCK_PREFIX). */
#define CLS_LOCK_XATTR_PREFIX "lock."

/* ---- encoding a request ---- */

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes s as a string at p; returns the bytes written. */
static size_t put_string(unsigned char *p, const char *s, size_t n)
{
	put_le32(p, (uint32_t)n);
	memcpy(p + 4, s, n);
	return 4 + n;
}

/* struct(1, 1) { string first[; string second] } into buf, the layout
 * of cls_lock_get_info_op { name } (second NULL) and of
 * cls_lock_unlock_op { name; cookie }; returns its length. */
static size_t encode_strings(unsigned char *buf, const char *first,
			     size_t first_len, const char *second,
			     size_t second_len)
{
	size_t used = 6;

	buf[0] = 1; /* struct_v */
	buf[1] = 1; /* struct_compat */
	used += put_string(buf + used, first, first_len);
	if (second)
		used += put_string(buf + used, second, second_len);
	put_le32(buf + 2, (uint32_t)(used - 6));
	return used;
}

/* ---- decoding a reply ---- */

struct reader {
	const unsigned char *p, *end;
	bool bad;
};

static bool take_bytes(struct reader *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return false;
	}
	if (out)
		memcpy(out, r->p, n);
	r->p += n;
	return true;
}

static uint64_t take_le(struct reader *r, size_t n)
{
	unsigned char b[8] = {0};
	uint64_t v = 0;

	take_bytes(r, b, n);
	for (size_t i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

/* A string into out (len bytes, NUL-ended), cut to fit. */
static void take_string(struct reader *r, char *out, size_t len)
{
	uint32_t n = (uint32_t)take_le(r, 4);
	size_t keep = n < len - 1 ? n : len - 1;

	out[0] = '\0';
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return;
	}
	memcpy(out, r->p, keep);
	out[keep] = '\0';
	r->p += n;
}

/* Enters a struct: its end, past which the caller skips (a newer Ceph's
 * added fields). */
static const unsigned char *take_struct(struct reader *r)
{
	uint32_t len;

	take_le(r, 1); /* struct_v */
	take_le(r, 1); /* struct_compat */
	len = (uint32_t)take_le(r, 4);
	if (r->bad || (size_t)(r->end - r->p) < len) {
		r->bad = true;
		return r->end;
	}
	return r->p + len;
}

static void leave_struct(struct reader *r, const unsigned char *end)
{
	if (!r->bad && r->p <= end)
		r->p = end;
	else
		r->bad = true;
}

/* "IP:port/nonce" as Ceph prints a client address (`rados lock info`,
 * `ceph osd blocklist ls`); "" for a family it does not know. */
static void format_addr(const unsigned char *sa, size_t n, int family,
			uint32_t nonce, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (family == AF_INET && n >= 8) {
		unsigned port = (unsigned)sa[2] << 8 | sa[3];

		if (inet_ntop(AF_INET, sa + 4, ip, sizeof(ip)))
			snprintf(out, len, "%s:%u/%" PRIu32, ip, port, nonce);
	} else if (family == AF_INET6 && n >= 24) {
		unsigned port = (unsigned)sa[2] << 8 | sa[3];

		if (inet_ntop(AF_INET6, sa + 8, ip, sizeof(ip)))
			snprintf(out, len, "[%s]:%u/%" PRIu32, ip, port, nonce);
	}
}

/*
 * entity_addr_t is either marker 1 + struct { u32 type; u32 nonce; u32
 * len; sockaddr, family little-endian } or, from a client without
 * MSG_ADDR2, marker 0 + 3 bytes + u32 nonce + 128 bytes of sockaddr,
 * family big-endian (the Linux kernel's ceph_decode_entity_addr reads it
 * the same way).
 */
static void take_addr(struct reader *r, char *out, size_t len)
{
	unsigned char sa[128];
	uint32_t nonce, n;
	int marker = (int)take_le(r, 1);

	out[0] = '\0';
	if (marker == 1) {
		const unsigned char *end = take_struct(r);

		take_le(r, 4); /* type: legacy, msgr2 or any */
		nonce = (uint32_t)take_le(r, 4);
		n = (uint32_t)take_le(r, 4);
		if (n > sizeof(sa) || !take_bytes(r, sa, n))
			r->bad = true;
		else
			format_addr(sa, n, sa[0] | sa[1] << 8, nonce, out, len);
		leave_struct(r, end);
	} else if (marker == 0) {
		take_bytes(r, NULL, 3);
		nonce = (uint32_t)take_le(r, 4);
		if (take_bytes(r, sa, sizeof(sa)))
			format_addr(sa, sizeof(sa), sa[0] << 8 | sa[1], nonce,
				    out, len);
	} else {
		r->bad = true;
	}
}

/*
 * cls_lock_get_info_reply:
 *
 *   struct { map<locker_id_t, locker_info_t>; u8 type; string tag }
 *   locker_id_t   = struct { entity_name_t (u8 type, u64 num); string cookie }
 *   locker_info_t = struct { utime_t (u32 s, u32 ns); entity_addr_t; string desc }
 *
 * What follows the lockers is not read.
 */
int rbdops_cls_lock_info(rados_ioctx_t io, const char *oid, const char *name,
			 int (*each)(const struct cls_locker *locker, void *arg),
			 void *arg)
{
	unsigned char in[10 + RC_NAME_MAX], reply[16384];
	size_t name_len = strlen(name);
	struct cls_locker locker;
	struct reader r;
	uint32_t count;
	int rc;

	if (name_len >= RC_NAME_MAX)
		return -ENAMETOOLONG;
	rc = rados_exec(io, oid, "lock", "get_info", (const char *)in,
			encode_strings(in, name, name_len, NULL, 0),
			(char *)reply, sizeof(reply));
	if (rc < 0)
		return rc;
	r = (struct reader){reply, reply + rc, false};
	take_struct(&r);
	count = (uint32_t)take_le(&r, 4);
	for (uint32_t i = 0; i < count && !r.bad; i++) {
		const unsigned char *id_end = take_struct(&r), *info_end;
		unsigned type = (unsigned)take_le(&r, 1);
		uint64_t num = take_le(&r, 8);

		/* CEPH_ENTITY_TYPE_CLIENT is 8: a lock is only ever a
		 * client's */
		snprintf(locker.entity, sizeof(locker.entity), "%s.%" PRIu64,
			 type == 8 ? "client" : "entity", num);
		take_string(&r, locker.cookie, sizeof(locker.cookie));
		leave_struct(&r, id_end);
		info_end = take_struct(&r);
		locker.expires_at = (int64_t)take_le(&r, 4);
		take_le(&r, 4); /* nanoseconds */
		take_addr(&r, locker.addr, sizeof(locker.addr));
		take_string(&r, locker.description,
			    sizeof(locker.description));
		leave_struct(&r, info_end);
		if (!r.bad && each(&locker, arg) != 0)
			break;
	}
	return r.bad ? -EPROTO : 0;
}

/* ---- unlocking ---- */

int rbdops_cls_unlock(rados_ioctx_t io, const char *oid, const char *name,
		      const char *cookie)
{
	unsigned char in[14 + RC_NAME_MAX + RBDOPS_LOCK_COOKIE_MAX];
	char xattr[sizeof(CLS_LOCK_XATTR_PREFIX) + RC_NAME_MAX];
	size_t name_len = strlen(name), cookie_len = strlen(cookie);
	rados_write_op_t op;
	int rc;

	if (name_len >= RC_NAME_MAX || cookie_len >= RBDOPS_LOCK_COOKIE_MAX)
		return -ENAMETOOLONG;
	snprintf(xattr, sizeof(xattr), CLS_LOCK_XATTR_PREFIX "%s", name);
	op = rados_create_write_op();
	if (!op)
		return -ENOMEM;
	/* one transaction: when the unlock fails (not ours: it expired, and
	 * maybe another holds it now) the OSD applies nothing, so the
	 * attribute goes only with our own, last, locker */
	rados_write_op_exec(op, "lock", "unlock", (const char *)in,
			    encode_strings(in, name, name_len, cookie,
					   cookie_len), NULL);
	rados_write_op_rmxattr(op, xattr);
	rc = rados_write_op_operate(op, io, oid, NULL, 0);
	rados_release_write_op(op);
	return rc;
}
