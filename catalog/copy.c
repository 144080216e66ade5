/*
 * Moving a catalog between a file and RADOS with SQLite's backup API, and
 * what a catalog is without opening it: its header, its size, who holds
 * the locks of a file catalog's jobs.
 *
 * A backup copies pages byte for byte: the destination gets the source's
 * page size and its header's WAL flag. Ceph's VFS has no shared memory,
 * so a copy into RADOS that says WAL cannot be opened by another
 * connection (measured: "unable to open database file"); it is rewritten
 * as a rollback-journal database of 64 KiB pages (the VFS's advice) in
 * exclusive locking mode, the only mode in which SQLite reads a WAL
 * database without shared memory, before anyone else opens it.
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
#include "rowcat/sys/failpoint.h"

#define FILE_PAGE_SIZE 4096   /* SQLite's default, what init makes */
#define RADOS_PAGE_SIZE 65536 /* the VFS's advice */

/* The files SQLite keeps beside a database file. */
static const char *const side_suffixes[] = { "-wal", "-shm", "-journal" };

void catalog_rados_object_name(const struct catalog_rados_location *loc,
			       bool journal, char *buf, size_t len)
{
	/* the VFS stripes file F over F.%016x; SQLite's journal of
	 * NAME is the file NAME-journal */
	snprintf(buf, len, "%s%s.%016x", loc->name, journal ? "-journal" : "", 0);
}

/* Records db's last error about the copy at where. */
static int db_error(sqlite3 *db, int code, const char *where, const char *doing,
		    struct rc_error *err)
{
	const char *why = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);

	/* the VFS answers a failed open with a negative errno */
	if (code < 0)
		return rc_error_set(err, code, "%s %s: %s", doing, where,
				    strerror(-code));
	return rc_error_set(err, code == SQLITE_FULL ? -ENOSPC : -EIO,
			    "%s %s: %s", doing, where, why);
}

/* Makes the file at path, which must not exist, nor its WAL or journal:
 * SQLite would replay a WAL or journal left there into the copy. */
static int create_file(const char *path, struct rc_error *err)
{
	char side[4096 + 16];
	struct stat st;
	int fd;

	for (size_t i = 0; i < sizeof(side_suffixes) / sizeof(*side_suffixes); i++) {
		snprintf(side, sizeof(side), "%s%s", path, side_suffixes[i]);
		if (strcmp(side_suffixes[i], "-shm") != 0 && lstat(side, &st) == 0)
			return rc_error_set(err, -EEXIST, "%s exists (left by a "
					    "database that was there?); rowcat "
					    "catalog copy writes no catalog "
					    "beside it: remove it first", side);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return rc_error_set(err, -EEXIST, "%s exists; rowcat catalog copy "
				    "never overwrites a catalog (or any file)",
				    path);
	if (fd < 0)
		return rc_error_set(err, -errno, "creating %s: %s", path,
				    strerror(errno));
	close(fd);
	return 0;
}

/* Deletes a file of the VFS when it exists: deleting one that does not
 * would lock, and so create, its first object. */
static int remove_rados_file(sqlite3_vfs *vfs, const char *path)
{
	int exists = 0, rc = vfs->xAccess(vfs, path, SQLITE_ACCESS_EXISTS, &exists);

	if (rc != SQLITE_OK || !exists)
		return rc;
	return vfs->xDelete(vfs, path, 0);
}

int catalog_copy_remove(const char *to, struct rc_error *err)
{
	struct catalog_rados_location loc;
	char side[4096 + 16];
	sqlite3_vfs *vfs;
	int rc;

	if (!catalog_path_is_rados(to)) {
		rc = unlink(to) < 0 && errno != ENOENT
			? rc_error_set(err, -errno, "removing %s: %s", to,
				       strerror(errno)) : 0;
		for (size_t i = 0; i < sizeof(side_suffixes) / sizeof(*side_suffixes); i++) {
			snprintf(side, sizeof(side), "%s%s", to, side_suffixes[i]);
			unlink(side);
		}
		return rc;
	}
	rc = catalog_rados_location_parse(to, &loc, err);
	if (rc < 0)
		return rc;
	vfs = sqlite3_vfs_find(CATALOG_CEPH_VFS);
	if (!vfs)
		return rc_error_set(err, -EINVAL, "removing %s: Ceph's SQLite VFS "
				    "is not loaded", to);
	/* the VFS's own delete knows its stripes (and takes the database's
	 * lock first); the journal first, so that nothing is left that a
	 * later database there would replay */
	snprintf(side, sizeof(side), "%s-journal", loc.vfs_path);
	rc = remove_rados_file(vfs, side);
	if (rc == SQLITE_OK)
		rc = remove_rados_file(vfs, loc.vfs_path);
	if (rc != SQLITE_OK)
		return rc_error_set(err, -EIO, "removing %s: %s (remove its "
				    "objects with 'rados rm')", to,
				    sqlite3_errstr(rc));
	return 0;
}

/* Opens the copy's destination, made empty: a new file, or a database
 * that the VFS creates in RADOS. */
static int open_target(const char *to, sqlite3 **db, struct rc_error *err)
{
	struct catalog_rados_location loc;
	int rc;

	if (!catalog_path_is_rados(to)) {
		rc = create_file(to, err);
		if (rc < 0)
			return rc;
		rc = sqlite3_open_v2(to, db, SQLITE_OPEN_READWRITE, NULL);
	} else {
		rc = catalog_rados_location_parse(to, &loc, err);
		if (rc < 0)
			return rc;
		if (!sqlite3_vfs_find(CATALOG_CEPH_VFS))
			return rc_error_set(err, -EINVAL, "copying to %s: Ceph's "
					    "SQLite VFS is not loaded", to);
		rc = sqlite3_open_v2(loc.vfs_path, db, SQLITE_OPEN_READWRITE |
				     SQLITE_OPEN_CREATE, CATALOG_CEPH_VFS);
	}
	if (rc != SQLITE_OK) {
		rc = db_error(*db, *db && sqlite3_extended_errcode(*db) < 0
			      ? sqlite3_extended_errcode(*db) : rc, to,
			      "creating", err);
		sqlite3_close(*db);
		*db = NULL;
		catalog_copy_remove(to, &(struct rc_error){0});
		return rc;
	}
	sqlite3_extended_result_codes(*db, 1);
	return 0;
}

/* Gives the copy the layout a catalog of its kind has (see the top). */
static int settle_layout(sqlite3 *db, const char *to, struct rc_error *err)
{
	const char *sql;
	sqlite3_stmt *st = NULL;
	int page_size = 0;

	if (catalog_path_is_rados(to)) {
		sql = "PRAGMA locking_mode = EXCLUSIVE;"
		      "PRAGMA journal_mode = PERSIST;"
		      "PRAGMA temp_store = MEMORY;"
		      "PRAGMA page_size = 65536;"
		      "VACUUM;"
		      "PRAGMA locking_mode = NORMAL;";
	} else {
		if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) ==
		    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			page_size = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		/* a page size changes only outside WAL mode */
		sql = page_size == FILE_PAGE_SIZE
			? "PRAGMA journal_mode = WAL;"
			: "PRAGMA journal_mode = DELETE;"
			  "PRAGMA page_size = 4096;"
			  "VACUUM;"
			  "PRAGMA journal_mode = WAL;";
	}
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, SQLITE_IOERR, to, "converting the copy at",
				err);
	return 0;
}

