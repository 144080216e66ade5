/* catalog/: opening, migrating, rows, lineage queries and the journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "rowcat/catalog.h"
#include "rowcat/sys/journal.h"
#include "rowcat/clock.h"
#include "testdir.h"

struct fixture {
	struct testdir dir;
	char path[512];
	struct catalog *cat;
	struct rc_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	testdir_make(&f->dir);
	testdir_file(&f->dir, "catalog.db", f->path, sizeof(f->path));
	*state = f;
	return 0;
}

static int setup_open(void **state)
{
	struct fixture *f;

	setup(state);
	f = *state;
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	catalog_close(f->cat);
	testdir_remove(&f->dir);
	free(f);
	return 0;
}

/* Writes a file with the given bytes; returns its stat for comparison. */
static void write_file(const char *path, const char *content)
{
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	fputs(content, out);
	fclose(out);
}

static void assert_same_file(const char *path, const struct stat *before)
{
	struct stat after;
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_size, before->st_size);
	assert_int_equal(after.st_mtim.tv_sec, before->st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before->st_mtim.tv_nsec);
}

static void run_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* ---- opening ---------------------------------------------------------- */

static void test_open_creates_a_private_file_at_the_newest_schema(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(catalog_schema_version(f->cat),
			 catalog_schema_version_supported());
	assert_true(catalog_schema_version_supported() >= 1);
}

static void test_open_twice_is_harmless(void **state)
{
	struct fixture *f = *state;
	struct catalog *second = NULL;

	assert_int_equal(catalog_open(&second, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	assert_int_equal(catalog_schema_version(second),
			 catalog_schema_version_supported());
	catalog_close(second);
}

static void test_open_existing_without_a_file_creates_nothing(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), -ENOENT);
	assert_null(f->cat);
	assert_non_null(strstr(f->err.message, "rowcat init"));
	assert_int_equal(stat(f->path, &st), -1);
}

static void test_open_refuses_a_directory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(catalog_open(&f->cat, f->dir.path, CATALOG_OPEN_CREATE,
				      &f->err), -EISDIR);
	assert_non_null(strstr(f->err.message, "is a directory"));
}

static void test_open_refuses_a_file_that_is_not_sqlite(void **state)
{
	struct fixture *f = *state;
	struct stat before;

	write_file(f->path, "these are not the bytes of an SQLite database\n");
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), -EINVAL);
	assert_non_null(strstr(f->err.message, "not a rowcat catalog"));
	assert_same_file(f->path, &before);
}

static void test_open_refuses_someone_elses_database(void **state)
{
	struct fixture *f = *state;
	struct stat before;

	run_sql(f->path, "CREATE TABLE accounts (id INTEGER);");
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), -EINVAL);
	assert_non_null(strstr(f->err.message, "not a rowcat catalog"));
	assert_same_file(f->path, &before);
}

static void test_open_refuses_a_newer_schema_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct stat before;
	char sql[128];

	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	catalog_close(f->cat);
	f->cat = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;",
		 catalog_schema_version_supported() + 1);
	run_sql(f->path, sql);
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), -EPROTO);
	assert_non_null(strstr(f->err.message, "newer"));
	assert_same_file(f->path, &before);
}

static const struct rc_image_spec root_spec = { "rbd", "", "vol1" };

static void test_open_refuses_an_empty_file_that_only_init_may_make_a_catalog(
	void **state)
{
	struct fixture *f = *state;
	struct stat st;

	write_file(f->path, "");
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), -ENOENT);
	assert_null(f->cat);
	assert_non_null(strstr(f->err.message, "is empty"));
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 0);
	/* init is asked to make a catalog: it does */
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	assert_int_equal(catalog_schema_version(f->cat),
			 catalog_schema_version_supported());
}

/* Overwrites the first page of table `table` with bytes no b-tree page
 * starts with, as a failing disk might. */
static void damage_table(const char *path, const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int page_size, root, fd;
	char *junk;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage, "
		"(SELECT page_size FROM pragma_page_size) FROM sqlite_master "
		"WHERE name = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	root = sqlite3_column_int(st, 0);
	page_size = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	junk = malloc((size_t)page_size);
	assert_non_null(junk);
	memset(junk, 0xff, (size_t)page_size);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, (size_t)page_size,
				(off_t)(root - 1) * page_size), page_size);
	close(fd);
	free(junk);
}

static void test_a_damaged_catalog_is_refused_by_init_and_verify(void **state)
{
	struct fixture *f = *state;
	struct stat before;
	int64_t id;

	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_insert(f->cat, "vol1", 1, &root_spec, 1,
					       &id, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(catalog_verify(f->cat, true, &f->err), 0);
	catalog_close(f->cat);
	f->cat = NULL;
	/* the operation journal: damage there hides what recovery needs */
	damage_table(f->path, "operation");
	assert_int_equal(stat(f->path, &before), 0);

	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), -EIO);
	assert_null(f->cat);
	assert_non_null(strstr(f->err.message, "is damaged (SQLite's quick_check"));
	assert_null(strchr(f->err.message, '\n'));
	assert_same_file(f->path, &before);

	/* other commands open it (reading what is whole) and verify asks */
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_verify(f->cat, false, &f->err), -EIO);
	assert_non_null(strstr(f->err.message, "is damaged (SQLite's quick_check"));
	assert_int_equal(catalog_verify(f->cat, true, &f->err), -EIO);
	assert_non_null(strstr(f->err.message,
			       "is damaged (SQLite's integrity_check"));
	assert_same_file(f->path, &before);
}

/* ---- the files beside the catalog -------------------------------------- */

static void assert_file_holds(const char *path, const char *content)
{
	char buf[128] = "";
	FILE *in = fopen(path, "r");

	assert_non_null(in);
	if (!fgets(buf, sizeof(buf), in))
		buf[0] = '\0';
	fclose(in);
	assert_string_equal(buf, content);
}

static void test_lock_files_refuse_a_planted_symlink_fifo_or_hard_link(
	void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_CREATE, .started_at = 1,
					.target = { "rbd", "", "v" } };
	char victim[600], gc_lock[600], policy_lock[600], oplock[600];
	struct stat st;

	snprintf(victim, sizeof(victim), "%s/victim", f->dir.path);
	snprintf(gc_lock, sizeof(gc_lock), "%s-gc.lock", f->path);
	snprintf(policy_lock, sizeof(policy_lock), "%s-policy.lock", f->path);
	snprintf(oplock, sizeof(oplock), "%s-oplock", f->path);
	write_file(victim, "precious\n");

	assert_int_equal(symlink(victim, gc_lock), 0);
	assert_int_equal(catalog_job_lock(f->cat, CATALOG_JOB_GC, &f->err), -ELOOP);
	assert_non_null(strstr(f->err.message, "is a symbolic link"));
	/* a dangling one is not created through either */
	assert_int_equal(unlink(gc_lock), 0);
	assert_int_equal(symlink("/nonexistent-rowcat-victim", gc_lock), 0);
	assert_int_equal(catalog_job_lock(f->cat, CATALOG_JOB_GC, &f->err), -ELOOP);
	assert_int_equal(lstat("/nonexistent-rowcat-victim", &st), -1);

	assert_int_equal(link(victim, policy_lock), 0);
	assert_int_equal(catalog_job_lock(f->cat, CATALOG_JOB_POLICY, &f->err),
			 -EINVAL);
	assert_non_null(strstr(f->err.message, "hard links"));

	assert_int_equal(mkfifo(oplock, 0600), 0);
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.message, "not a regular file"));
	assert_int_equal(unlink(oplock), 0);
	assert_int_equal(symlink(victim, oplock), 0);
	op.id = 0;
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), -ELOOP);

	assert_file_holds(victim, "precious\n");
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 9);

	/* once they are out of the way, rowcat makes its own */
	unlink(gc_lock);
	unlink(policy_lock);
	unlink(oplock);
	assert_int_equal(catalog_job_lock(f->cat, CATALOG_JOB_GC, &f->err), 0);
	assert_int_equal(lstat(gc_lock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* ---- rows ------------------------------------------------------------- */

static int64_t make_volume(struct fixture *f, const char *name,
			   const struct rc_image_spec *image)
{
	int64_t id = 0;

	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_insert(f->cat, name, 64 << 20, image,
					       1000, &id, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	return id;
}

static void test_volume_is_found_by_name_with_its_root_image(void **state)
{
	struct fixture *f = *state;
	struct catalog_volume vol;
	struct catalog_image img;
	int64_t id = make_volume(f, "vol1", &root_spec);

	assert_int_equal(catalog_volume_find(f->cat, "vol1", &vol, &f->err), 0);
	assert_int_equal(vol.id, id);
	assert_string_equal(vol.name, "vol1");
	assert_int_equal(vol.size, 64 << 20);
	assert_int_equal(catalog_image_get(f->cat, vol.operating_image_id, &img,
					   &f->err), 0);
	assert_string_equal(img.spec.pool, "rbd");
	assert_string_equal(img.spec.ns, "");
	assert_string_equal(img.spec.name, "vol1");
	assert_int_equal(img.volume_id, id);
	assert_int_equal(img.parent_snapshot_id, 0);
}

/* A catalog in RADOS takes its lock for each transaction, the read
 * transaction SQLite opens for a statement outside BEGIN included. */
static void test_transactions_are_counted_reads_outside_begin_included(
	void **state)
{
	struct fixture *f = *state;
	struct catalog_txn_counts before, after, closed_before, closed_after;
	struct catalog_volume vol;
	struct catalog_operation *ops = NULL;
	size_t n = 0;

	catalog_txn_counts(f->cat, &before);
	make_volume(f, "vol1", &root_spec);
	catalog_txn_counts(f->cat, &after);
	assert_int_equal(after.transactions - before.transactions, 1);
	assert_int_equal(after.writes - before.writes, 1);

	/* two reads outside BEGIN: two transactions, no write */
	before = after;
	assert_int_equal(catalog_volume_find(f->cat, "vol1", &vol, &f->err), 0);
	assert_int_equal(catalog_op_list_running(f->cat, &ops, &n, &f->err), 0);
	free(ops);
	catalog_txn_counts(f->cat, &after);
	assert_int_equal(after.transactions - before.transactions, 2);
	assert_int_equal(after.writes, before.writes);

	/* a write transaction rolled back took the lock, and wrote nothing */
	before = after;
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_find(f->cat, "vol1", &vol, &f->err), 0);
	catalog_rollback(f->cat);
	catalog_txn_counts(f->cat, &after);
	assert_int_equal(after.transactions - before.transactions, 1);
	assert_int_equal(after.writes, before.writes);

	/* the process's sums grow by a connection's counts as it closes */
	catalog_txn_counts(NULL, &closed_before);
	catalog_close(f->cat);
	f->cat = NULL;
	catalog_txn_counts(NULL, &closed_after);
	assert_int_equal(closed_after.transactions - closed_before.transactions,
			 after.transactions);
	assert_int_equal(closed_after.writes - closed_before.writes,
			 after.writes);
}

static void test_unknown_volume_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct catalog_volume vol;

	assert_int_equal(catalog_volume_find(f->cat, "nope", &vol, &f->err),
			 -ENOENT);
	assert_non_null(strstr(f->err.message, "'nope'"));
}

static void test_second_volume_of_the_same_name_is_eexist(void **state)
{
	struct fixture *f = *state;
	struct rc_image_spec other = { "rbd", "", "elsewhere" };
	int64_t id;

	make_volume(f, "vol1", &root_spec);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_insert(f->cat, "vol1", 1, &other, 1, &id,
					       &f->err), -EEXIST);
	catalog_rollback(f->cat);
}

