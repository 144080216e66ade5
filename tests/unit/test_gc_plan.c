/*
 * gc: the planner (catalog_gc_plan) on hand-built lineages and on 10,000
 * random ones, and its catalog side (marks, pins, journalled steps).
 *
 * Every plan is checked against the reference model in gc_plan_model.c;
 * the random lineages come from the simulator in gc_plan_sim.c, which
 * says how to replay a failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gc_plan_model.h"
#include "gc_plan_sim.h"
#include "rowcat/catalog.h"
#include "rowcat/sys/journal.h"
#include "testdir.h"

#define NOW 1000000

/* ---- hand-built lineages ---------------------------------------------- */

struct fixture {
	struct testdir dir;
	char path[512];
	struct catalog *cat;
	struct rc_error err;
	uint64_t rng;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	testdir_make(&f->dir);
	testdir_file(&f->dir, "catalog.db", f->path, sizeof(f->path));
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	f->rng = 1;
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

static struct rc_image_spec spec_of(const char *name)
{
	struct rc_image_spec spec = { "rbd", "", "" };

	snprintf(spec.name, sizeof(spec.name), "%s", name);
	return spec;
}

/* A volume whose root image, also called `name`, is made at `when`. */
static int64_t new_volume(struct fixture *f, const char *name, int64_t when,
			  int64_t *root)
{
	struct rc_image_spec spec = spec_of(name);
	struct catalog_volume vol;
	int64_t id;

	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_insert(f->cat, name, 1 << 30, &spec,
					       when, &id, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_get(f->cat, id, &vol, &f->err), 0);
	*root = vol.operating_image_id;
	return id;
}

/* rowcat snap: snapshots `from`, clones the snapshot into `clone` and
 * makes the clone the operating image, which it returns. */
static int64_t row_snap(struct fixture *f, int64_t volume, int64_t from,
			const char *snap, const char *clone, int64_t when,
			int64_t *snap_id)
{
	struct rc_image_spec spec = spec_of(clone);
	int64_t image;

	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_snapshot_insert(f->cat, from, snap, "manual",
						 true, when, snap_id, &f->err), 0);
	assert_int_equal(catalog_clone_insert(f->cat, volume, &spec, *snap_id,
					      when, &image, &f->err), 0);
	assert_int_equal(catalog_volume_set_operating(f->cat, volume, image,
						      &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	return image;
}

/* Loads volume's state and plans it at o, checking the plan fully. */
static void plan_volume(struct fixture *f, int64_t volume,
			const struct catalog_gc_options *o,
			struct catalog_gc_state *st, struct catalog_gc_plan *p)
{
	assert_int_equal(catalog_gc_state_load(f->cat, volume, st, &f->err), 0);
	assert_int_equal(catalog_gc_plan(st, o, p, &f->err), 0);
	verify_plan(st, o, p, VERIFY_STEPWISE, &f->rng);
}

/* Whether step k waits, directly or not, for step on. */
static bool waits_for(const struct catalog_gc_plan *p, long k, long on)
{
	const struct catalog_gc_step *s = &p->steps[k];

	for (size_t d = 0; d < s->dep_count; d++) {
		long dep = (long)p->deps[s->first_dep + d];

		if (dep == on || waits_for(p, dep, on))
			return true;
	}
	return false;
}

static bool touches_image(const struct catalog_gc_plan *p, int64_t image)
{
	for (size_t k = 0; k < p->count; k++)
		if (p->steps[k].image_id == image)
			return true;
	return false;
}

/*
 * A -s1-> B -s2-> C, C operating: marking s1 frees nothing while C reads
 * through B into A. Once C is flattened and s2 marked too, B and A go,
 * leaf first; with a trash delay, in two runs.
 */
static void test_a_chain_read_through_is_kept_then_collected_leaf_first(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_options o = { NOW, 0, 0 };
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	int64_t vol, a, b, c, s1, s2;
	long tb, ta, rs1, rs2, pb, pa;

	vol = new_volume(f, "v", 1000, &a);
	b = row_snap(f, vol, a, "s1", "v.1", 2000, &s1);
	c = row_snap(f, vol, b, "s2", "v.2", 3000, &s2);
	assert_int_equal(catalog_snapshot_mark(f->cat, vol, "s1", 4000, &f->err),
			 0);
	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 0);
	assert_int_equal(p.waiting, 0);
	plan_done(&st, &p);

	assert_int_equal(catalog_image_set_flattened(f->cat, c, 5000, &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, vol, "s2", 5000, &f->err),
			 0);
	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 6);
	tb = step_of(&p, CATALOG_GC_TRASH, b, 0);
	ta = step_of(&p, CATALOG_GC_TRASH, a, 0);
	rs2 = step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, b, s2);
	rs1 = step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, a, s1);
	pb = step_of(&p, CATALOG_GC_PURGE, b, 0);
	pa = step_of(&p, CATALOG_GC_PURGE, a, 0);
	assert_true(tb >= 0 && ta >= 0 && rs1 >= 0 && rs2 >= 0 && pb >= 0 &&
		    pa >= 0);
	assert_true(waits_for(&p, ta, tb));
	assert_true(waits_for(&p, rs2, tb));
	assert_true(waits_for(&p, pb, rs2));
	assert_true(waits_for(&p, rs1, pb));
	assert_true(waits_for(&p, pa, rs1));
	assert_int_equal(p.steps[tb].reason, CATALOG_GC_UNNEEDED);
	assert_int_equal(p.steps[rs1].reason, CATALOG_GC_MARKED);
	assert_int_equal(p.steps[pa].reason, CATALOG_GC_TRASH_EXPIRED);
	assert_false(touches_image(&p, c));
	assert_int_equal(p.waiting, 0);
	assert_int_equal(p.next_purge_at, 0);
	plan_done(&st, &p);

	/* a day in the trash: only the moves now */
	o.trash_delay = DAY;
	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 2);
	tb = step_of(&p, CATALOG_GC_TRASH, b, 0);
	ta = step_of(&p, CATALOG_GC_TRASH, a, 0);
	assert_true(tb >= 0 && ta >= 0 && waits_for(&p, ta, tb));
	assert_true(p.waiting > 0);
	/* nothing was in the trash when the plan was drawn; whether the
	 * delays it starts count is left open */
	assert_true(p.next_purge_at == 0 || p.next_purge_at == NOW + DAY);
	apply_all(&st, &p, &o);
	catalog_gc_plan_free(&p);

	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), 0);
	assert_int_equal(p.count, 0);
	assert_int_equal(p.waiting, 4); /* A, B, s1, s2 */
	assert_int_equal(p.next_purge_at, NOW + DAY);
	catalog_gc_plan_free(&p);

	o.now = NOW + DAY - 1;
	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), 0);
	assert_int_equal(p.count, 0);
	catalog_gc_plan_free(&p);

	o.now = NOW + DAY;
	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), 0);
	verify_plan(&st, &o, &p, VERIFY_STEPWISE, &f->rng);
	assert_int_equal(p.count, 4);
	rs2 = step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, b, s2);
	rs1 = step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, a, s1);
	pb = step_of(&p, CATALOG_GC_PURGE, b, 0);
	pa = step_of(&p, CATALOG_GC_PURGE, a, 0);
	assert_true(rs1 >= 0 && rs2 >= 0 && pb >= 0 && pa >= 0);
	assert_true(waits_for(&p, rs1, pb) && waits_for(&p, pa, rs1));
	apply_all(&st, &p, &o);
	catalog_gc_plan_free(&p);
	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), 0);
	assert_int_equal(p.count, 0);
	assert_int_equal(p.waiting, 0);
	assert_int_equal(p.next_purge_at, 0);
	plan_done(&st, &p);
}

