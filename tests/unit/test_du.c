/*
 * du: what gc would free of a volume (ops_du_frees), from hand-built gc
 * states and the bytes du would have measured, without a cluster.
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

#include "rowcat/ops.h"

#define NOW 1000000
#define OLD (NOW - 86400)
#define MIB (1024 * 1024ULL)
#define VOL 1
#define OTHER 2

/* A gc state and the du report of volume VOL, built side by side. */
struct world {
	struct catalog_gc_volume volumes[4];
	struct catalog_gc_image images[16];
	struct catalog_gc_snapshot snapshots[16];
	struct catalog_gc_state state;
	struct ops_du_image du_images[16];
	struct ops_du_snapshot du_snapshots[16][4];
	struct ops_du_report report;
	struct catalog_gc_options opts;
	struct rc_error err;
};

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->state.volumes = w->volumes;
	w->state.images = w->images;
	w->state.snapshots = w->snapshots;
	w->report.images = w->du_images;
	w->report.volume.id = VOL;
	w->opts = (struct catalog_gc_options){ .now = NOW, .min_age = 3600,
					       .trash_delay = 0 };
	return w;
}

static void add_volume(struct world *w, int64_t id, int64_t operating)
{
	w->volumes[w->state.volume_count++] =
		(struct catalog_gc_volume){ id, operating, 0 };
	if (id == VOL)
		w->report.volume.operating_image_id = operating;
}

/* An image of volume, cloned from parent_snapshot (0: a root), holding
 * head bytes of its own; du measured it unless in_trash. */
static void add_image(struct world *w, int64_t id, int64_t volume,
		      int64_t parent_snapshot, uint64_t head, bool in_trash)
{
	struct ops_du_image *img;

	w->images[w->state.image_count++] = (struct catalog_gc_image){
		.id = id, .volume_id = volume,
		.parent_snapshot_id = parent_snapshot, .created_at = OLD,
		.trashed = in_trash, .trash_until = in_trash ? OLD : 0,
	};
	if (volume != VOL)
		return;
	img = &w->du_images[w->report.image_count];
	img->snapshots = w->du_snapshots[w->report.image_count++];
	img->image.id = id;
	img->image.volume_id = volume;
	img->owner = OPS_DU_OWN;
	img->operating = id == w->report.volume.operating_image_id;
	img->state = in_trash ? OPS_DU_IN_TRASH : OPS_DU_MEASURED;
	img->head_used = head;
	img->used = in_trash ? 0 : head;
}

static struct ops_du_image *du_image(struct world *w, int64_t id)
{
	for (size_t i = 0; i < w->report.image_count; i++)
		if (w->du_images[i].image.id == id)
			return &w->du_images[i];
	return NULL;
}

/* A snapshot of image holding bytes of its own; marked by rowcat rm. */
static void add_snapshot(struct world *w, int64_t id, int64_t image,
			 uint64_t bytes, bool marked)
{
	struct ops_du_image *img = du_image(w, image);
	struct ops_du_snapshot *snap;

	w->snapshots[w->state.snapshot_count++] = (struct catalog_gc_snapshot){
		.id = id, .image_id = image, .created_at = OLD,
		.marked_at = marked ? OLD : 0,
	};
	if (!img)
		return;
	snap = &img->snapshots[img->snapshot_count++];
	snap->snapshot_id = id;
	snap->state = img->state == OPS_DU_IN_TRASH ? OPS_DU_IN_TRASH
						    : OPS_DU_MEASURED;
	snap->used = snap->state == OPS_DU_MEASURED ? bytes : 0;
	img->used += snap->used;
}

static struct ops_du_snapshot *du_snapshot(struct world *w, int64_t image,
					   int64_t id)
{
	struct ops_du_image *img = du_image(w, image);

	for (size_t s = 0; img && s < img->snapshot_count; s++)
		if (img->snapshots[s].snapshot_id == id)
			return &img->snapshots[s];
	return NULL;
}

static void frees(struct world *w)
{
	assert_int_equal(ops_du_frees(&w->report, &w->state, &w->opts, &w->err), 0);
}

