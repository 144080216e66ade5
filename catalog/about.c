/*
 * What a catalog is, read without taking it over: for `rowcat catalog
 * info`. A file catalog is opened read-only (WAL readers never wait for
 * a writer), and the locks of its jobs and operations are tested, not
 * taken. A catalog in RADOS cannot be opened without taking its one
 * exclusive lock, so its header is read as bytes (by the caller, through
 * rbdops) and parsed here.
 */
#define _GNU_SOURCE /* F_OFD_GETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static uint32_t big_endian(const unsigned char *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int catalog_header_parse(const unsigned char *buf, size_t len,
			 const char *where, struct catalog_header *out,
			 struct rc_error *err)
{
	static const char magic[] = "SQLite format 3";
	uint32_t page_size;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return rc_error_set(err, -ENOENT, "%s is empty, not a rowcat "
				    "catalog (was it truncated?)", where);
	if (len < CATALOG_HEADER_SIZE || memcmp(buf, magic, sizeof(magic)) != 0)
		return rc_error_set(err, -EINVAL, "%s is not a rowcat catalog "
				    "(not an SQLite database)", where);
	/* https://sqlite.org/fileformat.html: 1 means 65536 */
	page_size = big_endian(buf + 16, 2);
	out->page_size = page_size == 1 ? 65536 : (int)page_size;
	out->wal = buf[18] == 2 || buf[19] == 2;
	out->schema_version = (int)big_endian(buf + 60, 4);
	if (big_endian(buf + 68, 4) != CATALOG_APPLICATION_ID)
		return rc_error_set(err, -EINVAL, "%s is an SQLite database but "
				    "not a rowcat catalog", where);
	return 0;
}

/* The pid a job's holder wrote into its lock file; 0 when unreadable. */
static long holder_pid(int fd)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strtol(text, NULL, 10);
}

/*
 * Whether another open file description holds a lock on path (from
 * start, length len; 0 is to the end), and where: F_OFD_GETLK tests
 * without taking, and without creating a missing file. 0 with
 * *held false when nobody does.
 */
static int test_lock(const char *path, off_t start, bool *held,
		     struct flock *found, int *fd_out)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = 0 };
	int fd = *fd_out;

	*held = false;
	if (fd < 0) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : -errno;
		*fd_out = fd;
	}
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	*held = fl.l_type != F_UNLCK;
	*found = fl;
	return 0;
}

static const char *const job_suffixes[CATALOG_JOB_KINDS] = {
	[CATALOG_JOB_GC] = "-gc.lock",
	[CATALOG_JOB_POLICY] = "-policy.lock",
};

/* Who holds the job locks and the operation claims beside path. */
static int read_claims(const char *path, struct catalog_file_info *out,
		       struct rc_error *err)
{
	char side[4096 + 16];
	struct flock found;
	bool held;
	int fd, rc = 0;

	for (int j = 0; rc == 0 && j < CATALOG_JOB_KINDS; j++) {
		snprintf(side, sizeof(side), "%s%s", path, job_suffixes[j]);
		fd = -1;
		rc = test_lock(side, 0, &held, &found, &fd);
		if (rc == 0 && held)
			out->job_pid[j] = holder_pid(fd) > 0 ? holder_pid(fd) : -1;
		if (fd >= 0)
			close(fd);
	}
	snprintf(side, sizeof(side), "%s-oplock", path);
	fd = -1;
	/* one byte per operation id: each lock found, the next from past it */
	for (off_t at = 0; rc == 0 && out->claimed_count < CATALOG_CLAIMS_SHOWN;) {
		rc = test_lock(side, at, &held, &found, &fd);
		if (rc < 0 || !held)
			break;
		out->claimed_ops[out->claimed_count++] = (int64_t)found.l_start;
		if (found.l_len == 0)
			break;
		at = found.l_start + found.l_len;
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return rc_error_set(err, rc, "testing the locks beside %s: %s",
				    path, strerror(-rc));
	return 0;
}

static int query(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_ERROR;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(buf, len, "%s", sqlite3_column_text(st, 0)
			 ? (const char *)sqlite3_column_text(st, 0) : "");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int catalog_file_info(const char *path, struct catalog_file_info *out,
		      struct rc_error *err)
{
	char wal[4096 + 8], app_id[32], version[32], page_size[32];
	sqlite3 *db = NULL;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) < 0)
		return errno == ENOENT
			? rc_error_set(err, -ENOENT, "no catalog at %s (create one "
				       "with 'rowcat init')", path)
			: rc_error_set(err, -errno, "catalog %s: %s", path,
				       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return rc_error_set(err, -EINVAL, "catalog %s is not a regular "
				    "file", path);
	out->size = (uint64_t)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0)
		out->wal_size = (uint64_t)st.st_size;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    query(db, "PRAGMA application_id", app_id, sizeof(app_id)) != SQLITE_OK ||
	    query(db, "PRAGMA user_version", version, sizeof(version)) != SQLITE_OK ||
	    query(db, "PRAGMA page_size", page_size, sizeof(page_size)) != SQLITE_OK ||
	    query(db, "PRAGMA journal_mode", out->journal_mode,
		  sizeof(out->journal_mode)) != SQLITE_OK) {
		rc = rc_error_set(err, -EINVAL, "%s is not a rowcat catalog "
				  "(%s)", path, db ? sqlite3_errmsg(db)
						   : "out of memory");
		goto out;
	}
	if (strtoul(app_id, NULL, 10) != CATALOG_APPLICATION_ID) {
		rc = rc_error_set(err, -EINVAL, atoi(version) == 0
				  ? "%s is empty, not a rowcat catalog (was it "
				    "truncated?)"
				  : "%s is an SQLite database but not a rowcat "
				    "catalog", path);
		goto out;
	}
	out->schema_version = atoi(version);
	out->page_size = atoi(page_size);
	rc = read_claims(path, out, err);
out:
	sqlite3_close(db);
	return rc;
}
