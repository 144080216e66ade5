/*
 * Opening, migrating and closing the catalog, and its transactions.
 *
 * Nothing is written to a file until it has been recognised as a rowcat
 * catalog (or is new and empty): a wrong --catalog must never damage
 * someone else's database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "internal.h"

/* schema.sql, embedded at build time (cmake/EmbedFile.cmake). */
extern const char catalog_schema_sql[];

#define ROWCAT_APPLICATION_ID CATALOG_APPLICATION_ID
#define BUSY_TIMEOUT_MS 10000
#define MIGRATION_MARK "-- migration "

/*
 * The errno behind SQLite's last failure when the system refused something
 * (a full disk, a read-only mount, a symbolic link where SQLite will not
 * follow one), else 0: SQLite's own words ("disk I/O error", "unable to open
 * database file") do not say which.
 */
static int system_errno(struct catalog *cat)
{
	int code = sqlite3_extended_errcode(cat->db) & 0xff;
	int e = sqlite3_system_errno(cat->db);

	if (code == SQLITE_FULL)
		return ENOSPC;
	if (code != SQLITE_IOERR && code != SQLITE_CANTOPEN &&
	    code != SQLITE_READONLY && code != SQLITE_PERM)
		return 0;
	return e > 0 ? e : 0;
}

int catalog_sql_error(struct catalog *cat, struct rc_error *err,
		      const char *doing)
{
	int code = sqlite3_extended_errcode(cat->db);
	int sys = system_errno(cat);
	int e = -EIO;

	if (sys == ENOSPC || sys == EDQUOT || sys == EROFS)
		return rc_error_set(err, -sys, "%s: the catalog %s could not be "
				    "written: %s", doing, cat->path, strerror(sys));
	/* -ENOENT from the catalog means "no such row" to every caller; a
	 * file SQLite could not find (its -wal or -journal, the directory)
	 * is an I/O failure */
	if (sys)
		return rc_error_set(err, sys == ENOENT ? -EIO : -sys,
				    "%s: catalog %s: %s (%s)", doing, cat->path,
				    sqlite3_errmsg(cat->db), strerror(sys));
	if ((code & 0xff) == SQLITE_CORRUPT)
		return rc_error_set(err, -EIO, "%s: catalog %s is damaged (%s); "
				    "see 'A damaged catalog' in the README",
				    doing, cat->path, sqlite3_errmsg(cat->db));
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		e = -EBUSY;
	else if (code == SQLITE_CONSTRAINT_UNIQUE ||
		 code == SQLITE_CONSTRAINT_PRIMARYKEY)
		e = -EEXIST;
	else if ((code & 0xff) == SQLITE_CONSTRAINT)
		e = -EINVAL;
	else if ((code & 0xff) == SQLITE_NOTADB)
		e = -EINVAL;
	return rc_error_set(err, e, "%s: catalog %s: %s", doing, cat->path,
			    sqlite3_errmsg(cat->db));
}

/*
 * Finds migration `version` in the embedded schema: *start points at its
 * first byte and *len covers it up to the next marker. Returns 0, or -ENOENT
 * when there is no such migration.
 */
static int find_migration(int version, const char **start, size_t *len)
{
	const char *p = catalog_schema_sql;

	while ((p = strstr(p, MIGRATION_MARK)) != NULL) {
		p += strlen(MIGRATION_MARK);
		if (atoi(p) == version) {
			const char *body = p + strcspn(p, "\n");
			const char *end = strstr(body, MIGRATION_MARK);
			*start = body;
			*len = end ? (size_t)(end - body) : strlen(body);
			return 0;
		}
	}
	return -ENOENT;
}

/* Counted afresh on each call (a few migrations, on open only): a cached
 * value would be a lazy static that the gc and policy workers, each opening
 * its own connection, write at once, and a worker could read it half
 * counted. */
int catalog_schema_version_supported(void)
{
	const char *start;
	size_t len;
	int newest = 0;

	while (find_migration(newest + 1, &start, &len) == 0)
		newest++;
	return newest;
}