/* root(1)@s10 -> 2 (operating): s10 marked, but 2 reads through it. */
static void test_a_marked_snapshot_read_through_goes_only_after_a_flatten(void **unused)
{
	struct world *w = world_new();

	(void)unused;
	add_volume(w, VOL, 2);
	add_image(w, 1, VOL, 0, 1 * MIB, false);
	add_snapshot(w, 10, 1, 8 * MIB, true);
	add_image(w, 2, VOL, 10, 4 * MIB, false);
	frees(w);
	assert_int_equal(w->report.gc_now.bytes, 0);
	assert_int_equal(w->report.gc_now.images, 0);
	assert_true(w->report.can_flatten);
	/* the root goes with its snapshot: 1 MiB head + 8 MiB snapshot */
	assert_int_equal(w->report.after_flatten.bytes, 9 * MIB);
	assert_int_equal(w->report.after_flatten.images, 1);
	assert_int_equal(w->report.after_flatten.snapshots, 0);
	assert_int_equal(du_image(w, 1)->gc, OPS_DU_GC_AFTER_FLATTEN);
	assert_int_equal(du_snapshot(w, 1, 10)->gc, OPS_DU_GC_AFTER_FLATTEN);
	assert_int_equal(du_image(w, 2)->gc, OPS_DU_GC_KEEPS);
	free(w);
}

/* root(1) has s10 (its clone 2 operates) and s11, marked, with no clone:
 * s11 goes now from an image that stays. */
static void test_a_snapshot_removed_from_an_image_that_stays_frees_its_own_bytes(void **unused)
{
	struct world *w = world_new();

	(void)unused;
	add_volume(w, VOL, 2);
	add_image(w, 1, VOL, 0, 0, false);
	add_snapshot(w, 10, 1, 8 * MIB, false);
	add_snapshot(w, 11, 1, 3 * MIB, true);
	add_image(w, 2, VOL, 10, 4 * MIB, false);
	frees(w);
	assert_int_equal(w->report.gc_now.bytes, 3 * MIB);
	assert_int_equal(w->report.gc_now.snapshots, 1);
	assert_int_equal(w->report.gc_now.images, 0);
	assert_int_equal(du_snapshot(w, 1, 11)->gc, OPS_DU_GC_NOW);
	assert_int_equal(du_snapshot(w, 1, 10)->gc, OPS_DU_GC_KEEPS);
	assert_int_equal(du_image(w, 1)->gc, OPS_DU_GC_KEEPS);
	/* s10 is not marked: a flatten lets nothing more go */
	assert_int_equal(w->report.after_flatten.bytes, 0);
	assert_int_equal(w->report.after_flatten.images, 0);
	free(w);
}

/* A branch a restore left: 1@s10 -> 2@s20 (marked) -> 3, and 1@s10 -> 4
 * operating. 3 and 2 go now, with s20; 1 stays for 4. */
static void test_an_abandoned_branch_is_counted_once_image_by_image(void **unused)
{
	struct world *w = world_new();

	(void)unused;
	add_volume(w, VOL, 4);
	add_image(w, 1, VOL, 0, 0, false);
	add_snapshot(w, 10, 1, 2 * MIB, false);
	add_image(w, 2, VOL, 10, 5 * MIB, false);
	add_snapshot(w, 20, 2, 7 * MIB, true);
	add_image(w, 3, VOL, 20, 11 * MIB, false);
	add_image(w, 4, VOL, 10, 13 * MIB, false);
	frees(w);
	assert_int_equal(w->report.gc_now.bytes, (5 + 7 + 11) * MIB);
	assert_int_equal(w->report.gc_now.images, 2);
	assert_int_equal(w->report.gc_now.snapshots, 0);
	assert_int_equal(w->report.gc_now.unmeasured, 0);
	assert_int_equal(du_image(w, 3)->gc, OPS_DU_GC_NOW);
	assert_int_equal(du_snapshot(w, 2, 20)->gc, OPS_DU_GC_NOW);
	assert_int_equal(du_image(w, 4)->gc, OPS_DU_GC_KEEPS);
	free(w);
}

