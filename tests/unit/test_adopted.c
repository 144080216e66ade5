/*
 * Images rowcat did not create, in the catalog and the planners: adopted
 * volumes whose roots are clones of a foreign image (a Glance image no
 * volume owns, volume_id NULL) or of another volume's snapshot, with
 * snapshots of origin 'adopted'. The rows are written with plain SQL, as
 * migration 9's comment in schema.sql describes them; `rowcat adopt`
 * writes them so on the cluster's word.
 *
 * Hand-built layouts first (an OpenStack one, a hand-made chain across
 * volumes), then random ones, whose every gc plan is held to the
 * reference model of gc_plan_model.c and whose lineages to the catalog's
 * own depth query. GC_PROPERTY_SEED=N (as a failure prints it) replays one
 * random layout.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "gc_plan_model.h"
#include "gc_plan_sim.h"
#include "rowcat/catalog.h"
#include "rowcat/sys/journal.h"
#include "testdir.h"

#define T0 1767225600 /* 2026-01-01 */
#define HOUR 3600

struct fixture {
	struct testdir dir;
	char path[512];
	struct catalog *cat;
	sqlite3 *db;            /* the same file, for the rows adopt writes */
	struct rc_error err;
	uint64_t rng;
	int names;              /* snapshot and image names made so far */
};

static void fixture_open(struct fixture *f, const char *file)
{
	testdir_file(&f->dir, file, f->path, sizeof(f->path));
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_OPEN_CREATE,
				      &f->err), 0);
	assert_int_equal(sqlite3_open(f->path, &f->db), SQLITE_OK);
	sqlite3_busy_timeout(f->db, 10000);
}

static void fixture_close(struct fixture *f)
{
	catalog_close(f->cat);
	sqlite3_close(f->db);
	f->cat = NULL;
	f->db = NULL;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	testdir_make(&f->dir);
	fixture_open(f, "catalog.db");
	f->rng = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fixture_close(f);
	testdir_remove(&f->dir);
	free(f);
	return 0;
}

/* Runs one statement with integer (or, for 0, NULL: no parent, no
 * volume) parameters; returns the row id it inserted. */