const char *catalog_sqlite_version(void)
{
	return sqlite3_libversion();
}

/* Runs a single-value integer query such as a PRAGMA. */
static int query_int(struct catalog *cat, const char *sql, int *out,
		     struct rc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = catalog_sql_error(cat, err, "reading the catalog");
		goto out;
	}
	*out = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int exec(struct catalog *cat, const char *sql, struct rc_error *err,
		const char *doing)
{
	if (sqlite3_exec(cat->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return catalog_sql_error(cat, err, doing);
	return 0;
}

int catalog_schema_version(struct catalog *cat)
{
	struct rc_error ignored;
	int version = -1;

	query_int(cat, "PRAGMA user_version", &version, &ignored);
	return version;
}

/*
 * Why SQLite could not open or read the catalog, as an errno, or 0 when the
 * system did not refuse anything. In WAL mode SQLite creates the -wal and
 * -shm files even to read, and on a read-only mount its last system call
 * was a lookup that found no -wal (ENOENT): ask the file system itself.
 */
static int open_failure_errno(struct catalog *cat)
{
	char dir[sizeof(cat->path)];
	struct statvfs fs;
	char *slash;
	int code = sqlite3_extended_errcode(cat->db) & 0xff;
	int sys = system_errno(cat);

	if (code != SQLITE_IOERR && code != SQLITE_CANTOPEN &&
	    code != SQLITE_READONLY && code != SQLITE_PERM && code != SQLITE_FULL)
		return 0; /* SQLite's own reason (not a database, damaged) */
	/* in RADOS there is no file system to ask: only what the VFS said */
	if (cat->rados)
		return sys;
	if (sys == ENOSPC || sys == EDQUOT || sys == EROFS || sys == ELOOP ||
	    sys == EACCES || sys == EPERM)
		return sys;
	if (statvfs(cat->path, &fs) == 0 && (fs.f_flag & ST_RDONLY))
		return EROFS;
	snprintf(dir, sizeof(dir), "%s", cat->path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK) < 0)
		return errno;
	return sys;
}

/*
 * Refuses files that are not ours: not SQLite at all, someone else's
 * database, a catalog from a newer rowcat, and (unless mode is CREATE, as
 * for 'rowcat init') a file that was never made a catalog, such as one of 0
 * bytes: starting an empty catalog there would hide every volume the
 * cluster holds. A file that cannot be read says why instead.
 */
static int identify(struct catalog *cat, enum catalog_open_mode mode,
		    int *version_out, struct rc_error *err)
{
	int app_id = 0, version = 0, tables = 0, sys;

	if (query_int(cat, "SELECT count(*) FROM sqlite_master", &tables, err) < 0) {
		sys = open_failure_errno(cat);
		if (sys == ELOOP)
			return rc_error_set(err, -ELOOP, "cannot open catalog %s: "
				"its -wal or -shm file is a symbolic link, which "
				"rowcat does not follow", cat->path);
		if (sys && cat->rados)
			return rc_error_set(err, -sys, "cannot open catalog %s: %s",
					    cat->path, strerror(sys));
		if (sys)
			return rc_error_set(err, -sys, "cannot open catalog %s: %s "
				"(SQLite writes beside the catalog even to read it)",
				cat->path, strerror(sys));
		if ((sqlite3_extended_errcode(cat->db) & 0xff) == SQLITE_NOTADB)
			return rc_error_set(err, -EINVAL,
					    "%s is not a rowcat catalog (%s)",
					    cat->path, sqlite3_errmsg(cat->db));
		return catalog_sql_error(cat, err, "opening");
	}
	if (query_int(cat, "PRAGMA application_id", &app_id, err) < 0 ||
	    query_int(cat, "PRAGMA user_version", &version, err) < 0)
		return err->code;
	if (app_id != ROWCAT_APPLICATION_ID && (tables > 0 || version != 0))
		return rc_error_set(err, -EINVAL,
			"%s is an SQLite database but not a rowcat catalog",
			cat->path);
	if (version > catalog_schema_version_supported())
		return rc_error_set(err, -EPROTO,
			"catalog %s has schema version %d, newer than this rowcat "
			"understands (%d); use a newer rowcat", cat->path,
			version, catalog_schema_version_supported());
	if (version == 0 && mode != CATALOG_OPEN_CREATE)
		return rc_error_set(err, -ENOENT,
			"%s is empty, not a rowcat catalog (was it truncated?); "
			"restore the catalog, or make a new one with 'rowcat init'",
			cat->path);
	*version_out = version;
	return 0;
}

/* identify, its reads in one transaction: in RADOS each transaction is a
 * round trip for the database's lock. */
static int check_identity(struct catalog *cat, enum catalog_open_mode mode,
			  int *version, struct rc_error *err)
{
	int rc = catalog_read_begin(cat, err);

	if (rc == 0)
		rc = identify(cat, mode, version, err);
	catalog_read_end(cat);
	return rc;
}

int catalog_verify(struct catalog *cat, bool full, struct rc_error *err)
{
	const char *sql = full ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)";
	sqlite3_stmt *st = NULL;
	char problem[256];
	int rc = 0, step;

	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = catalog_sql_error(cat, err, "checking the catalog");
		goto out;
	}
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		rc = catalog_sql_error(cat, err, "checking the catalog");
		goto out;
	}
	snprintf(problem, sizeof(problem), "%s",
		 sqlite3_column_text(st, 0)
			 ? (const char *)sqlite3_column_text(st, 0) : "?");
	if (strcmp(problem, "ok") == 0)
		goto out;
	/* SQLite's report spans lines; the CLI prints one */
	for (char *p = problem; *p; p++)
		if (*p == '\n')
			*p = ' ';
	rc = rc_error_set(err, -EIO, "catalog %s is damaged (SQLite's %s: %s); "
			  "see 'A damaged catalog' in the README", cat->path,
			  full ? "integrity_check" : "quick_check", problem);