/*
 * rowcat rm VOL with s2 pinned, on A -s1-> B -s2-> C -s3-> D: D and C go,
 * B (carrying s2) and A (which B reads) stay. Unpinned, all goes.
 */
static void test_a_pinned_snapshot_keeps_its_image_in_a_removed_volume(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_options o = { NOW, 0, 0 };
	struct catalog_snapshot snap;
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	int64_t vol, a, b, c, d, s1, s2, s3;
	long rs3;

	vol = new_volume(f, "p", 1000, &a);
	b = row_snap(f, vol, a, "s1", "p.1", 2000, &s1);
	c = row_snap(f, vol, b, "s2", "p.2", 3000, &s2);
	d = row_snap(f, vol, c, "s3", "p.3", 4000, &s3);
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, vol, "s2", true,
						     &f->err), 0);
	assert_int_equal(catalog_volume_mark(f->cat, vol, 5000, &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, vol, "s2", 5000, &f->err),
			 -EPERM);
	assert_non_null(strstr(f->err.message, "pinned"));
	assert_int_equal(catalog_snapshot_get(f->cat, s2, &snap, &f->err), 0);
	assert_int_equal(snap.marked_at, 0);

	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 5);
	assert_true(step_of(&p, CATALOG_GC_TRASH, d, 0) >= 0);
	assert_true(step_of(&p, CATALOG_GC_PURGE, d, 0) >= 0);
	assert_true(step_of(&p, CATALOG_GC_TRASH, c, 0) >= 0);
	assert_true(step_of(&p, CATALOG_GC_PURGE, c, 0) >= 0);
	rs3 = step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, c, s3);
	assert_true(rs3 >= 0);
	assert_int_equal(p.steps[rs3].reason, CATALOG_GC_VOLUME_REMOVED);
	assert_int_equal(p.steps[0].reason, CATALOG_GC_VOLUME_REMOVED);
	assert_false(touches_image(&p, a));
	assert_false(touches_image(&p, b));
	plan_done(&st, &p);

	assert_int_equal(catalog_snapshot_set_pinned(f->cat, vol, "s2", false,
						     &f->err), 0);
	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 4 * 2 + 3);
	assert_true(step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, b, s2) >= 0);
	assert_true(step_of(&p, CATALOG_GC_PURGE, a, 0) >= 0);
	plan_done(&st, &p);
}