static int64_t sql(struct fixture *f, const char *text, int n, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	if (sqlite3_prepare_v2(f->db, text, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", text, sqlite3_errmsg(f->db));
	va_start(ap, n);
	for (int k = 1; k <= n; k++) {
		int64_t v = va_arg(ap, int64_t);
		if (v)
			sqlite3_bind_int64(st, k, v);
		else
			sqlite3_bind_null(st, k);
	}
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("%s: %s", text, sqlite3_errmsg(f->db));
	sqlite3_finalize(st);
	return sqlite3_last_insert_rowid(f->db);
}

/* One integer a query answers (0 for NULL or no row). */
static int64_t sql_int(struct fixture *f, const char *text, int64_t param)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(f->db, text, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", text, sqlite3_errmsg(f->db));
	sqlite3_bind_int64(st, 1, param);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* An image rowcat found on the cluster: of volume (0: a foreign ancestor,
 * no volume's), cloned from parent_snapshot (0: a root). */
static int64_t adopted_image(struct fixture *f, int64_t volume,
			     const char *pool, const char *name,
			     int64_t parent_snapshot, int64_t created)
{
	char text[512];

	snprintf(text, sizeof(text), "INSERT INTO image (volume_id, pool, "
		 "namespace, name, parent_snapshot_id, created_at, adopted_at)"
		 " VALUES (?1, '%s', '', '%s', ?2, ?3, ?4)", pool, name);
	return sql(f, text, 4, volume, parent_snapshot, created,
		   (int64_t)T0 + 10 * DAY);
}

static int64_t adopted_snapshot(struct fixture *f, int64_t image,
				const char *name, int64_t created)
{
	char text[256];

	snprintf(text, sizeof(text), "INSERT INTO snapshot (image_id, name, "
		 "protected, origin, created_at) VALUES (?1, '%s', 1, "
		 "'adopted', ?2)", name);
	return sql(f, text, 2, image, created);
}

/* A volume adopted with its operating image pool/name, a clone of
 * parent_snapshot (0: a root); *image is that image. */
static int64_t adopted_volume(struct fixture *f, const char *volume,
			      const char *pool, const char *name,
			      int64_t parent_snapshot, int64_t created,
			      int64_t *image)
{
	char text[256];
	int64_t id;

	snprintf(text, sizeof(text), "INSERT INTO volume (name, size, "
		 "created_at) VALUES ('%s', 1073741824, ?1)", volume);
	id = sql(f, text, 1, created);
	*image = adopted_image(f, id, pool, name, parent_snapshot, created);
	sql(f, "UPDATE volume SET operating_image_id = ?2 WHERE id = ?1", 2,
	    id, *image);
	return id;
}

/* rowcat snap of volume at `when`: its operating image's snapshot, and the
 * clone that becomes the operating image; returns the clone. */
static int64_t row_snap(struct fixture *f, int64_t volume, const char *snap,
			const char *origin, int64_t when, int64_t *snap_id)
{
	struct catalog_volume vol;
	struct catalog_image op;
	struct rc_image_spec spec;
	int64_t image, id;

	assert_int_equal(catalog_volume_get(f->cat, volume, &vol, &f->err), 0);
	assert_int_equal(catalog_image_get(f->cat, vol.operating_image_id, &op,
					   &f->err), 0);
	spec = op.spec;
	snprintf(spec.name, sizeof(spec.name), "%.64s.rc%d", vol.name,
		 ++f->names);
	assert_int_equal(catalog_begin(f->cat, &f->err), 0);
	assert_int_equal(catalog_snapshot_insert(f->cat, op.id, snap, origin,
						 true, when, &id, &f->err), 0);
	assert_int_equal(catalog_clone_insert(f->cat, volume, &spec, id, when,
					      &image, &f->err), 0);
	assert_int_equal(catalog_volume_set_operating(f->cat, volume, image,
						      &f->err), 0);
	assert_int_equal(catalog_commit(f->cat, &f->err), 0);
	if (snap_id)
		*snap_id = id;
	return image;
}

static struct catalog_lineage *lineage_of(struct fixture *f, int64_t volume)
{
	struct catalog_lineage *lin = NULL;
	struct catalog_volume vol;

	assert_int_equal(catalog_volume_get(f->cat, volume, &vol, &f->err), 0);
	assert_int_equal(catalog_lineage_load(&lin, f->cat, &vol, &f->err), 0);
	return lin;
}

/* Whether the plan has any step on image (snapshot 0: any step on it or
 * its snapshots). */
static bool plan_touches(const struct catalog_gc_plan *p, int64_t image)
{
	for (size_t k = 0; k < p->count; k++)
		if (p->steps[k].image_id == image)
			return true;
	return false;
}

/* Carries a plan out on the catalog, as ops_gc_run records it: each step
 * journalled (and so planned again, for its volume alone, inside the
 * journalling transaction) and finished. */
static void carry_out(struct fixture *f, const struct catalog_gc_plan *p,
		      const struct catalog_gc_options *o)
{
	for (size_t k = 0; k < p->count; k++) {
		struct catalog_operation op;
		int rc = catalog_gc_step_begin(f->cat, &p->steps[k], o, &op,
					       &f->err);

		require(p->steps[k].volume_id, rc == 0, "step %zu (%s of image %"
			PRId64 ", snapshot %" PRId64 ") of a plan is refused "
			"by its volume's own plan: %s", k,
			action_name(p->steps[k].action), p->steps[k].image_id,
			p->steps[k].snapshot_id, f->err.message);
		assert_int_equal(catalog_gc_step_finish(f->cat, &op, o->now,
							&f->err), 0);
	}
}

/* Plans volume (0: every volume) at o, checked against the model. */
static void plan(struct fixture *f, int64_t volume,
		 const struct catalog_gc_options *o, struct catalog_gc_state *st,
		 struct catalog_gc_plan *p)
{
	assert_int_equal(catalog_gc_state_load(f->cat, volume, st, &f->err), 0);
	assert_int_equal(catalog_gc_plan(st, o, p, &f->err), 0);
	verify_plan(st, o, p, VERIFY_STEPWISE, &f->rng);
	if (volume == 0)
		require_same_plan_from_cursors(f->cat, o, p);
}

/* ---- the OpenStack layout --------------------------------------------- */

struct openstack {
	int64_t glance, glance_snap;    /* images/glance@snap, foreign */
	int64_t vol1, vol2, root1, root2;
	int64_t cinder_snap;            /* volumes/volume-1@cinder-s1 */
};

/* Glance's image with its protected snapshot, no volume's; two Cinder
 * volumes cloned from it, the first with a snapshot of its own. */
static void openstack(struct fixture *f, struct openstack *o)
{
	o->glance = adopted_image(f, 0, "images", "glance", 0, T0);
	o->glance_snap = adopted_snapshot(f, o->glance, "snap", T0 + 60);
	o->vol1 = adopted_volume(f, "volume-1", "volumes", "volume-1",
				 o->glance_snap, T0 + DAY, &o->root1);
	o->vol2 = adopted_volume(f, "volume-2", "volumes", "volume-2",
				 o->glance_snap, T0 + DAY, &o->root2);
	o->cinder_snap = adopted_snapshot(f, o->root1, "cinder-s1",
					  T0 + 2 * DAY);
}

static void test_an_adopted_clone_reads_through_its_foreign_parent(void **state)
{
	struct fixture *f = *state;
	struct catalog_lineage *lin;
	struct openstack os;
	int64_t clone, s1;
	int depth;

	openstack(f, &os);
	lin = lineage_of(f, os.vol1);
	assert_int_equal(lin->image_count, 2);
	assert_int_equal(lin->images[0].id, os.glance);
	assert_false(catalog_lineage_owns(lin, &lin->images[0]));
	assert_int_equal(lin->images[0].volume_id, 0);
	assert_int_equal(catalog_lineage_root(lin)->id, os.root1);
	assert_int_equal(lin->depths[0], 0);
	assert_int_equal(lin->depths[1], 1);
	/* the chain's snapshot, and the volume's own; not volume-2's image */
	assert_int_equal(lin->snapshot_count, 2);
	assert_false(catalog_lineage_owns_snapshot(lin, &lin->snapshots[0]));
	assert_true(catalog_lineage_owns_snapshot(lin, &lin->snapshots[1]));
	assert_string_equal(lin->snapshots[1].origin, "adopted");
	catalog_lineage_free(lin);

	/* a snapshot goes one level deeper, the whole chain counted */
	clone = row_snap(f, os.vol1, "s1", "manual", T0 + 11 * DAY, &s1);
	lin = lineage_of(f, os.vol1);
	assert_int_equal(lin->image_count, 3);
	assert_int_equal(lin->depths[2], 2);
	assert_int_equal(lin->images[2].id, clone);
	assert_int_equal(catalog_image_depth(f->cat, clone, &depth, &f->err), 0);
	assert_int_equal(depth, 2);
	catalog_lineage_free(lin);

	/* flattened, the root reads nothing: depths start again there */
	assert_int_equal(catalog_image_set_flattened(f->cat, os.root1,
						     T0 + 12 * DAY, &f->err), 0);
	lin = lineage_of(f, os.vol1);
	assert_int_equal(lin->image_count, 3); /* the parent stays, as history */
	assert_int_equal(lin->depths[1], 0);
	assert_int_equal(lin->depths[2], 1);
	catalog_lineage_free(lin);
}

static void test_a_foreign_snapshot_is_no_volumes_to_mark_pin_or_restore(void **state)
{
	struct fixture *f = *state;
	struct catalog_snapshot snap;
	struct openstack os;

	openstack(f, &os);
	assert_int_equal(catalog_snapshot_mark(f->cat, os.vol1, "snap", T0 + 20 * DAY,
					       &f->err), -ENOENT);
	assert_non_null(strstr(f->err.message, "images/glance@snap"));
	assert_non_null(strstr(f->err.message, "foreign"));
	assert_int_equal(catalog_snapshot_set_pinned(f->cat, os.vol1, "snap", true,
						     &f->err), -ENOENT);
	assert_int_equal(catalog_snapshot_find(f->cat, os.vol2, "snap", &snap,
					       &f->err), -ENOENT);
	assert_non_null(strstr(f->err.message, "foreign"));
	assert_int_equal(catalog_snapshot_find_any(f->cat, os.vol2, "snap", &snap,
						   &f->err), -ENOENT);
	assert_non_null(strstr(f->err.message, "foreign"));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM snapshot WHERE id = ?1"
				 " AND marked_at IS NULL AND pinned = 0",
				 os.glance_snap), 1);
	/* a name nothing has is said as before */
	assert_int_equal(catalog_snapshot_mark(f->cat, os.vol1, "nope", T0,
					       &f->err), -ENOENT);
	assert_string_equal(f->err.message,
			    "volume 'volume-1' has no snapshot 'nope'");
	/* the volume's own adopted snapshot is its own to mark */
	assert_int_equal(catalog_snapshot_mark(f->cat, os.vol1, "cinder-s1",
					       T0 + 20 * DAY, &f->err), 0);
}

/* Policy expiry weighs and marks only its own origin: an adopted snapshot
 * (as a manual or pre-restore one) is never its to mark. */
static void test_expiry_never_marks_an_adopted_snapshot(void **state)
{
	struct fixture *f = *state;
	struct openstack os;
	int64_t ids[2];
	size_t marked = 9;

	openstack(f, &os);
	ids[0] = os.cinder_snap;
	ids[1] = os.glance_snap;
	assert_int_equal(catalog_snapshots_expire(f->cat, os.vol1, "policy:daily",
						  ids, 2, T0 + 30 * DAY,
						  &marked, &f->err), 0);
	assert_int_equal(marked, 0);
	assert_int_equal(catalog_snapshots_expire(f->cat, os.vol1, "adopted",
						  ids + 1, 1, T0 + 30 * DAY,
						  &marked, &f->err), 0);
	assert_int_equal(marked, 0); /* not the volume's */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM snapshot WHERE"
				 " marked_at IS NOT NULL", 0), 0);
}