static void test_image_is_found_by_pool_namespace_and_name(void **state)
{
	struct fixture *f = *state;
	struct rc_image_spec in_ns = { "rbd", "ns1", "vol1" };
	struct catalog_image img;

	make_volume(f, "vol1", &root_spec);
	make_volume(f, "vol2", &in_ns);
	assert_int_equal(catalog_image_find(f->cat, &in_ns, &img, &f->err), 0);
	assert_string_equal(img.spec.ns, "ns1");
	struct rc_image_spec missing = { "rbd", "ns2", "vol1" };
	assert_int_equal(catalog_image_find(f->cat, &missing, &img, &f->err),
			 -ENOENT);
}

/* ---- lineage ---------------------------------------------------------- */

/*
 * Builds, on volume "vol1":
 *   vol1 ─@s1─▶ vol1.1 ─@s2─▶ vol1.2 ─@pre─┐
 *          └───────────────────────────────┴▶ vol1.3 (restore of s1)
 * ids: images[0..3], snapshots s1, s2, pre.
 */
struct built {
	int64_t volume, image[4], s1, s2, pre;
};

static int64_t add_snapshot(struct fixture *f, int64_t image, const char *name,
			    const char *origin, int64_t when)
{
	int64_t id;
	assert_int_equal(catalog_snapshot_insert(f->cat, image, name, origin,
						 true, when, &id, &f->err), 0);
	return id;
}

static int64_t add_clone(struct fixture *f, int64_t volume, const char *name,
			 int64_t parent, int64_t when)
{
	struct rc_image_spec spec = { "rbd", "", "" };
	int64_t id;

	snprintf(spec.name, sizeof(spec.name), "%s", name);
	assert_int_equal(catalog_clone_insert(f->cat, volume, &spec, parent, when,
					      &id, &f->err), 0);
	return id;
}