/*
 * A removed volume, A -s1-> B, where B is young: nothing goes, not even A,
 * which B reads. Old enough, all of it goes.
 */
static void test_rows_younger_than_min_age_are_left_with_what_they_read(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_options o = { NOW, 3600, 0 };
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	int64_t vol, a, b, s1, w, ws;

	vol = new_volume(f, "y", 1000, &a);
	b = row_snap(f, vol, a, "s1", "y.1", NOW - 100, &s1);
	assert_int_equal(catalog_volume_mark(f->cat, vol, NOW - 50, &f->err), 0);
	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 0);
	assert_true(p.waiting > 0);
	plan_done(&st, &p);

	o.min_age = 100;
	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 5);
	assert_true(step_of(&p, CATALOG_GC_PURGE, a, 0) >= 0);
	assert_true(step_of(&p, CATALOG_GC_PURGE, b, 0) >= 0);
	plan_done(&st, &p);

	o.now = NOW + 3500;
	o.min_age = 3600;
	plan_volume(f, vol, &o, &st, &p);
	assert_int_equal(p.count, 5);
	plan_done(&st, &p);

	/* a young marked snapshot of an operating image */
	w = new_volume(f, "w", 1000, &a);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_snapshot_insert(f->cat, a, "ws", "manual", true,
						 NOW - 10, &ws, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, w, "ws", NOW, &f->err), 0);
	o.now = NOW;
	plan_volume(f, w, &o, &st, &p);
	assert_int_equal(p.count, 0);
	assert_int_equal(p.waiting, 1);
	plan_done(&st, &p);
	o.min_age = 0;
	plan_volume(f, w, &o, &st, &p);
	assert_int_equal(p.count, 1);
	assert_true(step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, a, ws) == 0);
	plan_done(&st, &p);

	/* an old image with a young snapshot, its volume just removed: the
	 * snapshot would go to the trash with it, so the image waits too */
	w = new_volume(f, "z", 1000, &a);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_snapshot_insert(f->cat, a, "zs", "manual", true,
						 NOW - 100, &ws, &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	assert_int_equal(catalog_volume_mark(f->cat, w, NOW - 50, &f->err), 0);
	o.min_age = 3600;
	plan_volume(f, w, &o, &st, &p);
	assert_int_equal(p.count, 0);
	assert_int_equal(p.waiting, 2);
	plan_done(&st, &p);
}