/* Cinder volumes come and go; the Glance image they were cloned from
 * stays, with its snapshot, when nothing reads it any more. An adopted
 * snapshot goes only once marked. */
static void test_gc_never_collects_a_foreign_ancestor(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_options o = { T0 + 30 * DAY, 0, 0 };
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	struct openstack os;

	openstack(f, &os);
	row_snap(f, os.vol2, "s1", "manual", T0 + 11 * DAY, NULL);

	plan(f, os.vol1, &o, &st, &p);
	assert_int_equal(p.count, 0); /* cinder-s1 is not marked */
	plan_done(&st, &p);
	assert_int_equal(catalog_snapshot_mark(f->cat, os.vol1, "cinder-s1",
					       T0 + 20 * DAY, &f->err), 0);
	plan(f, os.vol1, &o, &st, &p);
	assert_int_equal(p.count, 1);
	assert_int_equal(step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, os.root1,
				 os.cinder_snap), 0);
	carry_out(f, &p, &o);
	plan_done(&st, &p);

	/* both volumes removed: everything of theirs goes, Glance's stays */
	assert_int_equal(catalog_volume_mark(f->cat, os.vol1, T0 + 21 * DAY,
					     &f->err), 0);
	assert_int_equal(catalog_volume_mark(f->cat, os.vol2, T0 + 21 * DAY,
					     &f->err), 0);
	for (int round = 0; round < 4; round++) {
		plan(f, round % 2 ? os.vol2 : 0, &o, &st, &p);
		assert_false(plan_touches(&p, os.glance));
		carry_out(f, &p, &o);
		plan_done(&st, &p);
		plan(f, round % 2 ? os.vol1 : 0, &o, &st, &p);
		assert_false(plan_touches(&p, os.glance));
		carry_out(f, &p, &o);
		plan_done(&st, &p);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM image WHERE"
				 " volume_id IS NOT NULL AND purged_at IS NULL",
				 0), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM image WHERE id = ?1"
				 " AND removed_at IS NULL", os.glance), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM snapshot WHERE id = ?1"
				 " AND removed_at IS NULL", os.glance_snap), 1);
	/* nothing reads Glance's image now: still nothing to do */
	plan(f, 0, &o, &st, &p);
	assert_int_equal(p.count, 0);
	assert_int_equal(p.waiting, 0);
	plan_done(&st, &p);
}

