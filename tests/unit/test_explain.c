/*
 * ops/explain.c: why each image and snapshot of a volume's tree is kept or
 * would go, on a catalog file built here (no cluster):
 *
 *   F (foreign ancestor, inserted with SQL: no volume)
 *   @base
 *   └ vol1            @p0  policy, expired, then pinned
 *     └ vol1.1        @p1  policy, expired (05-01 10h)
 *       └ vol1.2      @p2  policy (05-02 10h)
 *         └ vol1.3    @p3  policy (05-03 08h) ─────────┐
 *           └ vol1.4  @p4  policy (05-03 09h)           └ vol2 (volume vol2's root)
 *             ├ vol1.5  @m1 manual, marked by rm           @a  manual, marked by rm
 *             │ └ vol1.6 @pre pre-restore                  └ vol2.1 (vol2's operating image)
 *             │          @x   manual, marked by rm, no clone
 *             └ vol1.7 (vol1's operating image: a restore of p4)
 *                      @y   manual, marked by rm
 *                      └ vol1.8 (nothing needs it)
 *
 * vol1's policy gold keeps latest 1, hourly 2, daily 2: p4, p3 and p2;
 * p1 and p0 were expired by it. Judged on 2026-05-05 with --min-age 1h
 * and --trash-delay 24h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "rowcat/catalog.h"
#include "rowcat/clock.h"
#include "rowcat/ops.h"
#include "rowcat/policy.h"
#include "rowcat/sys/journal.h"
#include "testdir.h"

struct fixture {
	struct testdir dir;
	char path[512];
	struct catalog *cat;
	struct rc_error err;
	struct policy gold;
	struct catalog_gc_options gc;
	int64_t vol1, vol2;
	int64_t img[9], p[5], m1, pre, x, y;
	int64_t j0, j1, a;
};

static int64_t at(const char *text)
{
	struct rc_error err = {0};
	int64_t t = 0;

	if (rc_time_parse_iso(text, &t, &err) != 0)
		fail_msg("%s", err.message);
	return t;
}

static void run_sql(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int64_t snap(struct fixture *f, int64_t image, const char *name,
		    const char *origin, const char *when)
{
	int64_t id;

	assert_int_equal(catalog_snapshot_insert(f->cat, image, name, origin,
						 true, at(when), &id, &f->err), 0);
	return id;
}

static int64_t clone(struct fixture *f, int64_t volume, const char *name,
		     int64_t parent, const char *when)
{
	struct rc_image_spec spec = { "rbd", "", "" };
	int64_t id;

	snprintf(spec.name, sizeof(spec.name), "%s", name);
	assert_int_equal(catalog_clone_insert(f->cat, volume, &spec, parent,
					      at(when), &id, &f->err), 0);
	return id;
}

static int64_t volume(struct fixture *f, const char *name, const char *when)
{
	struct rc_image_spec spec = { "rbd", "", "" };
	int64_t id;

	snprintf(spec.name, sizeof(spec.name), "%s", name);
	assert_int_equal(catalog_volume_insert(f->cat, name, 1 << 30, &spec,
					       at(when), &id, &f->err), 0);
	return id;
}

static void build(struct fixture *f)
{
	struct catalog_volume v;
	char sql[512];
	size_t marked;

	/* the foreign ancestor first: a clone's id is above its parent's */
	run_sql(f->path,
		"INSERT INTO image (volume_id, pool, namespace, name, created_at,"
		"                   adopted_at)"
		" VALUES (NULL, 'images', '', 'glance-1', 1, 2);"
		"INSERT INTO snapshot (image_id, name, protected, origin,"
		"                      created_at)"
		" SELECT id, 'base', 1, 'adopted', 1 FROM image"
		"  WHERE name = 'glance-1';");
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	f->vol1 = volume(f, "vol1", "2026-04-30T09:00:00Z");
	assert_int_equal(catalog_volume_get(f->cat, f->vol1, &v, &f->err), 0);
	f->img[0] = v.operating_image_id;
	f->p[0] = snap(f, f->img[0], "p0", "policy:gold", "2026-04-30T10:00:00Z");
	f->img[1] = clone(f, f->vol1, "vol1.1", f->p[0], "2026-04-30T10:00:00Z");
	f->p[1] = snap(f, f->img[1], "p1", "policy:gold", "2026-05-01T10:00:00Z");
	f->img[2] = clone(f, f->vol1, "vol1.2", f->p[1], "2026-05-01T10:00:00Z");
	f->p[2] = snap(f, f->img[2], "p2", "policy:gold", "2026-05-02T10:00:00Z");
	f->img[3] = clone(f, f->vol1, "vol1.3", f->p[2], "2026-05-02T10:00:00Z");
	f->p[3] = snap(f, f->img[3], "p3", "policy:gold", "2026-05-03T08:00:00Z");
	f->img[4] = clone(f, f->vol1, "vol1.4", f->p[3], "2026-05-03T08:00:00Z");
	f->p[4] = snap(f, f->img[4], "p4", "policy:gold", "2026-05-03T09:00:00Z");
	f->img[5] = clone(f, f->vol1, "vol1.5", f->p[4], "2026-05-03T09:00:00Z");
	f->m1 = snap(f, f->img[5], "m1", "manual", "2026-05-03T09:30:00Z");
	f->img[6] = clone(f, f->vol1, "vol1.6", f->m1, "2026-05-03T09:30:00Z");
	f->pre = snap(f, f->img[6], "pre", "pre-restore", "2026-05-03T10:00:00Z");
	f->x = snap(f, f->img[6], "x", "manual", "2026-05-03T10:05:00Z");
	f->img[7] = clone(f, f->vol1, "vol1.7", f->p[4], "2026-05-03T10:00:00Z");
	f->y = snap(f, f->img[7], "y", "manual", "2026-05-03T11:00:00Z");
	f->img[8] = clone(f, f->vol1, "vol1.8", f->y, "2026-05-03T11:00:00Z");
	assert_int_equal(catalog_volume_set_operating(f->cat, f->vol1, f->img[7],
						      &f->err), 0);
	/* vol2: a hand-made chain adopted from vol1's p3 */
	f->vol2 = volume(f, "vol2", "2026-05-03T12:00:00Z");
	assert_int_equal(catalog_volume_get(f->cat, f->vol2, &v, &f->err), 0);
	f->j0 = v.operating_image_id;
	f->a = snap(f, f->j0, "a", "manual", "2026-05-03T12:30:00Z");
	f->j1 = clone(f, f->vol2, "vol2.1", f->a, "2026-05-03T12:30:00Z");
	assert_int_equal(catalog_volume_set_operating(f->cat, f->vol2, f->j1,
						      &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);

	snprintf(sql, sizeof(sql),
		 "UPDATE image SET parent_snapshot_id = (SELECT id FROM snapshot"
		 " WHERE name = 'base') WHERE id = %lld;"
		 "UPDATE image SET parent_snapshot_id = %lld, adopted_at = 3"
		 " WHERE id = %lld;",
		 (long long)f->img[0], (long long)f->p[3], (long long)f->j0);
	run_sql(f->path, sql);

	/* what the policy expired, then a pin; what rm marked */
	assert_int_equal(catalog_snapshots_expire(f->cat, f->vol1, "policy:gold",
		(int64_t[]){ f->p[0], f->p[1] }, 2, at("2026-05-03T09:00:00Z"),
		&marked, &f->err), 0);
	assert_int_equal(marked, 2);
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, f->vol1, "p0", true,
						     &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, f->vol1, "m1",
		at("2026-05-04T00:00:00Z"), &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, f->vol1, "x",
		at("2026-05-04T00:00:00Z"), &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, f->vol1, "y",
		at("2026-05-04T00:00:00Z"), &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, f->vol2, "a",
		at("2026-05-04T00:00:00Z"), &f->err), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct rc_error err = {0};

	testdir_make(&f->dir);
	testdir_file(&f->dir, "catalog.db", f->path, sizeof(f->path));
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	assert_int_equal(policy_zone_use("UTC", &err), 0);
	snprintf(f->gold.name, sizeof(f->gold.name), "gold");
	f->gold.keep = (struct policy_keep){ .given = true, .latest = 1,
		.buckets[POLICY_HOURLY] = 2, .buckets[POLICY_DAILY] = 2 };
	f->gold.every = 3600;
	f->gc = (struct catalog_gc_options){ at("2026-05-05T00:00:00Z"), 3600,
					     86400 };
	build(f);
	*state = f;
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