/* Reads a PRAGMA's text value into buf. */
static void pragma_text(struct catalog *cat, const char *sql, char *buf,
			size_t len)
{
	sqlite3_stmt *st = NULL;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* The copy opens as a catalog (rowcat's application id, a schema this
 * rowcat knows), passes integrity_check, has the source's schema version
 * and the layout of its kind. */
static int verify_copy(const char *to, int version, struct rc_error *err)
{
	struct catalog *cat = NULL;
	bool rados = catalog_path_is_rados(to);
	char page_size[16], mode[16];
	int rc;

	RC_FAILPOINT("copy.verify.before");
	rc = rc_failpoint_error("copy.verify.before")
		? rc_error_set(err, -EIO, "failure injected at copy.verify.before")
		: catalog_open(&cat, to, CATALOG_OPEN_EXISTING, err);
	if (rc == 0)
		rc = catalog_verify(cat, true, err);
	if (rc < 0)
		goto out;
	pragma_text(cat, "PRAGMA page_size", page_size, sizeof(page_size));
	pragma_text(cat, "PRAGMA journal_mode", mode, sizeof(mode));
	if (catalog_schema_version(cat) != version)
		rc = rc_error_set(err, -EIO, "the copy at %s has schema version "
				  "%d, not the source's %d", to,
				  catalog_schema_version(cat), version);
	else if (atoi(page_size) != (rados ? RADOS_PAGE_SIZE : FILE_PAGE_SIZE) ||
		 strcmp(mode, rados ? "persist" : "wal") != 0)
		rc = rc_error_set(err, -EIO, "the copy at %s has %s-byte pages "
				  "and journal mode %s, not those of a catalog "
				  "%s", to, page_size, mode,
				  rados ? "in RADOS" : "file");
out:
	catalog_close(cat);
	return rc;
}

int catalog_copy(const char *from, const char *to, int *schema_version,
		 struct rc_error *err)
{
	struct catalog *src = NULL;
	sqlite3_backup *backup;
	sqlite3 *dst = NULL;
	bool created = false;
	int rc, step;

	*schema_version = 0;
	rc = catalog_open(&src, from, CATALOG_OPEN_EXISTING, err);
	if (rc < 0)
		goto out;
	*schema_version = catalog_schema_version(src);
	rc = open_target(to, &dst, err);
	if (rc < 0)
		goto out;
	created = true;
	/* one step: one read transaction on the source (and one hold of
	 * its RADOS lock), so the copy is of one moment */
	backup = sqlite3_backup_init(dst, "main", src->db, "main");
	if (!backup) {
		rc = db_error(dst, SQLITE_IOERR, to, "copying to", err);
		goto out;
	}
	step = sqlite3_backup_step(backup, -1);
	sqlite3_backup_finish(backup);
	if (step != SQLITE_DONE) {
		rc = (step & 0xff) == SQLITE_BUSY || (step & 0xff) == SQLITE_LOCKED
			? rc_error_set(err, -EBUSY, "copying %s: it is busy; try "
				       "again", from)
			: db_error(dst, step, to, "copying to", err);
		goto out;
	}
	catalog_close(src);
	src = NULL;
	rc = settle_layout(dst, to, err);
	if (rc < 0)
		goto out;
	if (sqlite3_close(dst) != SQLITE_OK) {
		rc = db_error(dst, SQLITE_IOERR, to, "closing the copy at", err);
		goto out;
	}
	dst = NULL;
	rc = verify_copy(to, *schema_version, err);
out:
	catalog_close(src);
	sqlite3_close(dst);
	/* a copy that is not known good is not left to be taken for one */
	if (rc < 0 && created)
		catalog_copy_remove(to, &(struct rc_error){0});
	return rc;
}