static void build_restored_volume(struct fixture *f, struct built *b)
{
	struct catalog_volume vol;

	b->volume = make_volume(f, "vol1", &root_spec);
	assert_int_equal(catalog_volume_find(f->cat, "vol1", &vol, &f->err), 0);
	b->image[0] = vol.operating_image_id;
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	b->s1 = add_snapshot(f, b->image[0], "s1", "manual", 2000);
	b->image[1] = add_clone(f, b->volume, "vol1.1", b->s1, 2000);
	b->s2 = add_snapshot(f, b->image[1], "s2", "manual", 3000);
	b->image[2] = add_clone(f, b->volume, "vol1.2", b->s2, 3000);
	b->pre = add_snapshot(f, b->image[2], "pre", "pre-restore", 4000);
	b->image[3] = add_clone(f, b->volume, "vol1.3", b->s1, 4000);
	assert_int_equal(catalog_volume_set_operating(f->cat, b->volume,
						      b->image[3], &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
}

static void test_depth_counts_the_clone_levels_read_through(void **state)
{
	struct fixture *f = *state;
	struct built b;
	int depth = -1;

	build_restored_volume(f, &b);
	int expected[4] = {0, 1, 2, 1};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(catalog_image_depth(f->cat, b.image[i], &depth,
						     &f->err), 0);
		assert_int_equal(depth, expected[i]);
	}
}

static void test_flatten_cuts_the_depth_of_the_image_and_its_clones(void **state)
{
	struct fixture *f = *state;
	struct built b;
	int depth = -1;

	build_restored_volume(f, &b);
	assert_int_equal(catalog_image_set_flattened(f->cat, b.image[1], 5000,
						     &f->err), 0);
	assert_int_equal(catalog_image_depth(f->cat, b.image[1], &depth, &f->err), 0);
	assert_int_equal(depth, 0);
	assert_int_equal(catalog_image_depth(f->cat, b.image[2], &depth, &f->err), 0);
	assert_int_equal(depth, 1);
	assert_int_equal(catalog_image_depth(f->cat, b.image[3], &depth, &f->err), 0);
	assert_int_equal(depth, 1);
}

static void test_depth_of_an_unknown_image_is_enoent(void **state)
{
	struct fixture *f = *state;
	int depth;

	assert_int_equal(catalog_image_depth(f->cat, 4242, &depth, &f->err),
			 -ENOENT);
}

static void test_ancestors_come_nearest_first(void **state)
{
	struct fixture *f = *state;
	struct catalog_image *up = NULL;
	struct built b;
	size_t n = 0;

	build_restored_volume(f, &b);
	assert_int_equal(catalog_image_ancestors(f->cat, b.image[2], false, &up,
						 &n, &f->err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(up[0].id, b.image[1]);
	assert_int_equal(up[1].id, b.image[0]);
	free(up);

	assert_int_equal(catalog_image_ancestors(f->cat, b.image[0], false, &up,
						 &n, &f->err), 0);
	assert_int_equal(n, 0);
	free(up);
}

static void test_ancestors_read_through_stop_at_a_flatten(void **state)
{
	struct fixture *f = *state;
	struct catalog_image *up = NULL;
	struct built b;
	size_t n = 0;

	build_restored_volume(f, &b);
	assert_int_equal(catalog_image_set_flattened(f->cat, b.image[1], 5000,
						     &f->err), 0);
	assert_int_equal(catalog_image_ancestors(f->cat, b.image[2], true, &up,
						 &n, &f->err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(up[0].id, b.image[1]);
	free(up);
	/* the whole history is still there */
	assert_int_equal(catalog_image_ancestors(f->cat, b.image[2], false, &up,
						 &n, &f->err), 0);
	assert_int_equal(n, 2);
	free(up);
}

static void test_lineage_holds_every_image_and_snapshot_of_the_tree(void **state)
{
	struct fixture *f = *state;
	struct catalog_lineage *lin = NULL;
	struct catalog_volume vol;
	struct built b;

	build_restored_volume(f, &b);
	make_volume(f, "other", &(struct rc_image_spec){ "rbd", "", "other" });
	assert_int_equal(catalog_volume_find(f->cat, "vol1", &vol, &f->err), 0);
	assert_int_equal(catalog_lineage_load(&lin, f->cat, &vol, &f->err), 0);
	assert_int_equal(lin->image_count, 4);
	assert_int_equal(lin->images[0].id, b.image[0]);
	assert_int_equal(lin->images[0].parent_snapshot_id, 0);
	assert_int_equal(lin->images[3].parent_snapshot_id, b.s1);
	int expected_depth[4] = {0, 1, 2, 1};
	for (int i = 0; i < 4; i++)
		assert_int_equal(lin->depths[i], expected_depth[i]);
	assert_int_equal(lin->snapshot_count, 3);
	assert_string_equal(lin->snapshots[0].name, "s1");
	assert_string_equal(lin->snapshots[2].name, "pre");
	assert_string_equal(lin->snapshots[2].origin, "pre-restore");
	assert_true(lin->snapshots[2].is_protected);
	assert_int_equal(lin->volume.operating_image_id, b.image[3]);
	catalog_lineage_free(lin);
}

struct listed {
	int count;
	struct catalog_volume_summary rows[4];
};

static int remember(void *ctx, const struct catalog_volume_summary *row,
		    struct rc_error *err)
{
	(void)err;
	struct listed *l = ctx;
	l->rows[l->count++] = *row;
	return 0;
}

static void test_list_gives_each_volume_its_depth_and_snapshots(void **state)
{
	struct fixture *f = *state;
	struct listed l = {0};
	struct built b;

	build_restored_volume(f, &b);
	make_volume(f, "alpha", &(struct rc_image_spec){ "rbd", "", "alpha" });
	assert_int_equal(catalog_volume_list(f->cat, remember, &l, &f->err), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.rows[0].volume.name, "alpha");
	assert_int_equal(l.rows[0].depth, 0);
	assert_int_equal(l.rows[0].snapshot_count, 0);
	assert_string_equal(l.rows[1].volume.name, "vol1");
	assert_string_equal(l.rows[1].operating.spec.name, "vol1.3");
	assert_int_equal(l.rows[1].depth, 1);
	assert_int_equal(l.rows[1].snapshot_count, 3);
}

static int stop_at_first(void *ctx, const struct catalog_volume_summary *row,
			 struct rc_error *err)
{
	(void)row;
	(void)err;
	(*(int *)ctx)++;
	return 7;
}

static void test_list_stops_when_the_callback_says_so(void **state)
{
	struct fixture *f = *state;
	int calls = 0;

	make_volume(f, "a", &(struct rc_image_spec){ "rbd", "", "a" });
	make_volume(f, "b", &(struct rc_image_spec){ "rbd", "", "b" });
	assert_int_equal(catalog_volume_list(f->cat, stop_at_first, &calls,
					     &f->err), 7);
	assert_int_equal(calls, 1);
}

static int fail_at_b(void *ctx, const struct catalog_volume_summary *row,
		     struct rc_error *err)
{
	(void)ctx;
	if (strcmp(row->volume.name, "b") == 0)
		return rc_error_set(err, -ENOSPC, "no room for volume '%s'",
				    row->volume.name);
	return 0;
}

static void test_list_returns_the_callbacks_failure_in_its_words(void **state)
{
	struct fixture *f = *state;

	make_volume(f, "a", &(struct rc_image_spec){ "rbd", "", "a" });
	make_volume(f, "b", &(struct rc_image_spec){ "rbd", "", "b" });
	assert_int_equal(catalog_volume_list(f->cat, fail_at_b, NULL, &f->err),
			 -ENOSPC);
	assert_int_equal(f->err.code, -ENOSPC);
	assert_string_equal(f->err.message, "no room for volume 'b'");
}

/* ---- journal ---------------------------------------------------------- */

static void test_an_operation_is_running_until_ended_once(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_CREATE, .size = 1 << 20,
					.target = { "rbd", "", "vol9" },
					.started_at = 100 };

	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	assert_true(op.id > 0);
	assert_int_equal(op.state, CATALOG_OP_RUNNING);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_end(f->cat, &op, CATALOG_OP_DONE, NULL, 200, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(op.state, CATALOG_OP_DONE);
	/* a second end (say, by a concurrent recovery) is refused */
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_end(f->cat, &op, CATALOG_OP_FAILED, "x", 300, &f->err),
			 -ESTALE);
	catalog_rollback(f->cat);
}

static void test_rollback_undoes_everything_since_begin(void **state)
{
	struct fixture *f = *state;
	struct catalog_volume vol;
	int64_t id;

	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_insert(f->cat, "gone", 1, &root_spec, 1,
					       &id, &f->err), 0);
	catalog_rollback(f->cat);
	assert_int_equal(catalog_volume_find(f->cat, "gone", &vol, &f->err),
			 -ENOENT);
}

static void test_a_running_operation_is_claimed_until_its_owner_closes(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_CREATE, .started_at = 1,
					.target = { "rbd", "", "v" } };
	struct catalog_operation *running = NULL;
	struct catalog *other = NULL;
	size_t n = 0;

	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	assert_int_equal(catalog_open(&other, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_op_list_running(other, &running, &n, &f->err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(running[0].id, op.id);
	assert_string_equal(running[0].target.name, "v");
	free(running);
	/* its owner is alive: nobody else may recover it */
	assert_int_equal(catalog_op_claim(other, op.id, &f->err), -EBUSY);
	/* the owner goes away (as a killed process would): it is free */
	catalog_close(f->cat);
	f->cat = NULL;
	assert_int_equal(catalog_op_claim(other, op.id, &f->err), 0);
	catalog_close(other);
}

static void test_steps_are_recorded_while_running(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_CREATE, .started_at = 1,
					.target = { "rbd", "", "v" } };
	struct catalog_operation *running = NULL;
	size_t n = 0;

	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	assert_int_equal(catalog_op_set_step(f->cat, &op, CATALOG_STEP_IMAGE_CREATED,
					     &f->err), 0);
	assert_int_equal(catalog_op_list_running(f->cat, &running, &n, &f->err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(running[0].step, CATALOG_STEP_IMAGE_CREATED);
	free(running);
}

static void test_a_volume_with_a_live_operation_is_busy_for_another(void **state)
{
	struct fixture *f = *state;
	struct built b;
	struct catalog *other = NULL;
	struct catalog_operation first = { .kind = CATALOG_OP_SNAP, .started_at = 1,
					   .target_snapshot = "x",
					   .origin = "manual" };
	struct catalog_operation second = { .kind = CATALOG_OP_SNAP, .started_at = 2,
					    .target_snapshot = "y",
					    .origin = "manual" };
	struct catalog_operation *running = NULL;
	size_t n = 0;

	build_restored_volume(f, &b);
	first.volume_id = second.volume_id = b.volume;
	first.image_id = second.image_id = b.image[3];
	assert_int_equal(catalog_op_begin(f->cat, &first, &f->err), 0);
	assert_int_equal(catalog_open(&other, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_op_begin(other, &second, &f->err), -EBUSY);
	assert_non_null(strstr(f->err.message, "in progress in another rowcat"));
	/* its owner dies: the volume waits for recovery, not for a person */
	catalog_close(f->cat);
	f->cat = NULL;
	assert_int_equal(catalog_op_begin(other, &second, &f->err), -EAGAIN);
	assert_non_null(strstr(f->err.message, "rowcat recover"));
	/* neither refusal journalled anything */
	assert_int_equal(catalog_op_list_running(other, &running, &n, &f->err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(running[0].id, first.id);
	free(running);
	catalog_close(other);
}

/* An unfinished unrm recomputes what it restores from the marks until it
 * commits: no mark may change under it. */
static void test_no_mark_is_taken_while_an_unrm_is_unfinished(void **state)
{
	struct fixture *f = *state;
	struct built b;
	struct catalog_operation unrm = { .kind = CATALOG_OP_UNRM,
					  .started_at = 1 };

	build_restored_volume(f, &b);
	unrm.volume_id = b.volume;
	assert_int_equal(catalog_op_begin(f->cat, &unrm, &f->err), 0);
	assert_int_equal(catalog_volume_mark(f->cat, b.volume, 5000, &f->err),
			 -EBUSY);
	assert_non_null(strstr(f->err.message, "an unrm of the volume"));
	assert_int_equal(catalog_snapshot_mark(f->cat, b.volume, "s2", 5000,
					       &f->err), -EBUSY);
	/* once it ends, marks are taken again */
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_finish(f->cat, &unrm, CATALOG_OP_DONE, NULL,
					   6000, &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, b.volume, "s2", 5000,
					       &f->err), 0);
}

static void test_an_operation_on_an_image_no_longer_operating_is_stale(void **state)
{
	struct fixture *f = *state;
	struct built b;
	struct catalog_operation op = { .kind = CATALOG_OP_SNAP, .started_at = 1,
					.target_snapshot = "x",
					.origin = "manual",
					.requires_operating = true };
	struct catalog_operation *running = NULL;
	size_t n = 0;

	build_restored_volume(f, &b);
	op.volume_id = b.volume;
	op.image_id = b.image[2]; /* the operating image before the restore */
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), -ESTALE);
	assert_int_equal(catalog_op_list_running(f->cat, &running, &n, &f->err), 0);
	assert_int_equal(n, 0);
	op.image_id = b.image[3];
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	assert_true(op.wall_started_ms > 0);
}

static void test_no_snap_restore_or_flatten_is_journalled_on_a_marked_volume(void **state)
{
	struct fixture *f = *state;
	struct built b;
	struct catalog_operation *running = NULL;
	const enum catalog_op_kind kinds[] = { CATALOG_OP_SNAP,
		CATALOG_OP_RESTORE, CATALOG_OP_FLATTEN };
	size_t n = 0;

	build_restored_volume(f, &b);
	/* marked after the caller read the volume: the journal refuses */
	assert_int_equal(catalog_volume_mark(f->cat, b.volume, 5, &f->err), 0);
	for (size_t i = 0; i < 3; i++) {
		struct catalog_operation op = { .kind = kinds[i],
						.started_at = 6,
						.requires_operating = true };

		op.volume_id = b.volume;
		op.image_id = b.image[3];
		assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), -EPERM);
		assert_non_null(strstr(f->err.message, "was removed ('rowcat rm'); "
				       "it is marked for collection"));
	}
	assert_int_equal(catalog_op_list_running(f->cat, &running, &n, &f->err), 0);
	assert_int_equal(n, 0);
	free(running);
}

static void test_snapshots_are_found_by_name_anywhere_in_their_volume(void **state)
{
	struct fixture *f = *state;
	struct catalog_snapshot snap;
	struct built b;

	build_restored_volume(f, &b);
	assert_int_equal(catalog_snapshot_find(f->cat, b.volume, "s2", &snap,
					       &f->err), 0);
	assert_int_equal(snap.id, b.s2);
	assert_int_equal(snap.image_id, b.image[1]);
	assert_int_equal(catalog_snapshot_find(f->cat, b.volume, "pre", &snap,
					       &f->err), 0);
	assert_string_equal(snap.origin, "pre-restore");
	assert_int_equal(catalog_snapshot_find(f->cat, b.volume, "nope", &snap,
					       &f->err), -ENOENT);
	assert_int_equal(catalog_snapshot_find(f->cat, b.volume + 1, "s2", &snap,
					       &f->err), -ENOENT);
	assert_int_equal(catalog_snapshot_set_protected(f->cat, b.s1, false,
							&f->err), 0);
	assert_int_equal(catalog_snapshot_get(f->cat, b.s1, &snap, &f->err), 0);
	assert_false(snap.is_protected);
	assert_int_equal(catalog_snapshot_get(f->cat, 999, &snap, &f->err), -ENOENT);
}

/* What a lookup that found nothing recorded: still there after it? */
static void assert_no_error(const struct rc_error *err)
{
	assert_int_equal(err->code, 0);
	assert_false(err->usage);
	assert_string_equal(err->message, "");
}

static void test_a_lookup_that_finds_its_row_leaves_no_stale_error(void **state)
{
	struct fixture *f = *state;
	struct rc_image_spec missing = { "rbd", "", "nope" };
	struct catalog_snapshot snap;
	struct catalog_volume vol;
	struct catalog_image img;
	struct built b;

	build_restored_volume(f, &b);
	assert_int_equal(catalog_volume_find(f->cat, "nope", &vol, &f->err),
			 -ENOENT);
	assert_int_equal(f->err.code, -ENOENT);
	assert_int_equal(catalog_volume_find(f->cat, "vol1", &vol, &f->err), 0);
	assert_no_error(&f->err);

	assert_int_equal(catalog_volume_get(f->cat, b.volume + 100, &vol,
					    &f->err), -ENOENT);
	assert_int_equal(catalog_volume_get(f->cat, b.volume, &vol, &f->err), 0);
	assert_no_error(&f->err);

	assert_int_equal(catalog_image_find(f->cat, &missing, &img, &f->err),
			 -ENOENT);
	assert_int_equal(catalog_image_find(f->cat, &root_spec, &img, &f->err),
			 0);
	assert_no_error(&f->err);

	assert_int_equal(catalog_image_get(f->cat, b.image[3] + 100, &img,
					   &f->err), -ENOENT);
	assert_int_equal(catalog_image_get(f->cat, b.image[3], &img, &f->err), 0);
	assert_no_error(&f->err);

	assert_int_equal(catalog_snapshot_find(f->cat, b.volume, "nope", &snap,
					       &f->err), -ENOENT);
	assert_int_equal(catalog_snapshot_find(f->cat, b.volume, "s1", &snap,
					       &f->err), 0);
	assert_no_error(&f->err);

	assert_int_equal(catalog_snapshot_get(f->cat, b.pre + 100, &snap,
					      &f->err), -ENOENT);
	assert_int_equal(catalog_snapshot_get(f->cat, b.pre, &snap, &f->err), 0);
	assert_no_error(&f->err);
}

static void test_operations_of_a_volume_come_newest_first_with_targets(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation a = { .kind = CATALOG_OP_SNAP, .started_at = 10,
				       .target_snapshot = "one",
				       .origin = "manual" };
	struct catalog_operation c = { .kind = CATALOG_OP_FLATTEN, .started_at = 20 };
	struct catalog_operation *ops = NULL;
	struct catalog_volume vol;
	struct built b;
	size_t n = 0;

	build_restored_volume(f, &b);
	a.volume_id = c.volume_id = b.volume;
	a.image_id = c.image_id = b.image[3];
	assert_int_equal(catalog_op_begin(f->cat, &a, &f->err), 0);
	a.target = (struct rc_image_spec){ "rbd", "", "vol1.rc1" };
	assert_int_equal(catalog_op_set_target(f->cat, &a, &f->err), 0);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_end(f->cat, &a, CATALOG_OP_DONE, NULL, 11, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_begin(f->cat, &c, &f->err), 0);
	assert_int_equal(catalog_op_list_volume(f->cat, b.volume, &ops, &n,
						&f->err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ops[0].id, c.id);
	assert_int_equal(ops[0].state, CATALOG_OP_RUNNING);
	assert_int_equal(ops[1].id, a.id);
	assert_string_equal(ops[1].target.name, "vol1.rc1");
	assert_string_equal(ops[1].target_snapshot, "one");
	assert_string_equal(ops[1].origin, "manual");
	assert_true(ops[1].wall_finished_ms >= ops[1].wall_started_ms);
	free(ops);
	assert_int_equal(catalog_volume_get(f->cat, b.volume, &vol, &f->err), 0);
	assert_string_equal(vol.name, "vol1");
	assert_int_equal(catalog_volume_get(f->cat, 999, &vol, &f->err), -ENOENT);
}

/*
 * Every operation records who journalled it: the host rowcat names itself
 * by ($ROWCAT_HOST here), the login name of the real uid and the pid, as
 * they were when it was journalled, whatever the caller filled in.
 */
static void test_an_operation_records_who_journalled_it(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_FLATTEN,
					.started_at = 10, .host = "forged",
					.pid = 1 };
	struct catalog_operation *ops = NULL;
	char user[RC_USER_MAX];
	struct built b;
	size_t n = 0;

	build_restored_volume(f, &b);
	op.volume_id = b.volume;
	op.image_id = b.image[3];
	rc_user_name(user);
	assert_int_equal(setenv("ROWCAT_HOST", "hv-7.example", 1), 0);
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	unsetenv("ROWCAT_HOST");
	assert_string_equal(op.host, "hv-7.example");
	assert_int_equal(catalog_op_list_volume(f->cat, b.volume, &ops, &n,
						&f->err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ops[0].host, "hv-7.example");
	assert_string_equal(ops[0].user, user);
	assert_true(user[0] != '\0');
	assert_int_equal(ops[0].pid, (int64_t)getpid());
	free(ops);
}

/* A row journalled before schema 9 has no one: empty, and pid 0. */
static void test_an_operation_from_before_schema_9_has_no_one(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_FLATTEN,
					.started_at = 10 };
	struct built b;

	build_restored_volume(f, &b);
	op.volume_id = b.volume;
	op.image_id = b.image[3];
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	catalog_close(f->cat);
	run_sql(f->path, "UPDATE operation SET host = NULL, user = NULL, pid = NULL");
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_op_get(f->cat, op.id, &op, &f->err), 0);
	assert_string_equal(op.host, "");
	assert_string_equal(op.user, "");
	assert_int_equal(op.pid, 0);
}

/* ---- the lineage at an earlier time (tree --at) ------------------------- */

/*
 * A volume's history, rows and journal built in memory (catalog_lineage_at
 * reads nothing else):
 *
 *   1000 create vol1                      (done 1001)
 *   2000 snap s1 -> vol1.rc1              (done 2005)
 *   3000 snap s2 -> vol1.rc2              (done 3002)
 *   4000 restore s1 (safety pre) -> vol1.rc3  (done 4003)
 *   4500 rm vol1@s2 (marked)
 *   5000 flatten vol1.rc3                 (done 5001)
 *   5500 snap s3 fails, nothing recorded
 *   6000 gc moves vol1.rc2 to the trash until 7000, purges it at 8000,
 *        removes s2 at 9000
 */
struct history {
	struct catalog_image images[4];
	int depths[4];
	struct catalog_snapshot snapshots[3];
	struct catalog_operation ops[6];
	struct catalog_lineage lin;
};

static void image_row(struct catalog_image *img, int64_t id, const char *name,
		      int64_t parent, int64_t created)
{
	memset(img, 0, sizeof(*img));
	img->id = id;
	img->volume_id = 1;
	snprintf(img->spec.pool, sizeof(img->spec.pool), "rbd");
	snprintf(img->spec.name, sizeof(img->spec.name), "%s", name);
	img->parent_snapshot_id = parent;
	img->created_at = created;
}

static void snapshot_row(struct catalog_snapshot *snap, int64_t id,
			 int64_t image, const char *name, const char *origin,
			 int64_t created)
{
	memset(snap, 0, sizeof(*snap));
	snap->id = id;
	snap->image_id = image;
	snprintf(snap->name, sizeof(snap->name), "%s", name);
	snprintf(snap->origin, sizeof(snap->origin), "%s", origin);
	snap->is_protected = true;
	snap->created_at = created;
}

static void op_row(struct catalog_operation *op, int64_t id,
		   enum catalog_op_kind kind, enum catalog_op_state state,
		   const char *target, int64_t started, int64_t finished)
{
	memset(op, 0, sizeof(*op));
	op->id = id;
	op->volume_id = 1;
	op->kind = kind;
	op->state = state;
	snprintf(op->target.pool, sizeof(op->target.pool), "%s",
		 target ? "rbd" : "");
	snprintf(op->target.name, sizeof(op->target.name), "%s",
		 target ? target : "");
	op->started_at = started;
	op->finished_at = finished;
	op->wall_started_ms = started * 1000;
	op->wall_finished_ms = finished * 1000 + 999;
}

static void build_history(struct history *h)
{
	memset(h, 0, sizeof(*h));
	image_row(&h->images[0], 1, "vol1", 0, 1000);
	image_row(&h->images[1], 2, "vol1.rc1", 1, 2000);
	image_row(&h->images[2], 3, "vol1.rc2", 2, 3000);
	image_row(&h->images[3], 4, "vol1.rc3", 1, 4000);
	snapshot_row(&h->snapshots[0], 1, 1, "s1", "manual", 2000);
	snapshot_row(&h->snapshots[1], 2, 2, "s2", "manual", 3000);
	snapshot_row(&h->snapshots[2], 3, 3, "pre", "pre-restore", 4000);
	h->snapshots[1].marked_at = 4500;
	h->images[3].flattened_at = 5000;
	h->images[2].removed_at = 6000;
	h->images[2].trash_until = 7000;
	h->images[2].purged_at = 8000;
	h->snapshots[1].removed_at = 9000;
	h->snapshots[1].is_protected = false;
	/* newest first, as catalog_op_list_volume gives them */
	op_row(&h->ops[5], 1, CATALOG_OP_CREATE, CATALOG_OP_DONE, "vol1", 1000, 1001);
	op_row(&h->ops[4], 2, CATALOG_OP_SNAP, CATALOG_OP_DONE, "vol1.rc1", 2000, 2005);
	op_row(&h->ops[3], 3, CATALOG_OP_SNAP, CATALOG_OP_DONE, "vol1.rc2", 3000, 3002);
	op_row(&h->ops[2], 4, CATALOG_OP_RESTORE, CATALOG_OP_DONE, "vol1.rc3", 4000, 4003);
	op_row(&h->ops[1], 5, CATALOG_OP_FLATTEN, CATALOG_OP_DONE, NULL, 5000, 5001);
	op_row(&h->ops[0], 6, CATALOG_OP_SNAP, CATALOG_OP_FAILED, "vol1.rc4", 5500, 5501);
	h->lin.volume.id = 1;
	snprintf(h->lin.volume.name, sizeof(h->lin.volume.name), "vol1");
	h->lin.volume.created_at = 1000;
	h->lin.volume.operating_image_id = 4;
	h->lin.images = h->images;
	h->lin.depths = h->depths;
	h->lin.image_count = 4;
	h->lin.snapshots = h->snapshots;
	h->lin.snapshot_count = 3;
}

/* The lineage at `at`: its image ids and snapshot names, in order, and
 * the operating image's name, as "1 2 | s1 | vol1.rc1". */
static void lineage_at_text(struct history *h, int64_t at, char *out, size_t len,
			    struct catalog_lineage **kept)
{
	const struct catalog_operation *by = NULL;
	struct catalog_lineage *lin = NULL;
	const struct catalog_image *op;
	struct rc_error err = {0};
	size_t used = 0;

	assert_int_equal(catalog_lineage_at(&lin, &h->lin, h->ops, 6, at, &by,
					    &err), 0);
	for (size_t i = 0; i < lin->image_count; i++)
		used += (size_t)snprintf(out + used, len - used, "%lld ",
					 (long long)lin->images[i].id);
	used += (size_t)snprintf(out + used, len - used, "|");
	for (size_t s = 0; s < lin->snapshot_count; s++)
		used += (size_t)snprintf(out + used, len - used, " %s",
					 lin->snapshots[s].name);
	op = catalog_lineage_image(lin, lin->volume.operating_image_id);
	snprintf(out + used, len - used, " | %s", op ? op->spec.name : "none");
	if (kept)
		*kept = lin;
	else
		catalog_lineage_free(lin);
}

static void test_tree_at_each_time_has_the_rows_and_operating_image_of_then(
	void **state)
{
	static const struct {
		int64_t at;
		const char *expected;
	} times[] = {
		{ 1000, "1 | | vol1" },       /* the create not yet done */
		{ 1001, "1 | | vol1" },
		{ 1999, "1 | | vol1" },
		{ 2000, "1 2 | s1 | vol1" },  /* snap under way: clone made */
		{ 2004, "1 2 | s1 | vol1" },
		{ 2005, "1 2 | s1 | vol1.rc1" },
		{ 3001, "1 2 3 | s1 s2 | vol1.rc1" },
		{ 3002, "1 2 3 | s1 s2 | vol1.rc2" },
		{ 4002, "1 2 3 4 | s1 s2 pre | vol1.rc2" },
		{ 4003, "1 2 3 4 | s1 s2 pre | vol1.rc3" },
		{ 5501, "1 2 3 4 | s1 s2 pre | vol1.rc3" }, /* a failed snap */
		{ 99999, "1 2 3 4 | s1 s2 pre | vol1.rc3" },
	};
	struct history h;
	char text[256];

	(void)state;
	build_history(&h);
	for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
		lineage_at_text(&h, times[t].at, text, sizeof(text), NULL);
		if (strcmp(text, times[t].expected) != 0)
			fail_msg("at %lld: '%s', expected '%s'",
				 (long long)times[t].at, text, times[t].expected);
	}
}

static void test_tree_at_undoes_what_came_later(void **state)
{
	struct catalog_lineage *lin;
	struct history h;
	char text[256];

	(void)state;
	build_history(&h);
	/* before the mark, the flatten and gc: rc3 reads through s1 */
	lineage_at_text(&h, 4003, text, sizeof(text), &lin);
	assert_int_equal(lin->depths[1], 1);
	assert_int_equal(lin->depths[2], 2);
	assert_int_equal(lin->depths[3], 1);
	assert_int_equal(lin->images[3].flattened_at, 0);
	assert_int_equal(lin->snapshots[1].marked_at, 0);
	assert_int_equal(lin->images[2].removed_at, 0);
	assert_true(lin->snapshots[1].is_protected);
	catalog_lineage_free(lin);
	/* marked, flattened: rc3 reads nothing */
	lineage_at_text(&h, 5000, text, sizeof(text), &lin);
	assert_int_equal(lin->snapshots[1].marked_at, 4500);
	assert_int_equal(lin->images[3].flattened_at, 5000);
	assert_int_equal(lin->depths[3], 0);
	catalog_lineage_free(lin);
	/* in the trash, not yet purged; s2 not yet removed, so protected */
	lineage_at_text(&h, 7500, text, sizeof(text), &lin);
	assert_int_equal(lin->images[2].removed_at, 6000);
	assert_int_equal(lin->images[2].trash_until, 7000);
	assert_int_equal(lin->images[2].purged_at, 0);
	assert_int_equal(lin->snapshots[1].removed_at, 0);
	assert_true(lin->snapshots[1].is_protected);
	catalog_lineage_free(lin);
	/* now: as the catalog has it */
	lineage_at_text(&h, 9000, text, sizeof(text), &lin);
	assert_int_equal(lin->images[2].purged_at, 8000);
	assert_int_equal(lin->snapshots[1].removed_at, 9000);
	assert_false(lin->snapshots[1].is_protected);
	assert_int_equal(lin->volume.operating_image_id, 4);
	catalog_lineage_free(lin);
}

static void test_tree_at_names_the_operation_that_switched(void **state)
{
	const struct catalog_operation *by = NULL;
	struct catalog_lineage *lin = NULL;
	struct rc_error err = {0};
	struct history h;

	(void)state;
	build_history(&h);
	assert_int_equal(catalog_lineage_at(&lin, &h.lin, h.ops, 6, 3500, &by,
					    &err), 0);
	assert_non_null(by);
	assert_int_equal(by->id, 3);
	catalog_lineage_free(lin);
	/* two operations done in one second: the later one switched last */
	h.ops[2].wall_finished_ms = 3002500;
	h.ops[2].finished_at = 3002;
	h.ops[2].started_at = 3002;
	h.images[3].created_at = 3002;
	h.snapshots[2].created_at = 3002;
	assert_int_equal(catalog_lineage_at(&lin, &h.lin, h.ops, 6, 3002, &by,
					    &err), 0);
	assert_int_equal(by->id, 4);
	assert_int_equal(lin->volume.operating_image_id, 4);
	catalog_lineage_free(lin);
}

static void test_tree_at_before_the_volume_existed_is_enoent(void **state)
{
	struct catalog_lineage *lin = NULL;
	struct rc_error err = {0};
	struct history h;

	(void)state;
	build_history(&h);
	assert_int_equal(catalog_lineage_at(&lin, &h.lin, h.ops, 6, 999, NULL,
					    &err), -ENOENT);
	assert_null(lin);
	assert_non_null(strstr(err.message, "volume 'vol1' did not exist yet at "
				"1970-01-01T00:16:39Z"));
}

/*
 * An adopted volume: its image, cloned from a foreign ancestor (no
 * volume's own) before rowcat knew it, is operating from the start
 * although no operation names it; the ancestor is kept.
 */
static void test_tree_at_of_an_adopted_volume_starts_at_its_own_image(
	void **state)
{
	struct catalog_image images[2];
	struct catalog_snapshot snap;
	int depths[2];
	struct catalog_lineage lin = { .images = images, .depths = depths,
				       .image_count = 2, .snapshots = &snap,
				       .snapshot_count = 1 };
	struct catalog_lineage *then = NULL;
	struct rc_error err = {0};

	(void)state;
	image_row(&images[0], 1, "glance-image", 0, 500);
	images[0].volume_id = 0;
	images[0].adopted_at = 1500;
	snapshot_row(&snap, 1, 1, "snap", "adopted", 600);
	image_row(&images[1], 2, "volume-1234", 1, 1000);
	images[1].adopted_at = 1500;
	lin.volume.id = 1;
	lin.volume.created_at = 1500;
	lin.volume.operating_image_id = 2;
	assert_int_equal(catalog_lineage_at(&then, &lin, NULL, 0, 1500, NULL,
					    &err), 0);
	assert_int_equal(then->image_count, 2);
	assert_int_equal(then->images[0].volume_id, 0);
	assert_int_equal(then->volume.operating_image_id, 2);
	assert_int_equal(then->depths[1], 1);
	catalog_lineage_free(then);
}

/*
 * A lineage's snapshots come by time, and their ids need not follow it
 * (adopted ones carry Ceph's dates): each image still finds its parent
 * snapshot by id, and what a clock set back leaves dated before its parent
 * goes with it, and so does what reads through it:
 *
 *   image 1 vol           100
 *     snap 9  s9          150 (on 1)  -> image 2 vol.a   200
 *     snap 4  s4          280 (on 2)  -> image 3 vol.b   300
 *     snap 20 s20         290 (on 1)
 *     snap 8  s8          320 (on 3)  -> image 4 vol.c   250 (clock set back)
 *     snap 11 s11         260 (on 4)  -> image 5 vol.d   270
 */
static void test_tree_at_finds_snapshots_by_id_not_by_their_order_in_time(
	void **state)
{
	struct catalog_image images[5];
	struct catalog_snapshot snaps[5];
	int depths[5];
	struct catalog_lineage lin = { .images = images, .depths = depths,
				       .image_count = 5, .snapshots = snaps,
				       .snapshot_count = 5 };
	struct catalog_lineage *then = NULL;
	struct rc_error err = {0};

	(void)state;
	image_row(&images[0], 1, "vol", 0, 100);
	image_row(&images[1], 2, "vol.a", 9, 200);
	image_row(&images[2], 3, "vol.b", 4, 300);
	image_row(&images[3], 4, "vol.c", 8, 250);
	image_row(&images[4], 5, "vol.d", 11, 270);
	snapshot_row(&snaps[0], 9, 1, "s9", "adopted", 150);
	snapshot_row(&snaps[1], 11, 4, "s11", "manual", 260);
	snapshot_row(&snaps[2], 4, 2, "s4", "manual", 280);
	snapshot_row(&snaps[3], 20, 1, "s20", "manual", 290);
	snapshot_row(&snaps[4], 8, 3, "s8", "manual", 320);
	lin.volume.id = 1;
	lin.volume.created_at = 100;
	lin.volume.operating_image_id = 5;

	assert_int_equal(catalog_lineage_at(&then, &lin, NULL, 0, 400, NULL,
					    &err), 0);
	assert_int_equal(then->image_count, 5);
	assert_int_equal(then->snapshot_count, 5);
	for (size_t s = 0; s < 5; s++) /* in their order, by time */
		assert_int_equal(then->snapshots[s].id, snaps[s].id);
	for (size_t i = 0; i < 5; i++) /* 1 <- 9 - 2 <- 4 - 3 <- 8 - 4 <- 11 - 5 */
		assert_int_equal(then->depths[i], (int)i);
	catalog_lineage_free(then);

	/* s8 not yet taken: vol.c goes, its s11 with it, then vol.d; vol.b
	 * still reads through s4, which moved up a place */
	assert_int_equal(catalog_lineage_at(&then, &lin, NULL, 0, 300, NULL,
					    &err), 0);
	assert_int_equal(then->image_count, 3);
	assert_int_equal(then->images[2].id, 3);
	assert_int_equal(then->snapshot_count, 3);
	assert_int_equal(then->snapshots[0].id, 9);
	assert_int_equal(then->snapshots[1].id, 4);
	assert_int_equal(then->snapshots[2].id, 20);
	assert_int_equal(then->depths[1], 1);
	assert_int_equal(then->depths[2], 2);
	catalog_lineage_free(then);
}

/* ---- the two clocks ---------------------------------------------------- */

/*
 * policy run --now sets the policy clock: operations journalled under it
 * keep its time beside the real one, and a snapshot keeps the time its
 * schedule and retention count it at; without --now there is none.
 */
static void test_the_policy_clock_is_kept_beside_the_real_time(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation rehearsed = { .kind = CATALOG_OP_FLATTEN };
	struct catalog_operation real = { .kind = CATALOG_OP_FLATTEN };
	struct catalog_operation *ops = NULL;
	struct catalog_snapshot snap;
	int64_t ahead = rc_clock_now() + 3 * 86400;
	struct built b;
	size_t n = 0;

	build_restored_volume(f, &b);
	rehearsed.volume_id = real.volume_id = b.volume;
	rehearsed.image_id = real.image_id = b.image[3];
	rehearsed.started_at = real.started_at = rc_clock_now();
	rc_clock_policy_set(ahead);
	assert_int_equal(catalog_op_begin(f->cat, &rehearsed, &f->err), 0);
	rc_clock_policy_set(0);
	assert_int_equal(rehearsed.policy_at, ahead);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_end(f->cat, &rehearsed, CATALOG_OP_DONE, NULL,
					rc_clock_now(), &f->err), 0);
	assert_int_equal(catalog_snapshot_set_policy_at(f->cat, b.s2, ahead,
							&f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_begin(f->cat, &real, &f->err), 0);
	assert_int_equal(catalog_op_list_volume(f->cat, b.volume, &ops, &n,
						&f->err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ops[0].policy_at, 0);
	assert_int_equal(ops[1].policy_at, ahead);
	assert_true(ops[1].started_at < ahead && ops[1].finished_at < ahead);
	free(ops);

	assert_int_equal(catalog_snapshot_get(f->cat, b.s2, &snap, &f->err), 0);
	assert_int_equal(snap.created_at, 3000);
	assert_int_equal(catalog_snapshot_policy_time(&snap), ahead);
	assert_int_equal(catalog_snapshot_get(f->cat, b.s1, &snap, &f->err), 0);
	assert_int_equal(snap.policy_at, 0);
	assert_int_equal(catalog_snapshot_policy_time(&snap), 2000);
}

/* What migration 9 (adoption, who) adds, taken away again. The image
 * table keeps the volume_id it may now leave NULL: no row of schema 8 has
 * one. */
#define SCHEMA_8_DROP_ADOPT_COLUMNS \
	"ALTER TABLE image DROP COLUMN adopted_at;" \
	"ALTER TABLE operation DROP COLUMN host;" \
	"ALTER TABLE operation DROP COLUMN user;" \
	"ALTER TABLE operation DROP COLUMN pid;"

/* What migration 8 (many hosts) adds, taken away again. */
#define SCHEMA_7_DROP_HOST_COLUMNS \
	SCHEMA_8_DROP_ADOPT_COLUMNS \
	"ALTER TABLE volume DROP COLUMN consumer_host;" \
	"ALTER TABLE operation DROP COLUMN holder;"

/* What migrations 6 (live volumes) and later add, taken away again: the
 * catalog as schema 5 left it. */
#define SCHEMA_5_DROP_LIVE_COLUMNS \
	SCHEMA_7_DROP_HOST_COLUMNS \
	"ALTER TABLE volume DROP COLUMN consumer;" \
	"ALTER TABLE operation DROP COLUMN consumer;" \
	"ALTER TABLE operation DROP COLUMN consumer_format_node;" \
	"ALTER TABLE operation DROP COLUMN consumer_storage_node;" \
	"ALTER TABLE operation DROP COLUMN consumer_resume;" \
	"ALTER TABLE operation DROP COLUMN paused_ms;" \
	"ALTER TABLE operation DROP COLUMN consumer_thaw;" \
	"ALTER TABLE operation DROP COLUMN consumer_switch;"

/* A catalog from before the two clocks (schema 2) gains the policy_at
 * columns, empty: its rows count at the times they hold. */
static void test_a_schema_2_catalog_gains_the_policy_clock_columns(void **state)
{
	struct fixture *f = *state;
	struct catalog_snapshot snap;
	struct built b;

	build_restored_volume(f, &b);
	catalog_close(f->cat);
	f->cat = NULL;
	run_sql(f->path, "ALTER TABLE snapshot DROP COLUMN policy_at;"
		"ALTER TABLE operation DROP COLUMN policy_at;"
		SCHEMA_5_DROP_LIVE_COLUMNS
		"PRAGMA user_version = 2;");
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_schema_version(f->cat),
			 catalog_schema_version_supported());
	assert_int_equal(catalog_snapshot_get(f->cat, b.s2, &snap, &f->err), 0);
	assert_int_equal(snap.policy_at, 0);
	assert_int_equal(catalog_snapshot_policy_time(&snap), 3000);
}

/* Migration 9 rebuilds the image and operation tables, which other tables
 * refer to: every row and every link survives it, and foreign keys are
 * enforced again after it. */
static void test_a_schema_8_catalog_keeps_its_rows_through_the_rebuild(void **state)
{
	struct fixture *f = *state;
	struct catalog_lineage *lin = NULL;
	struct catalog_volume vol;
	struct built b;
	int depth;

	build_restored_volume(f, &b);
	catalog_close(f->cat);
	f->cat = NULL;
	run_sql(f->path, SCHEMA_8_DROP_ADOPT_COLUMNS "PRAGMA user_version = 8;");
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_schema_version(f->cat),
			 catalog_schema_version_supported());
	assert_int_equal(catalog_volume_find(f->cat, "vol1", &vol, &f->err), 0);
	assert_int_equal(vol.operating_image_id, b.image[3]);
	assert_int_equal(catalog_image_depth(f->cat, b.image[2], &depth,
					     &f->err), 0);
	assert_int_equal(depth, 2);
	assert_int_equal(catalog_lineage_load(&lin, f->cat, &vol, &f->err), 0);
	assert_int_equal(lin->image_count, 4);
	assert_int_equal(lin->snapshot_count, 3);
	for (size_t i = 0; i < lin->image_count; i++) {
		assert_int_equal(lin->images[i].volume_id, b.volume);
		assert_int_equal(lin->images[i].adopted_at, 0);
	}
	catalog_lineage_free(lin);
	catalog_close(f->cat);
	f->cat = NULL;
	/* rowcat's connection enforces them again: a snapshot of an image
	 * that does not exist is refused */
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_snapshot_insert(f->cat, 9999, "bogus", "manual",
						 false, 5000, &(int64_t){0},
						 &f->err), -EINVAL);
	catalog_rollback(f->cat);
}

