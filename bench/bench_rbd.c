/*
 * The bare librbd side of the benchmarks: one process, connected once, so
 * that what it times is the RBD work alone (no process start, no cluster
 * connect, no catalog). It reads commands from stdin, one per line, and
 * answers each with one line on stdout, so a shell harness can interleave
 * it with runs of rowcat and rbd:
 *
 *   seq POOL[/NS] IMAGE SNAP CLONE
 *       open IMAGE, create SNAP, protect it, close, clone IMAGE@SNAP into
 *       CLONE (same pool and namespace, rowcat's features): what
 *       `rowcat snap` asks of Ceph. Answers "ok MILLISECONDS".
 *   open POOL[/NS] IMAGE N
 *       opens and closes IMAGE N times; answers "ok MEDIAN_MS" of the
 *       opens (rbd_open alone: a clone opens its whole parent chain).
 *
 * Any failure answers "error WHAT: strerror" and the harness stops. The
 * cluster comes from CEPH_CONF as client.admin, as the rbd CLI finds it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

/* rowcat's own features (rbdops/internal.h), spelled out: this harness is
 * bare librbd and links nothing of rowcat. */
#define BENCH_FEATURES                                                     \
	(RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK |               \
	 RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF |                  \
	 RBD_FEATURE_DEEP_FLATTEN)

#define MAX_OPENS 1000

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* An I/O context on POOL or POOL/NS. */
static int pool_ioctx(rados_t cluster, char *spec, rados_ioctx_t *io)
{
	char *slash = strchr(spec, '/');
	int rc;

	if (slash)
		*slash = '\0';
	rc = rados_ioctx_create(cluster, spec, io);
	if (rc == 0 && slash)
		rados_ioctx_set_namespace(*io, slash + 1);
	return rc;
}

static int snap_sequence(rados_ioctx_t io, const char *image, const char *snap,
			 const char *clone, const char **what)
{
	rbd_image_t img = NULL;
	rbd_image_options_t opts = NULL;
	int rc;

	*what = "open";
	rc = rbd_open(io, image, &img, NULL);
	if (rc < 0)
		goto out;
	*what = "snap create";
	rc = rbd_snap_create(img, snap);
	if (rc < 0)
		goto out;
	*what = "snap protect";
	rc = rbd_snap_protect(img, snap);
	if (rc < 0)
		goto out;
	rbd_close(img);
	img = NULL;
	*what = "clone";
	rbd_image_options_create(&opts);
	rc = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES,
					  BENCH_FEATURES);
	if (rc == 0)
		rc = rbd_clone3(io, image, snap, io, clone, opts);
out:
	if (opts)
		rbd_image_options_destroy(opts);
	if (img)
		rbd_close(img);
	return rc;
}

static int open_median(rados_ioctx_t io, const char *image, int n,
		       double *median)
{
	double times[MAX_OPENS];
	rbd_image_t img;
	int rc = 0;

	for (int i = 0; i < n; i++) {
		double start = now_ms();
		rc = rbd_open(io, image, &img, NULL);
		if (rc < 0)
			return rc;
		times[i] = now_ms() - start;
		rbd_close(img);
	}
	qsort(times, (size_t)n, sizeof(*times), by_value);
	*median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
	return 0;
}

/* Runs one command line; prints its answer. Returns 0, or -1 to stop. */
static int run_command(rados_t cluster, char *line)
{
	char *argv[6] = {0};
	int argc = 0;
	rados_ioctx_t io = NULL;
	const char *what = "command";
	int rc = -EINVAL;

	for (char *tok = strtok(line, " \t\n"); tok && argc < 6;
	     tok = strtok(NULL, " \t\n"))
		argv[argc++] = tok;
	if (argc == 0)
		return 0;
	if (!((strcmp(argv[0], "seq") == 0 && argc == 5) ||
	      (strcmp(argv[0], "open") == 0 && argc == 4))) {
		printf("error unknown command or wrong arguments: %s\n", argv[0]);
		fflush(stdout);
		return -1;
	}
	what = "pool";
	rc = pool_ioctx(cluster, argv[1], &io);
	if (rc < 0)
		goto out;
	if (strcmp(argv[0], "seq") == 0) {
		double start = now_ms();
		rc = snap_sequence(io, argv[2], argv[3], argv[4], &what);
		if (rc == 0)
			printf("ok %.3f\n", now_ms() - start);
	} else {
		int n = atoi(argv[3]);
		double median = 0;
		what = "open";
		rc = n < 1 || n > MAX_OPENS ? -EINVAL
					    : open_median(io, argv[2], n, &median);
		if (rc == 0)
			printf("ok %.3f\n", median);
	}
out:
	if (io)
		rados_ioctx_destroy(io);
	if (rc < 0)
		printf("error %s: %s\n", what, strerror(-rc));
	fflush(stdout);
	return rc < 0 ? -1 : 0;
}

int main(void)
{
	rados_t cluster = NULL;
	char line[1024];
	int rc;

	rc = rados_create(&cluster, NULL);
	if (rc < 0) {
		fprintf(stderr, "bench_rbd: rados_create: %s\n", strerror(-rc));
		return 1;
	}
	rc = rados_conf_read_file(cluster, NULL);
	if (rc == 0)
		rc = rados_conf_parse_env(cluster, NULL);
	/* a stalled cluster fails the benchmark instead of hanging it */
	if (rc == 0)
		rc = rados_conf_set(cluster, "client_mount_timeout", "60");
	if (rc == 0)
		rc = rados_conf_set(cluster, "rados_osd_op_timeout", "300");
	if (rc == 0)
		rc = rados_conf_set(cluster, "rados_mon_op_timeout", "300");
	if (rc == 0)
		rc = rados_connect(cluster);
	if (rc < 0) {
		fprintf(stderr, "bench_rbd: connecting: %s\n", strerror(-rc));
		rados_shutdown(cluster);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), stdin))
		rc = run_command(cluster, line);
	rados_shutdown(cluster);
	return rc == 0 ? 0 : 1;
}