/* ---- a hand-made chain across volumes --------------------------------- */

/*
 * adopt --pool of base -> base@s1 -> child: volume "base", and volume
 * "child" whose root is a clone of base's snapshot. base's snapshot is
 * needed while child reads it, whatever marks base; base's plan never
 * touches child's image.
 */
static void test_a_snapshot_another_volume_reads_stays_until_its_clone_goes(void **state)
{
	struct fixture *f = *state;
	struct catalog_gc_options o = { T0 + 30 * DAY, 0, 0 };
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	struct catalog_lineage *lin;
	int64_t base, base_root, s1, s2, child, child_root;
	bool loaded = false;

	base = adopted_volume(f, "base", "rbd", "base", 0, T0, &base_root);
	s1 = adopted_snapshot(f, base_root, "s1", T0 + HOUR);
	s2 = adopted_snapshot(f, base_root, "s2", T0 + 2 * HOUR);
	child = adopted_volume(f, "child", "rbd", "child", s1, T0 + DAY,
			       &child_root);

	/* child's lineage: base's image and s1, not s2; base's: not child */
	lin = lineage_of(f, child);
	assert_int_equal(lin->image_count, 2);
	assert_int_equal(lin->images[0].volume_id, base);
	assert_int_equal(lin->snapshot_count, 1);
	assert_int_equal(lin->snapshots[0].id, s1);
	assert_int_equal(lin->depths[1], 1);
	catalog_lineage_free(lin);
	lin = lineage_of(f, base);
	assert_int_equal(lin->image_count, 1);
	assert_int_equal(lin->snapshot_count, 2);
	catalog_lineage_free(lin);
	assert_int_equal(catalog_snapshot_mark(f->cat, child, "s1", T0, &f->err),
			 -ENOENT);
	assert_non_null(strstr(f->err.message, "base@s1"));

	/* base removed: only s2 may go; s1 and its image stay for child */
	assert_int_equal(catalog_volume_mark(f->cat, base, T0 + 20 * DAY,
					     &f->err), 0);
	plan(f, base, &o, &st, &p);
	for (size_t i = 0; i < st.image_count; i++)
		loaded = loaded || st.images[i].id == child_root;
	assert_true(loaded); /* what decides base's rows */
	assert_int_equal(p.count, 1);
	assert_int_equal(step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, base_root, s2), 0);
	assert_false(plan_touches(&p, child_root));
	carry_out(f, &p, &o);
	plan_done(&st, &p);
	plan(f, 0, &o, &st, &p);
	assert_int_equal(p.count, 0);
	plan_done(&st, &p);

	/* child removed too: base's plan still never acts on child's image;
	 * child's plan collects it, and then base's the rest */
	assert_int_equal(catalog_volume_mark(f->cat, child, T0 + 21 * DAY,
					     &f->err), 0);
	plan(f, base, &o, &st, &p);
	assert_int_equal(p.count, 0);
	plan_done(&st, &p);
	plan(f, child, &o, &st, &p);
	assert_int_equal(p.count, 2); /* trash, purge */
	assert_false(plan_touches(&p, base_root));
	carry_out(f, &p, &o);
	plan_done(&st, &p);
	plan(f, base, &o, &st, &p);
	assert_int_equal(p.count, 3); /* s1, trash, purge */
	assert_true(step_of(&p, CATALOG_GC_REMOVE_SNAPSHOT, base_root, s1) >= 0);
	carry_out(f, &p, &o);
	plan_done(&st, &p);
}