/* ---- schema 4: typed operations ---------------------------------------- */

/* Runs sql on the file at path outside rowcat; returns SQLite's code. */
static int try_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* The single integer sql returns, run on the file at path. */
static int64_t count_rows(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* The operation table as schema 3 left it: no CHECK on kind, no reason
 * column, gc's reason kept in origin. */
#define SCHEMA_3_OPERATION_TABLE \
	"ALTER TABLE volume DROP COLUMN consumer_host;" \
	"ALTER TABLE volume DROP COLUMN consumer;" \
	"DROP TABLE operation;" \
	"CREATE TABLE operation (" \
	"  id INTEGER PRIMARY KEY," \
	"  volume_id INTEGER REFERENCES volume (id)," \
	"  kind TEXT NOT NULL," \
	"  state TEXT NOT NULL DEFAULT 'running'" \
	"   CHECK (state IN ('running', 'done', 'failed', 'rolled-back'))," \
	"  step TEXT NOT NULL DEFAULT 'journalled'," \
	"  image_id INTEGER REFERENCES image (id)," \
	"  snapshot_id INTEGER REFERENCES snapshot (id)," \
	"  target_pool TEXT, target_namespace TEXT, target_image TEXT," \
	"  target_snapshot TEXT, origin TEXT, size INTEGER," \
	"  started_at INTEGER NOT NULL, finished_at INTEGER," \
	"  wall_started_ms INTEGER, wall_finished_ms INTEGER, error TEXT," \
	"  policy_at INTEGER);" \
	"CREATE INDEX operation_by_volume ON operation (volume_id, started_at);" \
	"CREATE INDEX operation_running ON operation (state)" \
	"  WHERE state = 'running';"

/* Makes the catalog at f->path a schema 3 one holding an operation of
 * every kind, plus `extra` (SQL, may be ""), and closes it. */
static void make_schema_3_catalog(struct fixture *f, struct built *b,
				  const char *extra)
{
	char sql[4096];

	build_restored_volume(f, b);
	catalog_close(f->cat);
	f->cat = NULL;
	snprintf(sql, sizeof(sql), SCHEMA_3_OPERATION_TABLE
		"INSERT INTO operation (id, volume_id, kind, state, step,"
		"  image_id, snapshot_id, target_pool, target_namespace,"
		"  target_image, target_snapshot, origin, size, started_at,"
		"  finished_at, wall_started_ms, wall_finished_ms, error,"
		"  policy_at) VALUES"
		" (1, %1$lld, 'create', 'done', 'image-created', NULL, NULL,"
		"  'rbd', '', 'vol1', NULL, NULL, 1048576, 1000, 1001, 1000000,"
		"  1000500, NULL, NULL),"
		" (2, %1$lld, 'snap', 'done', 'cloned', %2$lld, NULL, 'rbd', '',"
		"  'vol1.1', 's1', 'policy:daily', NULL, 2000, 2001, 2000000,"
		"  2000700, NULL, 1999),"
		" (3, %1$lld, 'restore', 'failed', 'protected', %3$lld, %4$lld,"
		"  'rbd', '', 'vol1.rc3', 'pre', 'pre-restore', NULL, 4000, 4001,"
		"  NULL, NULL, 'no space', NULL),"
		" (4, %1$lld, 'flatten', 'done', 'flattened', %5$lld, NULL, NULL,"
		"  NULL, NULL, NULL, NULL, NULL, 4500, 4501, NULL, NULL, NULL,"
		"  NULL),"
		" (5, %1$lld, 'gc-trash', 'done', 'journalled', %2$lld, NULL,"
		"  NULL, NULL, NULL, NULL, 'marked for collection', NULL, 5000,"
		"  5001, NULL, NULL, NULL, NULL),"
		" (6, %1$lld, 'gc-snapshot', 'rolled-back', 'journalled', %2$lld,"
		"  %6$lld, NULL, NULL, NULL, NULL, 'volume removed', NULL, 5000,"
		"  5002, NULL, NULL, 'image in use', NULL),"
		" (7, %1$lld, 'gc-purge', 'running', 'journalled', %2$lld, NULL,"
		"  NULL, NULL, NULL, NULL, 'trash delay over', NULL, 6000, NULL,"
		"  6000000, NULL, NULL, NULL);"
		"%7$s"
		"PRAGMA user_version = 3;",
		(long long)b->volume, (long long)b->image[0],
		(long long)b->image[2], (long long)b->s1, (long long)b->image[3],
		(long long)b->s2, extra);
	run_sql(f->path, sql);
}

/* Every column of every operation row, in order, as text. */
static void dump_operations(const char *path, char *out, size_t len)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	size_t used = 0;

	out[0] = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT id, volume_id, kind, state, step, image_id, snapshot_id,"
		" target_pool, target_namespace, target_image, target_snapshot,"
		" size, started_at, finished_at, wall_started_ms,"
		" wall_finished_ms, error, policy_at,"
		" CASE WHEN kind LIKE 'gc-%' THEN NULL ELSE origin END,"
		" CASE WHEN kind LIKE 'gc-%' THEN origin END"
		" FROM operation ORDER BY id", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *v = sqlite3_column_text(st, c);
			used += (size_t)snprintf(out + used, len - used, "%s|",
						 v ? (const char *)v : "NULL");
			assert_true(used < len);
		}
		used += (size_t)snprintf(out + used, len - used, "\n");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The same rows read the schema 4 way: reason from its own column. */
