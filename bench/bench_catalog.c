/*
 * Catalog benchmarks without a cluster.
 *
 *   bench_catalog gen PATH VOLUMES GENERATIONS
 *       builds a synthetic catalog (tests/support/lineage_gen) at PATH
 *   bench_catalog queries PATH VOLUMES REPS
 *       times, in one process, the depth query of a volume's operating
 *       image and the load of its whole lineage, on REPS volumes picked
 *       evenly; prints medians in microseconds
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rowcat/catalog.h"
#include "lineage_gen.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int gen(const char *path, int volumes, int generations)
{
	struct catalog *cat = NULL;
	struct rc_error err = {0};
	double start = now_us();
	int rc;

	rc = catalog_open(&cat, path, CATALOG_OPEN_CREATE, &err);
	if (rc == 0)
		rc = lineage_gen(cat, volumes, generations, &err);
	catalog_close(cat);
	if (rc < 0) {
		fprintf(stderr, "bench_catalog: %s\n", err.message);
		return 1;
	}
	printf("gen_seconds %.2f\n", (now_us() - start) / 1e6);
	return 0;
}

static int queries(const char *path, int volumes, int reps)
{
	struct catalog *cat = NULL;
	struct rc_error err = {0};
	double *depth_us = calloc((size_t)reps, sizeof(double));
	double *tree_us = calloc((size_t)reps, sizeof(double));
	int rc = 1;

	if (!depth_us || !tree_us ||
	    catalog_open(&cat, path, CATALOG_OPEN_EXISTING, &err) < 0)
		goto out;
	for (int r = 0; r < reps; r++) {
		struct catalog_lineage *lin = NULL;
		struct catalog_volume vol;
		char name[32];
		double t0;
		int depth;

		snprintf(name, sizeof(name), "vol%06d",
			 (int)((long)r * volumes / reps));
		if (catalog_volume_find(cat, name, &vol, &err) < 0)
			goto out;
		t0 = now_us();
		if (catalog_image_depth(cat, vol.operating_image_id, &depth, &err) < 0)
			goto out;
		depth_us[r] = now_us() - t0;
		t0 = now_us();
		if (catalog_lineage_load(&lin, cat, &vol, &err) < 0)
			goto out;
		tree_us[r] = now_us() - t0;
		catalog_lineage_free(lin);
	}
	printf("depth_query_median_us %.1f\n", median(depth_us, reps));
	printf("lineage_load_median_us %.1f\n", median(tree_us, reps));
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_catalog: %s\n", err.message);
	catalog_close(cat);
	free(depth_us);
	free(tree_us);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "queries") == 0)
		return queries(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: bench_catalog gen PATH VOLUMES GENERATIONS\n"
			"       bench_catalog queries PATH VOLUMES REPS\n");
	return 2;
}