static struct ops_explanation *explain(struct fixture *f, int64_t volume_id,
				       const struct policy *p)
{
	struct ops_explanation *e = NULL;
	struct catalog_volume v;

	assert_int_equal(catalog_volume_get(f->cat, volume_id, &v, &f->err), 0);
	if (ops_explain(&e, f->cat, &v, p, &f->gc, &f->err) != 0)
		fail_msg("ops_explain: %s", f->err.message);
	return e;
}

static const struct ops_explain_item *item(const struct ops_explanation *e,
					   int64_t image_id, int64_t snap_id)
{
	const struct ops_explain_item *it = ops_explain_find(e, image_id,
							     snap_id);

	if (!it)
		fail_msg("no item for image %lld snapshot %lld",
			 (long long)image_id, (long long)snap_id);
	return it;
}

/* The item's first reason of that kind, or NULL. */
static const struct ops_explain_reason *
reason(const struct ops_explain_item *it, enum ops_explain_why why)
{
	for (size_t r = 0; r < it->reason_count; r++)
		if (it->reasons[r].why == why)
			return &it->reasons[r];
	return NULL;
}

static const struct ops_explain_reason *
read_by(const struct ops_explain_item *it, int64_t image_id)
{
	for (size_t r = 0; r < it->reason_count; r++)
		if (it->reasons[r].why == OPS_WHY_READ_BY &&
		    it->reasons[r].image_id == image_id)
			return &it->reasons[r];
	return NULL;
}