static void dump_operations_4(const char *path, char *out, size_t len)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	size_t used = 0;

	out[0] = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT id, volume_id, kind, state, step, image_id, snapshot_id,"
		" target_pool, target_namespace, target_image, target_snapshot,"
		" size, started_at, finished_at, wall_started_ms,"
		" wall_finished_ms, error, policy_at, origin, reason"
		" FROM operation ORDER BY id", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *v = sqlite3_column_text(st, c);
			used += (size_t)snprintf(out + used, len - used, "%s|",
						 v ? (const char *)v : "NULL");
			assert_true(used < len);
		}
		used += (size_t)snprintf(out + used, len - used, "\n");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * Migration 4 rebuilds the operation table: every row comes across with
 * every value, gc rows' reason moved from origin to reason, and the
 * indexes are made again; rowcat reads each row back as typed values.
 */
static void test_migrating_to_schema_4_keeps_every_operation(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation *ops = NULL;
	char before[4096], after[4096];
	struct built b;
	size_t n = 0;

	make_schema_3_catalog(f, &b, "");
	dump_operations(f->path, before, sizeof(before));
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_schema_version(f->cat),
			 catalog_schema_version_supported());
	dump_operations_4(f->path, after, sizeof(after));
	assert_string_equal(after, before);
	assert_non_null(strstr(after, "|gc-snapshot|rolled-back|"));
	assert_int_equal(count_rows(f->path,
		"SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
		" tbl_name = 'operation' AND name IN ('operation_running',"
		" 'operation_by_volume')"), 2);
	assert_int_equal(count_rows(f->path,
		"SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_new'"), 0);

	assert_int_equal(catalog_op_list_volume(f->cat, b.volume, &ops, &n,
						&f->err), 0);
	assert_int_equal(n, 7);
	assert_int_equal(ops[6].kind, CATALOG_OP_CREATE);
	assert_int_equal(ops[6].step, CATALOG_STEP_IMAGE_CREATED);
	assert_int_equal(ops[5].kind, CATALOG_OP_SNAP);
	assert_string_equal(ops[5].origin, "policy:daily");
	assert_string_equal(ops[5].reason, "");
	assert_int_equal(ops[4].kind, CATALOG_OP_RESTORE);
	assert_int_equal(ops[4].state, CATALOG_OP_FAILED);
	assert_int_equal(ops[4].step, CATALOG_STEP_PROTECTED);
	assert_int_equal(ops[3].step, CATALOG_STEP_FLATTENED);
	assert_int_equal(ops[2].kind, CATALOG_OP_GC_TRASH);
	assert_string_equal(ops[2].reason, "marked for collection");
	assert_string_equal(ops[2].origin, "");
	assert_int_equal(ops[1].state, CATALOG_OP_ROLLED_BACK);
	assert_string_equal(ops[1].reason, "volume removed");
	assert_int_equal(ops[0].kind, CATALOG_OP_GC_PURGE);
	assert_int_equal(ops[0].state, CATALOG_OP_RUNNING);
	free(ops);
}