static void test_marks_and_pins_follow_their_rules(void **state)
{
	struct fixture *f = *state;
	struct catalog_operation op = { .kind = CATALOG_OP_SNAP, .started_at = 10 };
	struct catalog_snapshot snap;
	struct catalog_volume vol;
	struct catalog *other = NULL;
	int64_t v, a, s1;
	int rc;

	v = new_volume(f, "m", 1000, &a);
	row_snap(f, v, a, "s1", "m.1", 2000, &s1);
	assert_int_equal(catalog_snapshot_mark(f->cat, v, "nope", 3000, &f->err),
			 -ENOENT);
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, v, "nope", true,
						     &f->err), -ENOENT);
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, v, "s1", true,
						     &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, v, "s1", 3000, &f->err),
			 -EPERM);
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, v, "s1", false,
						     &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, v, "s1", 3000, &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, v, "s1", 4000, &f->err), 0);
	assert_int_equal(catalog_snapshot_get(f->cat, s1, &snap, &f->err), 0);
	assert_int_equal(snap.marked_at, 3000);
	assert_false(snap.pinned);

	/* a snap under way: the pin could land after gc checked the volume */
	op.volume_id = v;
	op.image_id = a;
	snprintf(op.target_snapshot, sizeof(op.target_snapshot), "s2");
	snprintf(op.origin, sizeof(op.origin), "manual");
	assert_int_equal(catalog_op_begin(f->cat, &op, &f->err), 0);
	rc = catalog_snapshot_set_pinned(f->cat, v, "s1", true, &f->err);
	assert_true(rc == -EBUSY || rc == -EAGAIN);
	assert_int_equal(catalog_open(&other, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_snapshot_set_pinned(other, v, "s1", true,
						     &f->err), -EBUSY);
	assert_int_equal(catalog_snapshot_get(f->cat, s1, &snap, &f->err), 0);
	assert_false(snap.pinned);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_op_finish(f->cat, &op, CATALOG_OP_DONE, NULL, 20,
					   &f->err), 0);
	assert_int_equal(catalog_snapshot_set_pinned(other, v, "s1", true,
						     &f->err), 0);
	catalog_close(other);
	assert_int_equal(catalog_snapshot_get(f->cat, s1, &snap, &f->err), 0);
	assert_true(snap.pinned);

	assert_int_equal(catalog_volume_mark(f->cat, v, 5000, &f->err), 0);
	assert_int_equal(catalog_volume_mark(f->cat, v, 6000, &f->err), 0);
	assert_int_equal(catalog_volume_get(f->cat, v, &vol, &f->err), 0);
	assert_int_equal(vol.marked_at, 5000);
}

static struct catalog_gc_step step_copy(const struct catalog_gc_plan *p, long k)
{
	assert_true(k >= 0);
	return p->steps[k];
}

/*
 * A -s1-> B, B flattened, s1 marked: gc trashes A, removes s1, purges A.
 * Each step is journalled only while a fresh plan still holds it.
 */