/* ---- random adopted layouts -------------------------------------------- */

#define WORLDS 100
#define WORLD_OPS 40

/* Every image of the lineage is there with the depth the catalog's own
 * depth query gives it, every own row of the volume is there, and every
 * snapshot not its own is one the chain goes through. */
static void check_lineage(struct fixture *f, int64_t volume)
{
	struct catalog_lineage *lin = lineage_of(f, volume);
	size_t own_images = 0, own_snaps = 0;

	for (size_t i = 0; i < lin->image_count; i++) {
		const struct catalog_image *img = &lin->images[i];
		int depth;

		require(volume, i == 0 || img->id > lin->images[i - 1].id,
			"lineage images out of id order");
		assert_int_equal(catalog_image_depth(f->cat, img->id, &depth,
						     &f->err), 0);
		require(volume, depth == lin->depths[i], "image %" PRId64
			" is at depth %d in the lineage, %d by the catalog",
			img->id, lin->depths[i], depth);
		require(volume, !img->parent_snapshot_id ||
			catalog_lineage_snapshot(lin, img->parent_snapshot_id),
			"image %" PRId64 "'s parent snapshot is not in its "
			"lineage", img->id);
		own_images += catalog_lineage_owns(lin, img);
	}
	for (size_t s = 0; s < lin->snapshot_count; s++) {
		const struct catalog_snapshot *snap = &lin->snapshots[s];
		bool read = false;

		if (catalog_lineage_owns_snapshot(lin, snap)) {
			own_snaps++;
			continue;
		}
		for (size_t i = 0; i < lin->image_count; i++)
			read = read || lin->images[i].parent_snapshot_id == snap->id;
		require(volume, read, "snapshot %" PRId64 ", not the volume's, "
			"is in its lineage but no image of it is cloned from "
			"it", snap->id);
	}
	require(volume, (int64_t)own_images == sql_int(f, "SELECT count(*) FROM"
		" image WHERE volume_id = ?1", volume),
		"the lineage holds %zu of the volume's images", own_images);
	require(volume, (int64_t)own_snaps == sql_int(f, "SELECT count(*) FROM"
		" snapshot s JOIN image i ON i.id = s.image_id WHERE"
		" i.volume_id = ?1", volume),
		"the lineage holds %zu of the volume's snapshots", own_snaps);
	catalog_lineage_free(lin);
}