static void test_policy_snapshots_name_the_rule_and_slot(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);
	const struct ops_explain_reason *r;

	/* p4: latest 1, hourly slot 1 (05-03 09h), daily slot 1 */
	r = reason(item(e, f->img[4], f->p[4]), OPS_WHY_POLICY_KEEPS);
	assert_non_null(r);
	assert_true(r->retention.by_latest);
	assert_true(r->retention.bucket[POLICY_HOURLY].keeps);
	assert_int_equal(r->retention.bucket[POLICY_HOURLY].slot, 1);
	/* p3: hourly's second slot only */
	r = reason(item(e, f->img[3], f->p[3]), OPS_WHY_POLICY_KEEPS);
	assert_non_null(r);
	assert_false(r->retention.by_latest);
	assert_true(r->retention.bucket[POLICY_HOURLY].keeps);
	assert_int_equal(r->retention.bucket[POLICY_HOURLY].slot, 2);
	assert_false(r->retention.bucket[POLICY_DAILY].keeps);
	/* its day is held by p4 (an item: its index) */
	assert_int_equal(e->items[r->retention.bucket[POLICY_DAILY].held_by]
			 .snapshot.id, f->p[4]);
	/* p2: daily's second slot */
	r = reason(item(e, f->img[2], f->p[2]), OPS_WHY_POLICY_KEEPS);
	assert_non_null(r);
	assert_true(r->retention.bucket[POLICY_DAILY].keeps);
	assert_int_equal(r->retention.bucket[POLICY_DAILY].slot, 2);
	assert_int_equal(item(e, f->img[2], f->p[2])->verdict, OPS_EXPLAIN_KEPT);
	ops_explanation_free(e);
}