static void test_gc_steps_are_journalled_only_while_still_planned(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_options o = { NOW, 0, 0 };
	struct catalog_operation trash, remove, purge, snap = { .kind = CATALOG_OP_SNAP };
	struct catalog_operation *ops = NULL;
	struct catalog_gc_step t, r, u;
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	struct catalog_snapshot s;
	struct catalog_image img;
	struct catalog *other = NULL;
	int64_t v, a, b, s1;
	size_t n = 0;
	int rc;

	v = new_volume(f, "g", 1000, &a);
	b = row_snap(f, v, a, "s1", "g.1", 2000, &s1);
	assert_int_equal(catalog_image_set_flattened(f->cat, b, 3000, &f->err), 0);
	assert_int_equal(catalog_snapshot_mark(f->cat, v, "s1", 3000, &f->err), 0);
	plan_volume(f, v, &o, &st, &p);
	assert_int_equal(p.count, 3);
	t = step_copy(&p, step_of(&p, CATALOG_GC_TRASH, a, 0));
	r = step_copy(&p, step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, a, s1));
	u = step_copy(&p, step_of(&p, CATALOG_GC_PURGE, a, 0));
	plan_done(&st, &p);

	/* pinned since the plan: every step of it is stale */
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, v, "s1", true,
						     &f->err), 0);
	assert_int_equal(catalog_gc_step_begin(f->cat, &t, &o, &trash, &f->err),
			 -ESTALE);
	assert_int_equal(catalog_gc_step_begin(f->cat, &r, &o, &remove, &f->err),
			 -ESTALE);
	assert_int_equal(catalog_op_list_running(f->cat, &ops, &n, &f->err), 0);
	assert_int_equal(n, 0);
	free(ops);
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, v, "s1", false,
						     &f->err), 0);

	/* gc steps run side by side; they keep snap and pin off the volume */
	assert_int_equal(catalog_gc_step_begin(f->cat, &t, &o, &trash, &f->err), 0);
	assert_int_equal(trash.kind, CATALOG_OP_GC_TRASH);
	assert_int_equal(catalog_gc_step_begin(f->cat, &r, &o, &remove, &f->err),
			 0);
	assert_int_equal(remove.kind, CATALOG_OP_GC_SNAPSHOT);
	snap.volume_id = v;
	snap.image_id = b;
	snap.started_at = NOW;
	snprintf(snap.target_snapshot, sizeof(snap.target_snapshot), "s2");
	snprintf(snap.origin, sizeof(snap.origin), "manual");
	rc = catalog_op_begin(f->cat, &snap, &f->err);
	assert_true(rc == -EBUSY || rc == -EAGAIN);
	assert_int_equal(catalog_open(&other, f->path, CATALOG_OPEN_EXISTING,
				      &f->err), 0);
	assert_int_equal(catalog_op_begin(other, &snap, &f->err), -EBUSY);
	assert_int_equal(catalog_snapshot_set_pinned(other, v, "s1", true,
						     &f->err), -EBUSY);

	assert_int_equal(catalog_gc_image_identify(f->cat, a, "10ab2c",
						   &f->err), 0);
	assert_int_equal(catalog_gc_step_finish(f->cat, &trash, NOW, &f->err), 0);
	assert_int_equal(catalog_gc_step_finish(f->cat, &remove, NOW, &f->err), 0);
	assert_int_equal(catalog_image_get(f->cat, a, &img, &f->err), 0);
	assert_int_equal(img.removed_at, NOW);
	assert_int_equal(img.trash_until, NOW);
	assert_string_equal(img.rbd_id, "10ab2c");
	assert_int_equal(img.purged_at, 0);
	assert_int_equal(catalog_snapshot_get(f->cat, s1, &s, &f->err), 0);
	assert_int_equal(s.removed_at, NOW);
	assert_int_equal(catalog_op_list_volume(f->cat, v, &ops, &n, &f->err), 0);
	assert_int_equal(n, 2);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(ops[k].state, CATALOG_OP_DONE);
		assert_string_equal(ops[k].reason,
				    catalog_gc_reason_text(k == 0 ? r.reason
								  : t.reason));
		assert_string_equal(ops[k].origin, "");
	}
	free(ops);

	/* done steps leave the plan; doing one again is stale */
	plan_volume(f, v, &o, &st, &p);
	assert_int_equal(p.count, 1);
	assert_int_equal(step_of(&p, CATALOG_GC_PURGE, a, 0), 0);
	plan_done(&st, &p);
	assert_int_equal(catalog_gc_step_begin(f->cat, &t, &o, &trash, &f->err),
			 -ESTALE);
	assert_int_equal(catalog_gc_step_begin(f->cat, &u, &o, &purge, &f->err), 0);
	assert_int_equal(catalog_gc_step_finish(f->cat, &purge, NOW, &f->err), 0);
	assert_int_equal(catalog_image_get(f->cat, a, &img, &f->err), 0);
	assert_int_equal(img.purged_at, NOW);
	plan_volume(f, v, &o, &st, &p);
	assert_int_equal(p.count, 0);
	plan_done(&st, &p);

	/* with no gc step running, the volume is free again */
	assert_int_equal(catalog_op_begin(other, &snap, &f->err), 0);
	catalog_close(other);
}