/* A random live snapshot: of a volume's own image (volume > 0), of a
 * foreign one (volume 0), of any (volume -1), of any volume's (volume -2);
 * 0 when there is none. */
static int64_t pick_snapshot(struct fixture *f, int64_t volume)
{
	const char *where = volume > 0 ? "i.volume_id = ?1"
			  : volume == 0 ? "i.volume_id IS NULL AND ?1 = 0"
			  : volume == -1 ? "?1 = -1"
					 : "i.volume_id IS NOT NULL AND ?1 = -2";
	char text[512];
	int64_t n;

	snprintf(text, sizeof(text), "SELECT count(*) FROM snapshot s JOIN image"
		 " i ON i.id = s.image_id WHERE %s AND s.removed_at IS NULL AND"
		 " i.removed_at IS NULL", where);
	n = sql_int(f, text, volume);
	if (n == 0)
		return 0;
	snprintf(text, sizeof(text), "SELECT s.id FROM snapshot s JOIN image i"
		 " ON i.id = s.image_id WHERE %s AND s.removed_at IS NULL AND"
		 " i.removed_at IS NULL ORDER BY s.id LIMIT 1 OFFSET %" PRId64,
		 where, rnd(&f->rng, n));
	return sql_int(f, text, volume);
}

static void snapshot_name(struct fixture *f, int64_t id, char *out, size_t len)
{
	struct catalog_snapshot snap;

	assert_int_equal(catalog_snapshot_get(f->cat, id, &snap, &f->err), 0);
	snprintf(out, len, "%s", snap.name);
}