static void test_expired_snapshot_says_which_rules_let_it_go(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);
	const struct ops_explain_item *p1 = item(e, f->img[1], f->p[1]);
	const struct ops_explain_reason *r = reason(p1, OPS_WHY_EXPIRED);

	assert_non_null(r);
	assert_int_equal(r->at, at("2026-05-03T09:00:00Z"));
	assert_false(r->retention.kept);
	assert_int_equal(r->retention.rank, 4);
	assert_int_equal(r->retention.bucket[POLICY_DAILY].slot, 3);
	/* kept all the same: vol1.2, which the operating image reads
	 * through, reads through it */
	assert_int_equal(p1->verdict, OPS_EXPLAIN_KEPT);
	r = read_by(p1, f->img[2]);
	assert_non_null(r);
	assert_true(r->chain);
	assert_false(r->operating);
	ops_explanation_free(e);
}

static void test_pin_keeps_an_expired_snapshot(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);
	const struct ops_explain_item *p0 = item(e, f->img[0], f->p[0]);

	assert_int_equal(p0->verdict, OPS_EXPLAIN_KEPT);
	assert_non_null(reason(p0, OPS_WHY_PINNED));
	assert_null(reason(p0, OPS_WHY_EXPIRED));
	ops_explanation_free(e);
}

static void test_marked_snapshot_a_clone_reads_is_kept_and_says_by_whom(
	void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);
	const struct ops_explain_item *m1 = item(e, f->img[5], f->m1);
	const struct ops_explain_reason *r;

	assert_int_equal(m1->verdict, OPS_EXPLAIN_KEPT);
	r = reason(m1, OPS_WHY_MARKED);
	assert_non_null(r);
	assert_int_equal(r->at, at("2026-05-04T00:00:00Z"));
	r = read_by(m1, f->img[6]);
	assert_non_null(r);
	assert_false(r->chain);
	assert_int_equal(r->volume_id, f->vol1);
	/* vol1.6 is kept for its pre-restore snapshot */
	assert_non_null(reason(item(e, f->img[6], 0), OPS_WHY_CARRIES));
	assert_non_null(reason(item(e, f->img[6], f->pre), OPS_WHY_ORIGIN));
	ops_explanation_free(e);
}

static void test_what_goes_and_what_waits_is_gcs_plan(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);
	const struct ops_explain_item *it;
	const struct ops_explain_reason *r;

	/* x: marked, nothing reads it: removed by the next run */
	it = item(e, f->img[6], f->x);
	assert_int_equal(it->verdict, OPS_EXPLAIN_GOES);
	r = reason(it, OPS_WHY_GC_STEP);
	assert_non_null(r);
	assert_int_equal(r->action, CATALOG_GC_REMOVE_SNAPSHOT);
	/* vol1.8: nothing needs it: to the trash */
	it = item(e, f->img[8], 0);
	assert_int_equal(it->verdict, OPS_EXPLAIN_GOES);
	assert_non_null(reason(it, OPS_WHY_UNNEEDED));
	assert_int_equal(reason(it, OPS_WHY_GC_STEP)->action, CATALOG_GC_TRASH);
	/* y waits for its clone to leave the trash */
	it = item(e, f->img[7], f->y);
	assert_int_equal(it->verdict, OPS_EXPLAIN_WAITS);
	r = reason(it, OPS_WHY_GC_WAIT);
	assert_non_null(r);
	assert_int_equal(r->wait.why, CATALOG_GC_WAIT_CLONE);
	assert_int_equal(r->wait.on_image_id, f->img[8]);
	/* the operating image */
	it = item(e, f->img[7], 0);
	assert_int_equal(it->verdict, OPS_EXPLAIN_KEPT);
	assert_int_equal(reason(it, OPS_WHY_OPERATING)->volume_id, f->vol1);
	ops_explanation_free(e);
}