/* The rows of one volume of `all`, as catalog_gc_state_load of that
 * volume reads them; free with catalog_gc_state_free. */
static void state_of_volume(const struct catalog_gc_state *all, int64_t volume,
			    struct catalog_gc_state *out)
{
	memset(out, 0, sizeof(*out));
	out->volumes = xcalloc(all->volume_count, sizeof(*out->volumes));
	out->images = xcalloc(all->image_count, sizeof(*out->images));
	out->snapshots = xcalloc(all->snapshot_count, sizeof(*out->snapshots));
	for (size_t i = 0; i < all->volume_count; i++)
		if (all->volumes[i].id == volume)
			out->volumes[out->volume_count++] = all->volumes[i];
	for (size_t i = 0; i < all->image_count; i++)
		if (all->images[i].volume_id == volume)
			out->images[out->image_count++] = all->images[i];
	for (size_t s = 0; s < all->snapshot_count; s++)
		for (size_t i = 0; i < out->image_count; i++)
			if (all->snapshots[s].image_id == out->images[i].id)
				out->snapshots[out->snapshot_count++] =
					all->snapshots[s];
}

/*
 * policy run --gc plans only its own volumes, one at a time, and carries
 * the plans out as one: appended, they hold what a plan of all holds for
 * those volumes, each step waiting for the same steps as there, and
 * nothing of the volumes left out.
 */
static void test_plans_of_volumes_appended_wait_as_a_plan_of_all(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_options o = { NOW, 0, DAY };
	struct catalog_gc_state all, st;
	struct catalog_gc_plan whole, p, joined = {0};
	int64_t v[3], root[3], clone, s1[3];
	const char *names[3] = { "p", "q", "r" };
	char clone_name[8];

	for (int k = 0; k < 3; k++) {
		v[k] = new_volume(f, names[k], 1000, &root[k]);
		snprintf(clone_name, sizeof(clone_name), "%s.1", names[k]);
		clone = row_snap(f, v[k], root[k], "s1", clone_name, 2000, &s1[k]);
		assert_int_equal(catalog_image_set_flattened(f->cat, clone, 3000,
							     &f->err), 0);
		assert_int_equal(catalog_snapshot_mark(f->cat, v[k], "s1", 3000,
						       &f->err), 0);
	}
	/* the first run trashes every root; the second, a day on, removes
	 * each s1 and then purges its image */
	assert_int_equal(catalog_gc_state_load(f->cat, 0, &all, &f->err), 0);
	assert_int_equal(catalog_gc_plan(&all, &o, &whole, &f->err), 0);
	assert_int_equal(whole.count, 3);
	apply_all(&all, &whole, &o);
	catalog_gc_plan_free(&whole);
	o.now = NOW + DAY;
	assert_int_equal(catalog_gc_plan(&all, &o, &whole, &f->err), 0);
	assert_int_equal(whole.count, 6);

	for (int k = 0; k < 2; k++) {
		state_of_volume(&all, v[k], &st);
		assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), 0);
		assert_int_equal(p.count, 2);
		assert_int_equal(catalog_gc_plan_append(&joined, &p, &f->err), 0);
		plan_done(&st, &p);
	}
	assert_int_equal(joined.count, 4);
	for (int k = 0; k < 2; k++) {
		long removal = step_of(&joined, CATALOG_GC_REMOVE_SNAPSHOT,
				       root[k], s1[k]);
		long purge = step_of(&joined, CATALOG_GC_PURGE, root[k], 0);
		long was = step_of(&whole, CATALOG_GC_PURGE, root[k], 0);

		assert_true(removal >= 0 && purge > removal);
		assert_int_equal(joined.steps[purge].dep_count, 1);
		assert_int_equal(joined.deps[joined.steps[purge].first_dep],
				 removal);
		assert_int_equal(whole.steps[was].dep_count, 1);
		assert_int_equal(joined.steps[purge].volume_id, v[k]);
	}
	assert_int_equal(step_of(&joined, CATALOG_GC_PURGE, root[2], 0), -1);
	verify_plan(&all, &o, &whole, VERIFY_STEPWISE, &f->rng);
	plan_done(&all, &whole);
	catalog_gc_plan_free(&joined);
}