/* ---- schema 5: the clients an operation ignored ------------------------- */

/*
 * Migration 5 adds operation.clients_ignored: a schema 4 catalog's rows
 * come across with every value and read as having ignored no client; an
 * operation journalled after keeps the clients it ignored.
 */
static void test_migrating_to_schema_5_keeps_every_operation(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation *ops = NULL;
	struct catalog_operation snap = { .kind = CATALOG_OP_SNAP,
					  .started_at = 9000,
					  .target_snapshot = "s9",
					  .origin = "manual",
					  .clients_ignored =
					  "client.4449 at 127.0.0.1:0/1256915530" };
	char before[4096], after[4096];
	struct built b;
	size_t n = 0;

	/* a schema 4 catalog: schema 3's rows migrated, then the column of
	 * migration 5 taken away again as if it had never been added */
	make_schema_3_catalog(f, &b, "");
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	catalog_close(f->cat);
	f->cat = NULL;
	run_sql(f->path, "ALTER TABLE operation DROP COLUMN clients_ignored;"
			 SCHEMA_5_DROP_LIVE_COLUMNS
			 "PRAGMA user_version = 4;");
	dump_operations_4(f->path, before, sizeof(before));

	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_schema_version(f->cat),
			 catalog_schema_version_supported());
	dump_operations_4(f->path, after, sizeof(after));
	assert_string_equal(after, before);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM operation"
				    " WHERE clients_ignored IS NOT NULL"), 0);
	assert_int_equal(catalog_op_list_volume(f->cat, b.volume, &ops, &n,
						&f->err), 0);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(ops[i].clients_ignored, "");
	free(ops);
	ops = NULL;

	/* (schema 3's gc-purge is still running: it ends first) */
	assert_int_equal(try_sql(f->path, "UPDATE operation SET state = 'done',"
				 " finished_at = 6001 WHERE id = 7"), SQLITE_OK);
	snap.volume_id = b.volume;
	snap.image_id = b.image[3];
	assert_int_equal(catalog_op_begin(f->cat, &snap, &f->err), 0);
	assert_int_equal(catalog_op_list_volume(f->cat, b.volume, &ops, &n,
						&f->err), 0);
	assert_int_equal(n, 8);
	assert_int_equal(ops[0].id, snap.id);
	assert_string_equal(ops[0].clients_ignored,
			    "client.4449 at 127.0.0.1:0/1256915530");
	free(ops);
}