static void test_young_garbage_waits_for_min_age(void **state)
{
	struct fixture *f = *state;
	const struct ops_explain_reason *r;
	struct ops_explanation *e;

	f->gc.now = at("2026-05-04T00:30:00Z");
	f->gc.min_age = 7 * 86400;
	e = explain(f, f->vol1, &f->gold);
	r = reason(item(e, f->img[6], f->x), OPS_WHY_GC_WAIT);
	assert_non_null(r);
	assert_int_equal(r->wait.why, CATALOG_GC_WAIT_YOUNG);
	assert_int_equal(r->wait.until, at("2026-05-10T10:05:00Z"));
	ops_explanation_free(e);
}

static void test_foreign_ancestor_is_never_collected(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);
	const struct ops_explain_item *img = &e->items[0], *base = &e->items[1];

	/* items come by image id: the foreign ancestor first */
	assert_int_equal(img->image.volume_id, 0);
	assert_int_equal(img->snapshot.id, 0);
	assert_string_equal(base->snapshot.name, "base");
	assert_int_equal(img->verdict, OPS_EXPLAIN_KEPT);
	assert_non_null(reason(img, OPS_WHY_FOREIGN));
	assert_non_null(reason(base, OPS_WHY_FOREIGN));
	assert_non_null(read_by(base, f->img[0]));
	ops_explanation_free(e);
}

static void test_another_volumes_clone_is_named_with_its_volume(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);
	const struct ops_explain_reason *r;
	const struct ops_explain_item *j0;

	r = read_by(item(e, f->img[3], f->p[3]), f->j0);
	assert_non_null(r);
	assert_int_equal(r->volume_id, f->vol2);
	j0 = item(e, f->j0, 0);
	assert_int_equal(reason(j0, OPS_WHY_OTHER_VOLUME)->volume_id, f->vol2);
	assert_non_null(ops_explain_volume(e, f->vol2));
	assert_string_equal(ops_explain_volume(e, f->vol2)->name, "vol2");
	/* vol2's own snapshot is not one of vol1's items */
	assert_null(ops_explain_find(e, 0, f->a));
	ops_explanation_free(e);
}

static void test_flatten_names_what_it_would_free(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol2, NULL);
	const struct ops_explain_item *a = item(e, f->j0, f->a);
	const struct ops_explain_reason *r;
	bool frees_a = false, frees_j0 = false;

	/* vol2 reads through vol1's rows as far as the foreign root */
	assert_non_null(ops_explain_find(e, f->img[3], f->p[3]));
	assert_int_equal(e->items[0].image.volume_id, 0);
	assert_string_equal(e->items[1].snapshot.name, "base");
	assert_int_equal(a->verdict, OPS_EXPLAIN_KEPT);
	assert_non_null(reason(a, OPS_WHY_MARKED));
	assert_true(read_by(a, f->j1)->operating);
	r = reason(a, OPS_WHY_FLATTEN_FREES);
	assert_non_null(r);
	assert_int_equal(r->image_id, f->j1);
	assert_int_equal(e->flatten_count, 1);
	for (size_t k = 0; k < e->flattens[0].count; k++) {
		const struct ops_explain_item *it =
			&e->items[e->flattens[0].items[k]];

		frees_a |= it->snapshot.id == f->a;
		frees_j0 |= it->image.id == f->j0 && !it->snapshot.id;
		/* never another volume's rows: vol1 still needs p3 */
		assert_true(it->image.volume_id == f->vol2);
	}
	assert_true(frees_a && frees_j0);
	ops_explanation_free(e);
}

/* A Cinder-like volume adopted from a Glance-like image that nothing else
 * reads: flattening its operating image leaves the image unneeded, and
 * still gc never collects it, so a flatten frees nothing of it. */