/* Leaf first needs a clone's id above its parent image's; a flattened
 * clone reads nothing, so its id may be anything. */
static void test_a_state_out_of_order_is_refused(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_volume vol = { 1, 1, 0 };
	struct catalog_gc_image imgs[2] = {
		{ .id = 1, .volume_id = 1, .parent_snapshot_id = 1 },
		{ .id = 2, .volume_id = 1 },
	};
	struct catalog_gc_snapshot snap = { .id = 1, .image_id = 2 };
	struct catalog_gc_state st = { &vol, 1, imgs, 2, &snap, 1 };
	struct catalog_gc_options o = { NOW, 0, 0 };
	struct catalog_gc_plan p;

	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), -EINVAL);
	assert_int_equal(p.count, 0);
	imgs[0].flattened = true;
	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), 0);
	catalog_gc_plan_free(&p);
	imgs[0].id = 3;
	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.message, "sorted"));
}

/* ---- 10,000 random lineages ------------------------------------------- */

static void test_plans_of_random_lineages_are_safe_ordered_and_complete(void **state)
{
	static const struct {
		int64_t after, min_age, trash_delay;
	} finals[] = {
		{ 0, 0, 0 }, { 0, 3600, 0 }, { 0, 0, DAY }, { 0, 3600, DAY },
		/* every trash delay of the histories is over */
		{ 2 * DAY, 0, 0 },
	};
	struct sim *s = *state;
	struct catalog_gc_state st;

	for (int b = s->first; b < s->end; b += BATCH) {
		int to = b + BATCH < s->end ? b + BATCH : s->end;

		for (int vi = b; vi < to; vi++)
			simulate(s, vi);
		ok(&s->err, catalog_begin(s->cat, &s->err));
		for (int vi = b; vi < to; vi++)
			if (!s->vols[vi].live)
				write_volume(s, vi);
		ok(&s->err, catalog_commit(s->cat, &s->err));
	}
	write_flags(s);

	ok(&s->err, catalog_gc_state_load(s->cat, 0, &st, &s->err));
	compare_with_model(s, &st);
	s->rng = s->seed ^ 0x5eedf00dULL;
	for (size_t f = 0; f < sizeof(finals) / sizeof(finals[0]); f++) {
		struct catalog_gc_options o = {
			GEN_END + finals[f].after, finals[f].min_age,
			finals[f].trash_delay,
		};
		struct catalog_gc_plan p;

		ok(&s->err, catalog_gc_plan(&st, &o, &p, &s->err));
		verify_plan(&st, &o, &p, VERIFY_PART, &s->rng);
		require_same_plan_from_cursors(s->cat, &o, &p);
		for (int vi = s->first; vi < s->end && vi < LIVE; vi += 8)
			compare_one_volume(s, &s->vols[vi], &o, &p);
		catalog_gc_plan_free(&p);
	}
	catalog_gc_state_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_chain_read_through_is_kept_then_collected_leaf_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_pinned_snapshot_keeps_its_image_in_a_removed_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_younger_than_min_age_are_left_with_what_they_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks_and_pins_follow_their_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_steps_are_journalled_only_while_still_planned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plans_of_volumes_appended_wait_as_a_plan_of_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_state_out_of_order_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plans_of_random_lineages_are_safe_ordered_and_complete, setup_sim, teardown_sim),
	};
	return cmocka_run_group_tests_name("gc_plan", tests, NULL, NULL);
}