/*
 * Migration 6 (live volumes): a schema 5 catalog gains the consumer
 * columns, empty; a volume's consumer and its host (migration 8), and a
 * live snap's record of its guest, are kept and read back.
 */
static void test_a_schema_5_catalog_gains_the_consumer_columns(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_SNAP,
					.target_snapshot = "s9",
					.origin = "manual" };
	struct catalog_operation *ops = NULL;
	struct catalog_volume vol;
	struct built b;
	size_t n = 0;

	build_restored_volume(f, &b);
	catalog_close(f->cat);
	f->cat = NULL;
	run_sql(f->path, SCHEMA_5_DROP_LIVE_COLUMNS "PRAGMA user_version = 5;");
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_schema_version(f->cat),
			 catalog_schema_version_supported());
	assert_int_equal(catalog_volume_get(f->cat, b.volume, &vol, &f->err), 0);
	assert_string_equal(vol.consumer, "");

	assert_string_equal(vol.consumer_host, "");

	assert_int_equal(catalog_volume_set_consumer(f->cat, b.volume,
		"unix:/run/qemu/vm1.qmp", "hv-2", &f->err), 0);
	assert_int_equal(catalog_volume_get(f->cat, b.volume, &vol, &f->err), 0);
	assert_string_equal(vol.consumer, "unix:/run/qemu/vm1.qmp");
	assert_string_equal(vol.consumer_host, "hv-2");

	op.volume_id = b.volume;
	op.image_id = vol.operating_image_id;
	op.started_at = rc_clock_now();
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	snprintf(op.consumer.where, sizeof(op.consumer.where), "%s",
		 vol.consumer);
	snprintf(op.consumer.format_node, sizeof(op.consumer.format_node),
		 "libvirt-1-format");
	snprintf(op.consumer.storage_node, sizeof(op.consumer.storage_node),
		 "libvirt-1-storage");
	op.consumer.resume = true;
	snprintf(op.target.pool, sizeof(op.target.pool), "rbd");
	snprintf(op.target.name, sizeof(op.target.name), "vol1.rc9");
	assert_int_equal(catalog_op_set_target(f->cat, &op, &f->err), 0);
	assert_int_equal(catalog_op_set_step(f->cat, &op,
					     CATALOG_STEP_TARGET_CHOSEN, &f->err), 0);
	/* (a hooks snap's commands share the record; stored as given) */
	snprintf(op.consumer.thaw, sizeof(op.consumer.thaw), "fsfreeze -u /mnt");
	assert_int_equal(catalog_op_set_consumer(f->cat, &op, &f->err), 0);
	assert_int_equal(catalog_op_set_step(f->cat, &op, CATALOG_STEP_PAUSING,
					     &f->err), 0);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_set_paused(f->cat, &op, 840, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);

	assert_int_equal(catalog_op_list_running(f->cat, &ops, &n, &f->err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops[0].step, CATALOG_STEP_PAUSING);
	assert_string_equal(ops[0].consumer.where, "unix:/run/qemu/vm1.qmp");
	assert_string_equal(ops[0].consumer.format_node, "libvirt-1-format");
	assert_string_equal(ops[0].consumer.storage_node, "libvirt-1-storage");
	assert_true(ops[0].consumer.resume);
	assert_string_equal(ops[0].consumer.thaw, "fsfreeze -u /mnt");
	assert_string_equal(ops[0].consumer.switch_cmd, "");
	assert_int_equal(ops[0].paused_ms, 840);
	free(ops);

	assert_int_equal(catalog_volume_set_consumer(f->cat, b.volume, NULL,
						     "hv-2", &f->err), 0);
	assert_int_equal(catalog_volume_get(f->cat, b.volume, &vol, &f->err), 0);
	assert_string_equal(vol.consumer, "");
	/* the host goes with the consumer it was the host of */
	assert_string_equal(vol.consumer_host, "");
}

/* A schema 3 catalog holding a kind rowcat never wrote is not migrated:
 * the CHECK refuses the row, and the catalog stays as it was. */
static void test_a_catalog_with_an_unknown_kind_is_not_migrated(void **state)
{
	struct fixture *f = *state;
	char before[4096], after[4096];
	struct built b;

	make_schema_3_catalog(f, &b,
		"INSERT INTO operation (kind, state, step, started_at)"
		" VALUES ('adopt', 'done', 'journalled', 7000);");
	dump_operations(f->path, before, sizeof(before));
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), -EINVAL);
	assert_non_null(strstr(f->err.message, "CHECK constraint failed"));
	assert_int_equal(try_sql(f->path, "SELECT reason FROM operation"),
			 SQLITE_ERROR);
	dump_operations(f->path, after, sizeof(after));
	assert_string_equal(after, before);
}

/* Nothing but rowcat's kinds and states gets into the journal, whoever
 * writes it; an unknown step (there is no CHECK for steps) is refused
 * loudly when read, never ranked as if it were none. */
static void test_the_journal_refuses_words_rowcat_does_not_know(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation *ops = NULL;
	size_t n = 0;

	assert_int_equal(try_sql(f->path,
		"INSERT INTO operation (kind, state, step, started_at)"
		" VALUES ('snapshot', 'running', 'journalled', 1)"),
		SQLITE_CONSTRAINT);
	assert_int_equal(try_sql(f->path,
		"INSERT INTO operation (kind, state, step, started_at)"
		" VALUES ('snap', 'finished', 'journalled', 1)"),
		SQLITE_CONSTRAINT);
	assert_int_equal(try_sql(f->path,
		"INSERT INTO operation (kind, step, started_at)"
		" VALUES ('create', 'journalled', 1)"), SQLITE_OK);
	assert_int_equal(try_sql(f->path,
		"UPDATE operation SET kind = 'Create'"), SQLITE_CONSTRAINT);
	assert_int_equal(try_sql(f->path,
		"UPDATE operation SET state = 'rolled back'"), SQLITE_CONSTRAINT);

	assert_int_equal(try_sql(f->path,
		"UPDATE operation SET step = 'cloned'"), SQLITE_OK);
	assert_int_equal(catalog_op_list_running(f->cat, &ops, &n, &f->err),
			 -EINVAL);
	assert_null(ops);
	assert_non_null(strstr(f->err.message, "'cloned', which is not one of "
			       "its steps"));
	assert_int_equal(try_sql(f->path,
		"UPDATE operation SET step = 'half-created'"), SQLITE_OK);
	assert_int_equal(catalog_op_list_running(f->cat, &ops, &n, &f->err),
			 -EINVAL);
	assert_non_null(strstr(f->err.message, "at step 'half-created', which "
			       "this rowcat does not know"));
}

/* Each enum's words are the ones the catalog has always stored. */
/* An image of pool rbd named name, with librbd's id id, made at t. */
static struct catalog_adopt_image adopt_image(const char *name, const char *id,
					      int64_t t, const char *parent_snap)
{
	struct catalog_adopt_image img = { .created_at = t };

	snprintf(img.spec.pool, sizeof(img.spec.pool), "rbd");
	snprintf(img.spec.name, sizeof(img.spec.name), "%s", name);
	snprintf(img.rbd_id, sizeof(img.rbd_id), "%s", id);
	if (parent_snap) {
		snprintf(img.parent_snapshot.name,
			 sizeof(img.parent_snapshot.name), "%s", parent_snap);
		img.parent_snapshot.is_protected = true;
		img.parent_snapshot.created_at = t;
	}
	return img;
}

/*
 * Two clones of one image G, adopted in one run, read through one foreign
 * row of G and its one snapshot; a dry run records nothing; a second run
 * adds nothing; G adopted later becomes its volume's; a taken name and an
 * image of that name with another id are refused.
 */