static void test_a_flatten_never_frees_a_foreign_ancestor(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e;
	struct catalog_volume v;
	int64_t cin;
	char sql[512];

	run_sql(f->path,
		"INSERT INTO image (volume_id, pool, namespace, name, created_at,"
		"                   adopted_at)"
		" VALUES (NULL, 'images', '', 'glance-2', 1, 2);"
		"INSERT INTO snapshot (image_id, name, protected, origin,"
		"                      created_at)"
		" SELECT id, 'snap', 1, 'adopted', 1 FROM image"
		"  WHERE name = 'glance-2';");
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	cin = volume(f, "cin", "2026-05-04T12:00:00Z");
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_get(f->cat, cin, &v, &f->err), 0);
	snprintf(sql, sizeof(sql),
		 "UPDATE image SET adopted_at = 3, parent_snapshot_id ="
		 " (SELECT s.id FROM snapshot s JOIN image i ON i.id = s.image_id"
		 "   WHERE i.name = 'glance-2') WHERE id = %lld;",
		 (long long)v.operating_image_id);
	run_sql(f->path, sql);
	e = explain(f, cin, NULL);
	assert_int_equal(e->flatten_count, 1);
	assert_int_equal(e->flattens[0].image_id, v.operating_image_id);
	assert_int_equal(e->flattens[0].count, 0);
	for (size_t k = 0; k < e->count; k++) {
		assert_int_equal(e->items[k].verdict, OPS_EXPLAIN_KEPT);
		assert_null(reason(&e->items[k], OPS_WHY_FLATTEN_FREES));
	}
	ops_explanation_free(e);
}

static void test_vol1s_flatten_frees_nothing_its_policy_keeps(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, &f->gold);

	/* vol1's operating image: p4, which it reads, is kept by the
	 * policy, and so is the chain above it */
	assert_int_equal(e->flatten_count, 1);
	assert_int_equal(e->flattens[0].image_id, f->img[7]);
	assert_int_equal(e->flattens[0].volume_id, f->vol1);
	assert_int_equal(e->flattens[0].count, 0);
	ops_explanation_free(e);
}

static void test_without_a_policy_its_snapshots_say_so(void **state)
{
	struct fixture *f = *state;
	struct ops_explanation *e = explain(f, f->vol1, NULL);

	assert_non_null(reason(item(e, f->img[2], f->p[2]),
			       OPS_WHY_POLICY_UNKNOWN));
	/* expired without a policy to ask: marked */
	assert_non_null(reason(item(e, f->img[1], f->p[1]), OPS_WHY_MARKED));
	ops_explanation_free(e);
}

static void test_a_policy_that_is_not_the_volumes_leaves_rm(void **state)
{
	struct fixture *f = *state;
	struct policy silver = f->gold;
	struct ops_explanation *e;

	snprintf(silver.name, sizeof(silver.name), "silver");
	e = explain(f, f->vol1, &silver);
	assert_non_null(reason(item(e, f->img[2], f->p[2]), OPS_WHY_ORIGIN));
	ops_explanation_free(e);
}

static void test_snapshot_rm_marked_but_kept_by_policy_says_rm(void **state)
{
	struct fixture *f = *state;
	const struct ops_explain_reason *r;
	struct ops_explanation *e;

	assert_int_equal(catalog_snapshot_mark(f->cat, f->vol1, "p4",
		at("2026-05-04T01:00:00Z"), &f->err), 0);
	e = explain(f, f->vol1, &f->gold);
	r = reason(item(e, f->img[4], f->p[4]), OPS_WHY_MARKED);
	assert_non_null(r);
	assert_true(r->policy_checked);
	assert_true(r->retention.kept);
	ops_explanation_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_snapshots_name_the_rule_and_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_snapshot_says_which_rules_let_it_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_keeps_an_expired_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marked_snapshot_a_clone_reads_is_kept_and_says_by_whom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_goes_and_what_waits_is_gcs_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_young_garbage_waits_for_min_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_ancestor_is_never_collected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_volumes_clone_is_named_with_its_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flatten_names_what_it_would_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_flatten_never_frees_a_foreign_ancestor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vol1s_flatten_frees_nothing_its_policy_keeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_a_policy_its_snapshots_say_so, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_policy_that_is_not_the_volumes_leaves_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_rm_marked_but_kept_by_policy_says_rm, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
