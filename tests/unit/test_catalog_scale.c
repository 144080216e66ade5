/*
 * The catalog at scale: 10,000 volumes × 100 generations (1,000,000 images)
 * built in setup. Asserts that the lineage queries stay correct there;
 * their speed is measured by bench/bench_catalog, not here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rowcat/catalog.h"
#include "lineage_gen.h"
#include "testdir.h"

#define VOLUMES 10000
#define GENERATIONS 100

static struct testdir dir;
static struct catalog *cat;

static int build(void **state)
{
	struct rc_error err = {0};
	char path[512];
	(void)state;

	testdir_make(&dir);
	testdir_file(&dir, "big.db", path, sizeof(path));
	if (catalog_open(&cat, path, CATALOG_OPEN_CREATE, &err) < 0 ||
	    lineage_gen(cat, VOLUMES, GENERATIONS, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int destroy(void **state)
{
	(void)state;
	catalog_close(cat);
	testdir_remove(&dir);
	return 0;
}

static void test_tree_of_one_volume_among_a_million_images(void **state)
{
	struct catalog_lineage *lin = NULL;
	struct catalog_volume vol;
	struct rc_error err = {0};
	(void)state;

	assert_int_equal(catalog_volume_find(cat, "vol005000", &vol, &err), 0);
	assert_int_equal(catalog_lineage_load(&lin, cat, &vol, &err), 0);
	assert_int_equal(lin->image_count, GENERATIONS);
	assert_int_equal(lin->snapshot_count, GENERATIONS - 1);
	for (size_t i = 0; i < lin->image_count; i++)
		assert_int_equal(lin->depths[i], (int)i);
	assert_int_equal(lin->images[GENERATIONS - 1].id, vol.operating_image_id);
	catalog_lineage_free(lin);
}

static void test_depth_of_the_deepest_image(void **state)
{
	struct catalog_volume vol;
	struct rc_error err = {0};
	int depth = -1;
	(void)state;

	assert_int_equal(catalog_volume_find(cat, "vol009999", &vol, &err), 0);
	assert_int_equal(catalog_image_depth(cat, vol.operating_image_id, &depth,
					     &err), 0);
	assert_int_equal(depth, GENERATIONS - 1);
}

static int count_rows(void *ctx, const struct catalog_volume_summary *row,
		      struct rc_error *err)
{
	int *n = ctx;
	if (row->depth != GENERATIONS - 1 || row->snapshot_count != GENERATIONS - 1)
		return rc_error_set(err, -EIO, "volume '%s' has depth %d and "
				    "%d snapshots", row->volume.name, row->depth,
				    row->snapshot_count);
	(*n)++;
	return 0;
}

static void test_list_of_ten_thousand_volumes(void **state)
{
	struct rc_error err = {0};
	int n = 0;
	(void)state;

	assert_int_equal(catalog_volume_list(cat, count_rows, &n, &err), 0);
	assert_int_equal(n, VOLUMES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_of_one_volume_among_a_million_images),
		cmocka_unit_test(test_depth_of_the_deepest_image),
		cmocka_unit_test(test_list_of_ten_thousand_volumes),
	};
	return cmocka_run_group_tests_name("catalog_scale", tests, build, destroy);
}