/* One random operation on a random volume of n, at time t. */
static void world_op(struct fixture *f, const int64_t *vols, size_t n,
		     int64_t t)
{
	int64_t v = vols[rnd(&f->rng, (int64_t)n)], s;
	struct catalog_volume vol;
	char name[RC_NAME_MAX];
	int kind = (int)rnd(&f->rng, 10);

	assert_int_equal(catalog_volume_get(f->cat, v, &vol, &f->err), 0);
	if (vol.marked_at)
		kind = 9; /* a removed volume is only collected */
	snprintf(name, sizeof(name), "s%d", ++f->names);
	switch (kind) {
	case 0: case 1: case 2:
		row_snap(f, v, name, rnd(&f->rng, 2) ? "manual" : "policy:p",
			 t, NULL);
		break;
	case 3: /* restore: a safety snapshot, then a clone of s */
		s = pick_snapshot(f, v);
		if (!s)
			break;
		row_snap(f, v, name, "pre-restore", t, NULL);
		snprintf(name, sizeof(name), "r%d", ++f->names);
		{
			struct catalog_snapshot snap;
			struct catalog_image from;
			struct rc_image_spec spec;
			int64_t image;

			assert_int_equal(catalog_snapshot_get(f->cat, s, &snap,
							      &f->err), 0);
			assert_int_equal(catalog_image_get(f->cat, snap.image_id,
							   &from, &f->err), 0);
			spec = from.spec;
			snprintf(spec.name, sizeof(spec.name), "%.64s.%.64s", vol.name,
				 name);
			assert_int_equal(catalog_begin(f->cat, &f->err), 0);
			assert_int_equal(catalog_clone_insert(f->cat, v, &spec, s,
							      t, &image, &f->err), 0);
			assert_int_equal(catalog_volume_set_operating(f->cat, v,
							image, &f->err), 0);
			assert_int_equal(catalog_commit(f->cat, &f->err), 0);
		}
		break;
	case 4:
		assert_int_equal(catalog_image_set_flattened(f->cat,
				vol.operating_image_id, t, &f->err), 0);
		break;
	case 5: case 6: /* rm VOL@SNAP, or a pin */
		s = pick_snapshot(f, v);
		if (!s)
			break;
		snapshot_name(f, s, name, sizeof(name));
		if (kind == 6 && rnd(&f->rng, 3) == 0)
			assert_int_equal(catalog_snapshot_set_pinned(f->cat, v,
						name, true, &f->err), 0);
		else if (catalog_snapshot_mark(f->cat, v, name, t, &f->err) < 0)
			assert_int_equal(f->err.code, -EPERM); /* pinned */
		break;
	case 7: /* naming a snapshot the volume reads through is refused */
		s = pick_snapshot(f, -1);
		if (!s || sql_int(f, "SELECT i.volume_id FROM snapshot s JOIN"
				  " image i ON i.id = s.image_id WHERE s.id = ?1",
				  s) == v)
			break;
		snapshot_name(f, s, name, sizeof(name));
		if (catalog_snapshot_mark(f->cat, v, name, t, &f->err) == 0)
			fail_msg("volume %" PRId64 " marked snapshot %" PRId64
				 ", not its own", v, s);
		break;
	case 8:
		if (rnd(&f->rng, 4) == 0)
			assert_int_equal(catalog_volume_mark(f->cat, v, t, &f->err),
					 0);
		break;
	default:
		break;
	}
	check_lineage(f, v);
}

/* A gc round at t, of one volume or of all, checked and carried out. */
static void world_gc(struct fixture *f, const int64_t *vols, size_t n,
		     int64_t t)
{
	struct catalog_gc_options o = { t, rnd(&f->rng, 2) * HOUR,
					rnd(&f->rng, 2) * DAY };
	int64_t v = rnd(&f->rng, 3) ? vols[rnd(&f->rng, (int64_t)n)] : 0;
	struct catalog_gc_state st;
	struct catalog_gc_plan p;

	assert_int_equal(catalog_gc_state_load(f->cat, v, &st, &f->err), 0);
	assert_int_equal(catalog_gc_plan(&st, &o, &p, &f->err), 0);
	verify_plan(&st, &o, &p, VERIFY_PART, &f->rng);
	carry_out(f, &p, &o);
	plan_done(&st, &p);
}

/* Each volume's own plan holds only steps a plan of every volume holds:
 * what it does not load can only keep more. */
static void compare_plans(struct fixture *f, const int64_t *vols, size_t n,
			  const struct catalog_gc_options *o)
{
	struct catalog_gc_state all, st;
	struct catalog_gc_plan whole, p;

	assert_int_equal(catalog_gc_state_load(f->cat, 0, &all, &f->err), 0);
	assert_int_equal(catalog_gc_plan(&all, o, &whole, &f->err), 0);
	verify_plan(&all, o, &whole, VERIFY_PART, &f->rng);
	require_same_plan_from_cursors(f->cat, o, &whole);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(catalog_gc_state_load(f->cat, vols[k], &st,
						       &f->err), 0);
		assert_int_equal(catalog_gc_plan(&st, o, &p, &f->err), 0);
		verify_plan(&st, o, &p, VERIFY_PART, &f->rng);
		for (size_t i = 0; i < p.count; i++)
			require(vols[k], step_of(&whole, p.steps[i].action,
				p.steps[i].image_id, p.steps[i].snapshot_id) >= 0,
				"volume %" PRId64 "'s own plan %ss image %" PRId64
				" (snapshot %" PRId64 "); a plan of all does not",
				vols[k], action_name(p.steps[i].action),
				p.steps[i].image_id, p.steps[i].snapshot_id);
		plan_done(&st, &p);
	}
	plan_done(&all, &whole);
}

