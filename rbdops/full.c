/*
 * Telling a full cluster from a silent one. Ceph holds, rather than fails,
 * the writes to a pool that is full (its quota reached, or an OSD past
 * the full ratio), so librbd answers ETIMEDOUT once rados_osd_op_timeout
 * has passed: the same answer as a cluster that does not answer at all.
 * Only the OSD map tells the two apart, by the pool's flags (full_quota,
 * full); it is asked for only after such a failure, so that the common
 * path costs nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Whether the comma-separated list holds word. */
static bool has_flag(const char *list, size_t len, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p < list + len;) {
		const char *comma = memchr(p, ',', (size_t)(list + len - p));
		size_t item = comma ? (size_t)(comma - p) : (size_t)(list + len - p);

		if (item == n && strncmp(p, word, n) == 0)
			return true;
		p += item + 1;
	}
	return false;
}

/* The flags after " flags " in line (up to its end), as a list. */
static bool line_flags(const char *line, size_t line_len, const char **list,
		       size_t *len)
{
	const char *end = line + line_len;

	for (const char *p = line; p + 7 <= end; p++) {
		if (strncmp(p, " flags ", 7) != 0)
			continue;
		const char *q = p + 7;

		/* the reply is not NUL-terminated: stay within the line */
		while (q < end && *q != ' ' && *q != '\n')
			q++;
		*list = p + 7;
		*len = (size_t)(q - *list);
		return true;
	}
	return false;
}

/*
 * Reads from `ceph osd dump` (plain text, the one format that needs no
 * parser) whether pool `id` is full by its quota or at all, and whether
 * the map carries the old cluster-wide full flag.
 */
static int read_fullness(struct rbd_conn *conn, int64_t id, bool *quota,
			 bool *full)
{
	const char *cmd[] = { "{\"prefix\": \"osd dump\"}" };
	char *out = NULL, *status = NULL, prefix[48];
	size_t out_len = 0, status_len = 0, n;
	int rc;

	*quota = *full = false;
	rc = rados_mon_command(conn->cluster, cmd, 1, "", 0, &out, &out_len,
			       &status, &status_len);
	if (rc < 0)
		goto out;
	n = (size_t)snprintf(prefix, sizeof(prefix), "pool %lld '", (long long)id);
	for (const char *line = out; line && line < out + out_len;) {
		const char *nl = memchr(line, '\n', (size_t)(out + out_len - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(out + out_len - line);
		const char *flags;
		size_t flags_len;

		if (len >= 6 && strncmp(line, "flags ", 6) == 0 &&
		    has_flag(line + 6, len - 6, "full"))
			*full = true;
		if (len > n && strncmp(line, prefix, n) == 0 &&
		    line_flags(line, len, &flags, &flags_len)) {
			*quota = has_flag(flags, flags_len, "full_quota");
			*full = *full || has_flag(flags, flags_len, "full");
		}
		line = nl ? nl + 1 : NULL;
	}
out:
	rados_buffer_free(out);
	rados_buffer_free(status);
	return rc;
}

int rbdops_explain_full(struct rbd_conn *conn, const char *pool,
			struct rc_error *err)
{
	bool quota, full;
	int64_t id;

	if (!conn || !pool || !pool[0] ||
	    (err->code != -ETIMEDOUT && err->code != -ENOSPC &&
	     err->code != -EDQUOT))
		return err->code;
	id = rados_pool_lookup(conn->cluster, pool);
	if (id < 0 || read_fullness(conn, id, &quota, &full) < 0)
		return err->code; /* the first failure stays the one told */
	if (quota) {
		rc_error_prefix(err, "pool '%s' is full: its quota is reached "
				"('ceph osd pool get-quota %s'): ", pool, pool);
		err->code = -EDQUOT;
	} else if (full) {
		rc_error_prefix(err, "the cluster is full: Ceph holds all writes "
				"to pool '%s' until its OSDs have room again "
				"('ceph health detail'): ", pool);
		err->code = -ENOSPC;
	}
	return err->code;
}