static void test_adopt_shares_ancestors_and_adds_nothing_twice(void **state)
{
	struct fixture *f = *state;
	struct catalog_adopt_image g = adopt_image("G", "g1", 100, NULL);
	struct catalog_adopt_image c1[2] = { g, adopt_image("c1", "i1", 200, "snap") };
	struct catalog_adopt_image c2[2] = { g, adopt_image("c2", "i2", 300, "snap") };
	struct catalog_adopt_image g_alone[1] = { g };
	struct catalog_adopt_image other[1] = { adopt_image("c1", "zz", 400, NULL) };
	struct catalog_adopt_snapshot s1 = { .name = "s1", .created_at = 250 };
	struct catalog_adopt a[2] = {
		{ .volume = "c1", .size = 1 << 20, .chain = c1, .chain_length = 2,
		  .snapshots = &s1, .snapshot_count = 1 },
		{ .volume = "c2", .size = 1 << 20, .chain = c2, .chain_length = 2 },
	};
	struct catalog_adopt more[3] = {
		{ .volume = "G", .size = 1 << 20, .chain = g_alone, .chain_length = 1 },
		{ .volume = "c1", .size = 1 << 20, .chain = other, .chain_length = 1 },
		{ .volume = "c1", .size = 1 << 20, .chain = c2, .chain_length = 2 },
	};
	struct catalog_adopt_result r[3];

	assert_int_equal(catalog_adopt_record(f->cat, a, 2, 1000, true, r, &f->err), 0);
	assert_int_equal(r[0].outcome, CATALOG_ADOPT_ADOPTED);
	assert_int_equal(r[0].ancestors_added, 1);
	assert_int_equal(r[1].ancestors_added, 0);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM image"), 0);

	assert_int_equal(catalog_adopt_record(f->cat, a, 2, 1000, false, r, &f->err), 0);
	assert_int_equal(r[0].snapshots_added, 2); /* G@snap and s1 */
	assert_int_equal(r[1].snapshots_added, 0);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM image WHERE name = 'G'"
				    " AND volume_id IS NULL AND adopted_at = 1000"
				    " AND created_at = 100"), 1);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM snapshot WHERE"
				    " origin = 'adopted'"), 2);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM operation WHERE"
				    " kind = 'adopt' AND state = 'done'"), 2);
	/* an adopt says who, as every other operation does */
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM operation WHERE"
				    " kind = 'adopt' AND host <> '' AND user <> ''"
				    " AND pid > 0"), 2);

	assert_int_equal(catalog_adopt_record(f->cat, a, 2, 2000, false, r, &f->err), 0);
	assert_int_equal(r[0].outcome, CATALOG_ADOPT_ALREADY);
	assert_int_equal(r[1].outcome, CATALOG_ADOPT_ALREADY);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM operation"), 2);

	assert_int_equal(catalog_adopt_record(f->cat, more, 3, 3000, false, r, &f->err), 0);
	assert_int_equal(r[0].outcome, CATALOG_ADOPT_ADOPTED);
	assert_true(r[0].was_foreign);
	assert_int_equal(r[1].outcome, CATALOG_ADOPT_OTHER_IMAGE);
	assert_int_equal(r[2].outcome, CATALOG_ADOPT_ALREADY); /* c2's, whatever name */
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM image"), 3);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM image WHERE"
				    " volume_id IS NULL"), 0);
}

static void test_kinds_states_and_steps_keep_their_words(void **state)
{
	enum catalog_op_step step;
	enum catalog_op_kind kind;
	struct rc_error err = {0};

	(void)state;
	assert_string_equal(catalog_op_kind_name(CATALOG_OP_GC_SNAPSHOT),
			    "gc-snapshot");
	assert_null(catalog_op_kind_name(CATALOG_OP_NO_KIND));
	assert_string_equal(catalog_op_state_name(CATALOG_OP_ROLLED_BACK),
			    "rolled-back");
	assert_string_equal(catalog_op_step_name(CATALOG_STEP_SNAPSHOT_CREATED),
			    "snapshot-created");
	for (int k = CATALOG_OP_CREATE; k < CATALOG_OP_KIND_COUNT; k++) {
		assert_int_equal(catalog_op_kind_parse(
			catalog_op_kind_name((enum catalog_op_kind)k), &kind,
			&err), 0);
		assert_int_equal(kind, k);
	}
	for (int s = 0; s < CATALOG_STEP_COUNT; s++) {
		assert_int_equal(catalog_op_step_parse(
			catalog_op_step_name((enum catalog_op_step)s), &step,
			&err), 0);
		assert_int_equal(step, s);
	}
	assert_int_equal(catalog_op_kind_parse("gc-", &kind, &err), -EINVAL);
	assert_int_equal(catalog_op_step_parse("", &step, &err), -EINVAL);
	assert_true(catalog_op_step_of_kind(CATALOG_OP_RESTORE,
					    CATALOG_STEP_CLONING));
	assert_false(catalog_op_step_of_kind(CATALOG_OP_FLATTEN,
					     CATALOG_STEP_CLONED));
	assert_true(catalog_op_step_of_kind(CATALOG_OP_SNAP,
					    CATALOG_STEP_SWITCHED));
	assert_false(catalog_op_step_of_kind(CATALOG_OP_RESTORE,
					     CATALOG_STEP_PAUSING));
	assert_false(catalog_op_step_of_kind(CATALOG_OP_GC_TRASH,
					     CATALOG_STEP_CREATING));
}

/* A header read as bytes says what SQLite says, without opening. */
static void test_the_header_says_page_size_version_and_wal(void **state)
{
	struct fixture *f = *state;
	unsigned char header[CATALOG_HEADER_SIZE];
	struct catalog_header h;
	int fd;

	/* the last connection's close moves the WAL into the file */
	catalog_close(f->cat);
	f->cat = NULL;
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, header, sizeof(header), 0), sizeof(header));
	close(fd);
	assert_int_equal(catalog_header_parse(header, sizeof(header), f->path,
					      &h, &f->err), 0);
	assert_int_equal(h.schema_version, catalog_schema_version_supported());
	assert_int_equal(h.page_size, 4096);
	assert_true(h.wal);
	/* 1 stands for 65536 */
	header[16] = 0;
	header[17] = 1;
	header[18] = header[19] = 1;
	assert_int_equal(catalog_header_parse(header, sizeof(header), f->path,
					      &h, &f->err), 0);
	assert_int_equal(h.page_size, 65536);
	assert_false(h.wal);
	assert_int_equal(catalog_header_parse(header, 0, "x", &h, &f->err), -ENOENT);
	assert_int_equal(catalog_header_parse(header, 40, "x", &h, &f->err), -EINVAL);
	header[68] ^= 1; /* someone else's application id */
	assert_int_equal(catalog_header_parse(header, sizeof(header), "x", &h,
					      &f->err), -EINVAL);
	assert_non_null(strstr(f->err.message, "not a rowcat catalog"));
	memset(header, 'x', sizeof(header));
	assert_int_equal(catalog_header_parse(header, sizeof(header), "x", &h,
					      &f->err), -EINVAL);
}

/* A file catalog copies to a new file as a catalog of its own, and never
 * onto one that exists; info reads both without writing. */
static void test_a_file_catalog_copies_once_and_never_over_a_file(void **state)
{
	struct fixture *f = *state;
	struct catalog_file_info info;
	struct catalog *copy = NULL;
	struct catalog_volume v;
	char to[600];
	struct stat before, after;
	int version;
	struct rc_image_spec spec = { .pool = "rbd", .name = "vol" };
	int64_t id;

	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_insert(f->cat, "vol", 1024, &spec, 1,
					       &id, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	snprintf(to, sizeof(to), "%s.copy", f->path);
	assert_int_equal(catalog_copy(f->path, to, &version, &f->err), 0);
	assert_int_equal(version, catalog_schema_version_supported());
	assert_int_equal(catalog_open(&copy, to, CATALOG_OPEN_EXISTING, &f->err), 0);
	assert_int_equal(catalog_volume_find(copy, "vol", &v, &f->err), 0);
	catalog_close(copy);
	assert_int_equal(catalog_file_info(to, &info, &f->err), 0);
	assert_string_equal(info.journal_mode, "wal");
	assert_int_equal(info.page_size, 4096);
	assert_int_equal(info.schema_version, version);
	assert_int_equal(info.job_pid[CATALOG_JOB_GC], 0);
	assert_int_equal(stat(to, &before), 0);
	assert_int_equal(catalog_copy(f->path, to, &version, &f->err), -EEXIST);
	assert_int_equal(stat(to, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(before.st_mtime, after.st_mtime);
	/* a file that is not a catalog is no source, and leaves no copy */
	unlink(to);
	assert_int_equal(catalog_copy("/dev/null", to, &version, &f->err) < 0, 1);
	assert_int_equal(access(to, F_OK), -1);
	assert_int_equal(catalog_copy_remove(to, &f->err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_a_private_file_at_the_newest_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_twice_is_harmless, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_transactions_are_counted_reads_outside_begin_included, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_open_existing_without_a_file_creates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_a_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_a_file_that_is_not_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_someone_elses_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_a_newer_schema_and_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_an_empty_file_that_only_init_may_make_a_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_damaged_catalog_is_refused_by_init_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_files_refuse_a_planted_symlink_fifo_or_hard_link, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_volume_is_found_by_name_with_its_root_image, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_volume_is_enoent, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_second_volume_of_the_same_name_is_eexist, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_image_is_found_by_pool_namespace_and_name, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_depth_counts_the_clone_levels_read_through, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_flatten_cuts_the_depth_of_the_image_and_its_clones, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_depth_of_an_unknown_image_is_enoent, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_ancestors_come_nearest_first, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_ancestors_read_through_stop_at_a_flatten, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_holds_every_image_and_snapshot_of_the_tree, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_list_gives_each_volume_its_depth_and_snapshots, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_list_stops_when_the_callback_says_so, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_list_returns_the_callbacks_failure_in_its_words, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_an_operation_is_running_until_ended_once, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_undoes_everything_since_begin, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_running_operation_is_claimed_until_its_owner_closes, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_steps_are_recorded_while_running, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_volume_with_a_live_operation_is_busy_for_another, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_an_operation_on_an_image_no_longer_operating_is_stale, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_no_snap_restore_or_flatten_is_journalled_on_a_marked_volume, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots_are_found_by_name_anywhere_in_their_volume, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_lookup_that_finds_its_row_leaves_no_stale_error, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_operations_of_a_volume_come_newest_first_with_targets, setup_open, teardown),
		cmocka_unit_test(test_tree_at_each_time_has_the_rows_and_operating_image_of_then),
		cmocka_unit_test(test_tree_at_undoes_what_came_later),
		cmocka_unit_test(test_tree_at_names_the_operation_that_switched),
		cmocka_unit_test(test_tree_at_before_the_volume_existed_is_enoent),
		cmocka_unit_test(test_tree_at_of_an_adopted_volume_starts_at_its_own_image),
		cmocka_unit_test(test_tree_at_finds_snapshots_by_id_not_by_their_order_in_time),
		cmocka_unit_test_setup_teardown(test_an_operation_records_who_journalled_it,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_an_operation_from_before_schema_9_has_no_one,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_the_policy_clock_is_kept_beside_the_real_time, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_schema_2_catalog_gains_the_policy_clock_columns, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_schema_8_catalog_keeps_its_rows_through_the_rebuild, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_migrating_to_schema_4_keeps_every_operation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_migrating_to_schema_5_keeps_every_operation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_schema_5_catalog_gains_the_consumer_columns, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_catalog_with_an_unknown_kind_is_not_migrated, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_the_journal_refuses_words_rowcat_does_not_know, setup_open, teardown),
		cmocka_unit_test(test_kinds_states_and_steps_keep_their_words),
		cmocka_unit_test_setup_teardown(test_adopt_shares_ancestors_and_adds_nothing_twice, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_no_mark_is_taken_while_an_unrm_is_unfinished, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_the_header_says_page_size_version_and_wal, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_a_file_catalog_copies_once_and_never_over_a_file, setup_open, teardown),
	};
	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