static void world(struct fixture *f, uint64_t seed)
{
	int64_t vols[8], image, t = T0;
	size_t n = 0;
	char name[32];
	int foreign = 1 + (int)rnd(&f->rng, 2);

	prop_seed = seed;
	for (int g = 0; g < foreign; g++) {
		snprintf(name, sizeof(name), "glance%d", g);
		image = adopted_image(f, 0, "images", name, 0, t);
		for (int k = 0; k <= rnd(&f->rng, 2); k++) {
			snprintf(name, sizeof(name), "g%ds%d", g, k);
			adopted_snapshot(f, image, name, t);
		}
	}
	for (int op = 0; op < WORLD_OPS; op++) {
		int64_t parent;

		t += HOUR + rnd(&f->rng, 2 * DAY);
		if (n == 0 || (n < 8 && rnd(&f->rng, 5) == 0)) {
			/* adopt: a root, or a clone of a foreign image's or
			 * of another volume's snapshot, with snapshots */
			switch (rnd(&f->rng, 4)) {
			case 0:
				parent = 0;
				break;
			case 1:
				parent = pick_snapshot(f, 0);
				break;
			default:
				parent = pick_snapshot(f, -2);
				break;
			}
			snprintf(name, sizeof(name), "vol%zu", n);
			vols[n] = adopted_volume(f, name, "volumes", name, parent,
						 t, &image);
			for (int k = 0; k < rnd(&f->rng, 3); k++) {
				snprintf(name, sizeof(name), "a%d", ++f->names);
				adopted_snapshot(f, image, name, t);
			}
			check_lineage(f, vols[n++]);
		} else if (rnd(&f->rng, 4) == 0) {
			world_gc(f, vols, n, t);
		} else {
			world_op(f, vols, n, t);
		}
	}
	for (int r = 0; r < 3; r++) {
		struct catalog_gc_options o = { t + r * 2 * DAY, r ? 0 : HOUR,
						r == 1 ? DAY : 0 };
		compare_plans(f, vols, n, &o);
		world_gc(f, vols, n, t + r * 2 * DAY);
	}
	/* never a step on what is no volume's; an adopted snapshot only
	 * once it or its volume was marked */
	require(0, sql_int(f, "SELECT count(*) FROM image WHERE volume_id IS NULL"
		" AND (removed_at IS NOT NULL OR rbd_id IS NOT NULL)", 0) == 0,
		"gc acted on a foreign image");
	require(0, sql_int(f, "SELECT count(*) FROM snapshot s JOIN image i ON"
		" i.id = s.image_id WHERE i.volume_id IS NULL AND"
		" s.removed_at IS NOT NULL", 0) == 0,
		"gc removed a foreign snapshot");
	require(0, sql_int(f, "SELECT count(*) FROM snapshot s JOIN image i ON"
		" i.id = s.image_id JOIN volume v ON v.id = i.volume_id WHERE"
		" s.origin = 'adopted' AND s.removed_at IS NOT NULL AND"
		" s.marked_at IS NULL AND v.marked_at IS NULL", 0) == 0,
		"gc removed an adopted snapshot nobody marked");
}

static void test_random_adopted_layouts_plan_safely(void **state)
{
	struct fixture *f = *state;
	const char *env = getenv("GC_PROPERTY_SEED");
	uint64_t first = env ? strtoull(env, NULL, 10) : 1;
	uint64_t end = env ? first + 1 : first + WORLDS;
	char file[32];

	prop_running = true;
	for (uint64_t seed = first; seed < end; seed++) {
		fixture_close(f);
		snprintf(file, sizeof(file), "w%" PRIu64 ".db", seed);
		fixture_open(f, file);
		f->rng = seed * 0x9e3779b97f4a7c15ULL;
		f->names = 0;
		world(f, seed);
	}
	prop_running = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_an_adopted_clone_reads_through_its_foreign_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_foreign_snapshot_is_no_volumes_to_mark_pin_or_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_never_marks_an_adopted_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_never_collects_a_foreign_ancestor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_snapshot_another_volume_reads_stays_until_its_clone_goes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_adopted_layouts_plan_safely, setup, teardown),
	};
	return cmocka_run_group_tests_name("adopted", tests, NULL, NULL);
}