/* An image an earlier run moved to the trash, delay over: its purge and
 * its snapshot's removal are steps on bytes du did not measure. */
static void test_what_is_in_the_trash_already_is_counted_as_unmeasured(void **unused)
{
	struct world *w = world_new();

	(void)unused;
	add_volume(w, VOL, 2);
	add_image(w, 1, VOL, 0, 0, false);
	add_snapshot(w, 10, 1, 2 * MIB, false);
	add_image(w, 2, VOL, 10, 0, false);
	add_image(w, 3, VOL, 10, 0, true);
	add_snapshot(w, 30, 3, 0, true);
	frees(w);
	assert_int_equal(w->report.gc_now.bytes, 0);
	assert_int_equal(w->report.gc_now.images, 0);
	assert_int_equal(w->report.gc_now.unmeasured, 2);
	assert_int_equal(du_image(w, 3)->gc, OPS_DU_GC_NOW);
	free(w);
}

/* Another volume's garbage is that volume's to report. */
static void test_steps_on_another_volume_are_not_counted(void **unused)
{
	struct world *w = world_new();

	(void)unused;
	add_volume(w, VOL, 1);
	add_volume(w, OTHER, 3);
	add_image(w, 1, VOL, 0, 1 * MIB, false);
	add_image(w, 2, OTHER, 0, 0, false);
	add_snapshot(w, 20, 2, 0, true);
	add_image(w, 3, OTHER, 0, 0, false);
	frees(w);
	assert_int_equal(w->report.gc_now.bytes, 0);
	assert_int_equal(w->report.gc_now.images, 0);
	assert_int_equal(w->report.gc_now.unmeasured, 0);
	/* a root operating image reads through nothing */
	assert_false(w->report.can_flatten);
	free(w);
}

/* Younger than --min-age: gc waits, and du says it frees nothing yet. */
static void test_garbage_younger_than_min_age_is_not_counted(void **unused)
{
	struct world *w = world_new();

	(void)unused;
	add_volume(w, VOL, 2);
	add_image(w, 1, VOL, 0, 0, false);
	add_snapshot(w, 10, 1, 2 * MIB, false);
	add_snapshot(w, 11, 1, 3 * MIB, true);
	add_image(w, 2, VOL, 10, 0, false);
	w->snapshots[1].created_at = NOW - 60;
	frees(w);
	assert_int_equal(w->report.gc_now.bytes, 0);
	assert_int_equal(du_snapshot(w, 1, 11)->gc, OPS_DU_GC_KEEPS);
	w->opts.min_age = 0;
	frees(w);
	assert_int_equal(w->report.gc_now.bytes, 3 * MIB);
	free(w);
}

/* The plan of the flattened state is drawn on a copy: the caller's state
 * is the catalog's as it is. */
static void test_the_state_given_is_left_as_it_was(void **unused)
{
	struct world *w = world_new();

	(void)unused;
	add_volume(w, VOL, 2);
	add_image(w, 1, VOL, 0, 0, false);
	add_snapshot(w, 10, 1, 2 * MIB, true);
	add_image(w, 2, VOL, 10, 0, false);
	frees(w);
	assert_false(w->images[1].flattened);
	assert_int_equal(w->report.after_flatten.bytes, 2 * MIB);
	/* again, from the same state: the same answer, verdicts reset */
	frees(w);
	assert_int_equal(w->report.after_flatten.bytes, 2 * MIB);
	assert_int_equal(w->report.after_flatten.images, 1);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_marked_snapshot_read_through_goes_only_after_a_flatten),
		cmocka_unit_test(test_a_snapshot_removed_from_an_image_that_stays_frees_its_own_bytes),
		cmocka_unit_test(test_an_abandoned_branch_is_counted_once_image_by_image),
		cmocka_unit_test(test_what_is_in_the_trash_already_is_counted_as_unmeasured),
		cmocka_unit_test(test_steps_on_another_volume_are_not_counted),
		cmocka_unit_test(test_garbage_younger_than_min_age_is_not_counted),
		cmocka_unit_test(test_the_state_given_is_left_as_it_was),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