out:
	sqlite3_finalize(st);
	return rc;
}

/* Whether the catalog's rows all point at rows that exist: a migration
 * runs with foreign keys off, so that it can rebuild a table others refer
 * to, and must leave them as consistent as it found them. */
static int check_foreign_keys(struct catalog *cat, struct rc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, step;

	if (sqlite3_prepare_v2(cat->db, "PRAGMA foreign_key_check", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = catalog_sql_error(cat, err, "migrating the catalog");
		goto out;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = rc_error_set(err, -EINVAL, "migrating the catalog %s: a row "
				  "of table %s refers to a missing row of %s",
				  cat->path, sqlite3_column_text(st, 0),
				  sqlite3_column_text(st, 2));
	else if (step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "migrating the catalog");
out:
	sqlite3_finalize(st);
	return rc;
}

/* Applies migration `version` in its own transaction, unless another
 * process got there first. Foreign keys are off for it, as SQLite's
 * documentation asks of a migration that rebuilds a table (the pragma does
 * nothing inside a transaction), and checked before it commits. */
static int apply_migration(struct catalog *cat, int version,
			   struct rc_error *err)
{
	struct rc_error ignored = { 0 };
	char *sql = NULL;
	const char *start;
	size_t len;
	int current = 0, rc, fk_rc;

	rc = exec(cat, "PRAGMA foreign_keys = OFF", err, "migrating the catalog");
	if (rc < 0)
		return rc;
	rc = catalog_begin(cat, err);
	if (rc < 0)
		goto out;
	rc = query_int(cat, "PRAGMA user_version", &current, err);
	if (rc < 0 || current >= version)
		goto out;
	if (find_migration(version, &start, &len) < 0) {
		rc = rc_error_set(err, -ENOENT, "schema migration %d is missing",
				  version);
		goto out;
	}
	sql = malloc(len + 96);
	if (!sql) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(sql, len + 96, "%.*s;\nPRAGMA application_id = %d;\n"
		 "PRAGMA user_version = %d;", (int)len, start,
		 ROWCAT_APPLICATION_ID, version);
	rc = exec(cat, sql, err, "migrating the catalog");
	if (rc == 0)
		rc = check_foreign_keys(cat, err);
	if (rc == 0)
		rc = catalog_commit(cat, err);
out:
	if (rc < 0 || sqlite3_get_autocommit(cat->db) == 0)
		catalog_rollback(cat);
	/* on again whatever happened: the connection goes on being used */
	fk_rc = exec(cat, "PRAGMA foreign_keys = ON", rc < 0 ? &ignored : err,
		     "migrating the catalog");
	if (rc == 0)
		rc = fk_rc;
	free(sql);
	return rc;
}

/* From version, as the catalog was read at open: each migration checks
 * again, in its transaction, that no other process applied it first. */
static int migrate(struct catalog *cat, int version, struct rc_error *err)
{
	int newest = catalog_schema_version_supported();
	int rc = 0;

	for (int v = version + 1; v <= newest && rc == 0; v++)
		rc = apply_migration(cat, v, err);
	return rc;
}

/* Makes sure path is a regular file, creating it 0600 when asked to. */
static int prepare_file(const char *path, enum catalog_open_mode mode,
			struct rc_error *err)
{
	struct stat st;
	int fd;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return rc_error_set(err, -EISDIR,
				"catalog %s is a directory, not a file", path);
		if (!S_ISREG(st.st_mode))
			return rc_error_set(err, -EINVAL,
				"catalog %s is not a regular file", path);
		return 0;
	}
	if (errno != ENOENT)
		return rc_error_set(err, -errno, "catalog %s: %s", path,
				    strerror(errno));
	if (mode != CATALOG_OPEN_CREATE)
		return rc_error_set(err, -ENOENT,
			"no catalog at %s (create one with 'rowcat init')", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return rc_error_set(err, -errno, "creating catalog %s: %s", path,
				    strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

int catalog_open_side_file(const char *path, struct rc_error *err)
{
	struct stat st;
	int fd, rc = 0;

	/* O_NONBLOCK: a FIFO planted there must not hang the open */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		  0600);
	if (fd < 0 && errno == ELOOP)
		return rc_error_set(err, -ELOOP, "%s is a symbolic link; rowcat "
				    "does not follow one there (remove it)", path);
	if (fd < 0)
		return rc_error_set(err, -errno, "opening %s: %s", path,
				    strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = rc_error_set(err, -errno, "opening %s: %s", path,
				  strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = rc_error_set(err, -EINVAL, "%s is not a regular file; rowcat "
				  "does not use it (remove it)", path);
	else if (st.st_nlink != 1)
		rc = rc_error_set(err, -EINVAL, "%s has %ju hard links; rowcat "
				  "does not write to it (remove it)", path,
				  (uintmax_t)st.st_nlink);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * Opens the database: a file, or through Ceph's VFS (which the caller has
 * loaded with catalog_ceph_vfs_load) one in RADOS.
 */
static int open_database(struct catalog *cat, enum catalog_open_mode mode,
			 struct rc_error *err)
{
	struct catalog_rados_location loc;
	int flags = SQLITE_OPEN_READWRITE, rc;

	if (!cat->rados) {
		rc = prepare_file(cat->path, mode, err);
		if (rc == 0 && sqlite3_open_v2(cat->path, &cat->db, flags,
					       NULL) != SQLITE_OK)
			rc = catalog_sql_error(cat, err, "opening");
		return rc;
	}
	rc = catalog_rados_location_parse(cat->path, &loc, err);
	if (rc < 0)
		return rc;
	if (!sqlite3_vfs_find(CATALOG_CEPH_VFS))
		return rc_error_set(err, -EINVAL, "opening catalog %s: Ceph's "
				    "SQLite VFS is not loaded", cat->path);
	if (mode == CATALOG_OPEN_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(loc.vfs_path, &cat->db, flags, CATALOG_CEPH_VFS);
	/* the VFS answers a failed open with the negative errno for an SQLite
	 * code, which sqlite3_errmsg cannot name */
	if (rc != SQLITE_OK && cat->db && sqlite3_extended_errcode(cat->db) < 0)
		rc = sqlite3_extended_errcode(cat->db);
	if (rc == -ENOENT)
		return rc_error_set(err, -ENOENT, "no catalog at %s (create one "
				    "with 'rowcat init')", cat->path);
	if (rc < 0)
		return rc_error_set(err, rc, "opening catalog %s: %s", cat->path,
				    strerror(-rc));
	if (rc != SQLITE_OK)
		return catalog_sql_error(cat, err, "opening");
	/* before anything is written: 64 KiB pages are the VFS's advice
	 * (fewer, larger RADOS reads); a no-op on a catalog that exists */
	if (mode == CATALOG_OPEN_CREATE)
		rc = exec(cat, "PRAGMA page_size = 65536", err,
			  "configuring the catalog");
	return rc;
}

/*
 * A file catalog runs in WAL mode, so that readers (tree, ls) run beside a
 * writer, with FULL sync because a journal entry that vanishes after a
 * power cut could leave the cluster with work the catalog cannot account
 * for. Ceph's VFS has no shared memory, so no WAL beside other hosts:
 * a rollback journal kept between transactions (deleting it would delete
 * its RADOS objects every time), and temporary tables in memory (the VFS
 * has no temporary files). None of these settings outlive the connection.
 */
static int configure(struct catalog *cat, struct rc_error *err)
{
	if (cat->rados)
		return exec(cat, "PRAGMA journal_mode = PERSIST;"
			    "PRAGMA temp_store = MEMORY;"
			    "PRAGMA cache_size = -16384;"
			    "PRAGMA synchronous = FULL;"
			    "PRAGMA foreign_keys = ON;", err,
			    "configuring the catalog");
	return exec(cat, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		    "PRAGMA foreign_keys = ON;", err, "configuring the catalog");
}

int catalog_open(struct catalog **out, const char *path,
		 enum catalog_open_mode mode, struct rc_error *err)
{
	struct catalog *cat = NULL;
	int version = 0, rc;

	*out = NULL;
	cat = calloc(1, sizeof(*cat));
	if (!cat)
		return rc_error_set(err, -ENOMEM, "out of memory");
	snprintf(cat->path, sizeof(cat->path), "%s", path);
	cat->rados = catalog_path_is_rados(path);
	cat->oplock_fd = -1;
	for (int j = 0; j < CATALOG_JOB_KINDS; j++)
		cat->job_lock_fds[j] = -1;
	cat->writers = malloc(sizeof(*cat->writers));
	if (!cat->writers) {
		free(cat);
		return rc_error_set(err, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(cat->writers, NULL);
	cat->owns_writers = true;

	rc = open_database(cat, mode, err);
	if (rc < 0)
		goto out;
	sqlite3_extended_result_codes(cat->db, 1);
	catalog_txn_count_start(cat);
	sqlite3_busy_timeout(cat->db, BUSY_TIMEOUT_MS);
	rc = check_identity(cat, mode, &version, err);
	if (rc < 0)
		goto out;
	/* init vouches for the catalog, and a migration must not build on
	 * damaged pages */
	if (mode == CATALOG_OPEN_CREATE ||
	    version < catalog_schema_version_supported()) {
		rc = catalog_verify(cat, false, err);
		if (rc < 0)
			goto out;
	}
	rc = configure(cat, err);
	if (rc < 0)
		goto out;
	rc = migrate(cat, version, err);
out:
	if (rc < 0) {
		catalog_close(cat);
		return rc;
	}
	*out = cat;
	return 0;
}

int catalog_reopen(struct catalog **out, const struct catalog *cat,
		   struct rc_error *err)
{
	int rc = catalog_open(out, cat->path, CATALOG_OPEN_EXISTING, err);

	if (rc < 0)
		return rc;
	if (cat->has_claims)
		catalog_set_claims(*out, &cat->claims);
	pthread_mutex_destroy((*out)->writers);
	free((*out)->writers);
	(*out)->writers = cat->writers;
	(*out)->owns_writers = false;
	return 0;
}

void catalog_set_claims(struct catalog *cat, const struct catalog_claims *claims)
{
	cat->claims = *claims;
	cat->has_claims = true;
}

bool catalog_is_rados(const struct catalog *cat)
{
	return cat->rados;
}

void catalog_close(struct catalog *cat)
{
	if (!cat)
		return;
	if (cat->db && sqlite3_get_autocommit(cat->db) == 0)
		catalog_rollback(cat);
	/* a transaction SQLite rolled back on its own (a full disk, an I/O
	 * error) ends without catalog_rollback: the other threads must not
	 * wait for a connection that is gone */
	if (cat->holds_writers) {
		cat->holds_writers = false;
		pthread_mutex_unlock(cat->writers);
	}
	catalog_txn_count_stop(cat);
	if (cat->owns_writers) {
		pthread_mutex_destroy(cat->writers);
		free(cat->writers);
	}
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(cat->stmts[i]);
	sqlite3_close(cat->db);
	if (cat->oplock_fd >= 0)
		close(cat->oplock_fd);
	for (int j = 0; j < CATALOG_JOB_KINDS; j++) {
		if (cat->job_lock_fds[j] >= 0)
			close(cat->job_lock_fds[j]);
	}
	free(cat);
}

/* Ends cat's hold on the process's writers once its transaction ended. */
static void release_writers(struct catalog *cat)
{
	if (cat->holds_writers && sqlite3_get_autocommit(cat->db)) {
		cat->holds_writers = false;
		pthread_mutex_unlock(cat->writers);
	}
}

/*
 * The threads of one process (policy run and gc workers, each on its own
 * connection) queue for the write lock on a mutex first: SQLite's busy
 * handler polls, sleeping up to 100 ms between tries, so a hundred
 * workers contending for the lock leave it idle most of the time (a
 * policy run of 100 volumes spent 330 s of its threads' time waiting in
 * BEGIN IMMEDIATE for 7 s of transactions). Other processes still meet
 * the busy timeout.
 */
int catalog_begin(struct catalog *cat, struct rc_error *err)
{
	int rc;

	/* a process whose claim another host took over writes nothing */
	if (cat->has_claims && (rc = cat->claims.check(cat->claims.ctx, err)) < 0)
		return rc;
	if (!cat->holds_writers && sqlite3_get_autocommit(cat->db)) {
		pthread_mutex_lock(cat->writers);
		cat->holds_writers = true;
	}
	rc = exec(cat, "BEGIN IMMEDIATE", err, "starting a transaction");
	if (rc < 0)
		release_writers(cat);

	if (rc == -EBUSY)
		rc = rc_error_set(err, -EBUSY,
			"catalog %s is busy: another rowcat held its write lock "
			"for over %d s", cat->path, BUSY_TIMEOUT_MS / 1000);
	return rc;
}

int catalog_read_begin(struct catalog *cat, struct rc_error *err)
{
	return exec(cat, "BEGIN DEFERRED", err, "starting to read");
}

void catalog_read_end(struct catalog *cat)
{
	/* nothing was written: ROLLBACK ends it as COMMIT would, and
	 * cannot fail for want of room */
	if (sqlite3_get_autocommit(cat->db) == 0)
		catalog_rollback(cat);
}

int catalog_commit(struct catalog *cat, struct rc_error *err)
{
	int rc = exec(cat, "COMMIT", err, "committing");

	release_writers(cat);
	return rc;
}

int catalog_settle(struct catalog *cat, int rc, struct rc_error *err)
{
	if (rc == 0)
		rc = catalog_commit(cat, err);
	if (rc < 0)
		catalog_rollback(cat);
	return rc;
}

void catalog_rollback(struct catalog *cat)
{
	sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	release_writers(cat);
}

const char *catalog_path(const struct catalog *cat)
{
	return cat->path;
}
