/*
 * Jobs that run one at a time per catalog (gc, policy runs), and the
 * catalog side of a policy run: retention's marks.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *const job_names[CATALOG_JOB_KINDS] = {
	[CATALOG_JOB_GC] = "gc",
	[CATALOG_JOB_POLICY] = "policy",
};

static const char *const job_words[CATALOG_JOB_KINDS] = {
	[CATALOG_JOB_GC] = "rowcat gc",
	[CATALOG_JOB_POLICY] = "rowcat policy run",
};

/*
 * An OFD lock, not a pid file: the kernel drops it when the holder dies,
 * however it dies, so a killed run never leaves the job locked.
 */
int catalog_job_lock(struct catalog *cat, enum catalog_job job,
		     struct rc_error *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[sizeof(cat->path) + 16], pid[32];
	int fd;

	if (cat->job_lock_fds[job] >= 0)
		return 0;
	if (cat->has_claims) {
		int rc = cat->claims.take(cat->claims.ctx, job_names[job], err);

		if (rc == -EBUSY)
			rc_error_prefix(err, "another %s is running; this run is "
					"refused: ", job_words[job]);
		return rc;
	}
	if (cat->rados)
		return rc_error_set(err, -EINVAL, "catalog %s: claims in RADOS "
				    "are not set up", cat->path);
	snprintf(path, sizeof(path), "%.*s-%s.lock", (int)sizeof(cat->path) - 1,
		 cat->path, job_names[job]);
	fd = catalog_open_side_file(path, err);
	if (fd < 0)
		return fd;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int saved = errno;
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

		close(fd);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (saved == EAGAIN || saved == EACCES)
			return rc_error_set(err, -EBUSY,
				"another %s is running (pid %s); this run is "
				"refused", job_words[job], pid[0] ? pid : "unknown");
		return rc_error_set(err, -saved, "locking %s: %s", path,
				    strerror(saved));
	}
	/* the holder's pid, for the message of the run it refuses */
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0) {
		/* the pid is only for the message; the lock holds anyway */
	}
	cat->job_lock_fds[job] = fd;
	return 0;
}

int catalog_snapshots_expire(struct catalog *cat, int64_t volume_id,
			     const char *origin, const int64_t *ids, size_t n,
			     int64_t now, size_t *marked, struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*marked = 0;
	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	st = catalog_stmt(cat, Q_SNAPSHOT_EXPIRE, err);
	if (!st)
		rc = err->code;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_bind_int64(st, 1, ids[i]);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, origin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, volume_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = catalog_sql_error(cat, err, "marking expired snapshots");
		else
			*marked += (size_t)sqlite3_changes(cat->db);
		sqlite3_reset(st);
	}
	rc = catalog_settle(cat, rc, err);
	if (rc < 0)
		*marked = 0;
	return rc;
}
