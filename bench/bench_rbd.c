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
 *       opens and closes IMAGE N times; answers "ok MEDIAN_MS CLOSE_MS",
 *       the medians of the opens (rbd_open alone: a clone opens its whole
 *       parent chain) and of the closes (which close it).
 *   hold POOL[/NS] IMAGE
 *       a second connection (another client, as a hypervisor is) opens
 *       IMAGE and writes its first 4 KiB, so that it owns the image's
 *       exclusive lock, as a running guest's QEMU does; the image it held
 *       before is closed. Answers "ok 0".
 *   chain POOL[/NS] IMAGE SNAP CLONE protect|noprotect
 *       the sequence of seq (with or without the protect; noprotect
 *       clones in format 2, which needs no protected snapshot), then
 *       moves the hold, if any, to CLONE, as a live switch does. Answers
 *       "ok TOTAL_MS CREATE_MS PROTECT_MS CLONE_MS" (the open and close
 *       count in TOTAL only; the hold's move in none).
 *
 * Any failure answers "error WHAT: strerror" and the harness stops. The
 * cluster comes from CEPH_CONF as client.admin, as the rbd CLI finds it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
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

/* The times of a sequence's steps, in milliseconds. */
struct steps {
	double create, protect, clone;
};

static int snap_sequence(rados_ioctx_t io, const char *image, const char *snap,
			 const char *clone, bool protect, struct steps *t,
			 const char **what)
{
	rbd_image_t img = NULL;
	rbd_image_options_t opts = NULL;
	double start;
	int rc;

	memset(t, 0, sizeof(*t));
	*what = "open";
	rc = rbd_open(io, image, &img, NULL);
	if (rc < 0)
		goto out;
	*what = "snap create";
	start = now_ms();
	rc = rbd_snap_create(img, snap);
	t->create = now_ms() - start;
	if (rc < 0)
		goto out;
	if (protect) {
		*what = "snap protect";
		start = now_ms();
		rc = rbd_snap_protect(img, snap);
		t->protect = now_ms() - start;
		if (rc < 0)
			goto out;
	}
	rbd_close(img);
	img = NULL;
	*what = "clone";
	rbd_image_options_create(&opts);
	rc = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES,
					  BENCH_FEATURES);
	/* format 1 (the default while the cluster admits pre-mimic clients)
	 * refuses an unprotected snapshot */
	if (rc == 0 && !protect)
		rc = rbd_image_options_set_uint64(opts,
						  RBD_IMAGE_OPTION_CLONE_FORMAT, 2);
	start = now_ms();
	if (rc == 0)
		rc = rbd_clone3(io, image, snap, io, clone, opts);
	t->clone = now_ms() - start;
out:
	if (opts)
		rbd_image_options_destroy(opts);
	if (img)
		rbd_close(img);
	return rc;
}

static double median_of(double *times, int n)
{
	qsort(times, (size_t)n, sizeof(*times), by_value);
	return n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
}

static int open_median(rados_ioctx_t io, const char *image, int n,
		       double *median, double *close_median)
{
	double times[MAX_OPENS], closes[MAX_OPENS];
	rbd_image_t img;
	int rc = 0;

	for (int i = 0; i < n; i++) {
		double start = now_ms();
		rc = rbd_open(io, image, &img, NULL);
		if (rc < 0)
			return rc;
		times[i] = now_ms() - start;
		start = now_ms();
		rbd_close(img);
		closes[i] = now_ms() - start;
	}
	*median = median_of(times, n);
	*close_median = median_of(closes, n);
	return 0;
}

/* The other client of "hold": its connection and the image it holds. */
struct holder {
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t image;
};

static void holder_release(struct holder *h)
{
	if (h->image)
		rbd_close(h->image);
	if (h->io)
		rados_ioctx_destroy(h->io);
	h->image = NULL;
	h->io = NULL;
}

/* Opens image (in a fresh I/O context on spec) and takes its lock by
 * writing; the image held before is let go first. */
static int holder_take(struct holder *h, char *spec, const char *image,
		       const char **what)
{
	static char block[4096];
	ssize_t n;
	int rc;

	holder_release(h);
	*what = "hold: pool";
	rc = pool_ioctx(h->cluster, spec, &h->io);
	if (rc < 0)
		return rc;
	*what = "hold: open";
	rc = rbd_open(h->io, image, &h->image, NULL);
	if (rc < 0) {
		h->image = NULL;
		return rc;
	}
	*what = "hold: write";
	n = rbd_write(h->image, 0, sizeof(block), block);
	return n < 0 ? (int)n : 0;
}

/* Runs one command line; prints its answer. Returns 0, or -1 to stop. */
static int run_command(rados_t cluster, struct holder *holder, char *line)
{
	char spec[256];
	struct steps t;
	char *argv[7] = {0};
	int argc = 0;
	rados_ioctx_t io = NULL;
	const char *what = "command";
	int rc = -EINVAL;

	for (char *tok = strtok(line, " \t\n"); tok && argc < 7;
	     tok = strtok(NULL, " \t\n"))
		argv[argc++] = tok;
	if (argc == 0)
		return 0;
	if (!((strcmp(argv[0], "seq") == 0 && argc == 5) ||
	      (strcmp(argv[0], "open") == 0 && argc == 4) ||
	      (strcmp(argv[0], "hold") == 0 && argc == 3) ||
	      (strcmp(argv[0], "chain") == 0 && argc == 6 &&
	       (strcmp(argv[5], "protect") == 0 ||
		strcmp(argv[5], "noprotect") == 0)))) {
		printf("error unknown command or wrong arguments: %s\n", argv[0]);
		fflush(stdout);
		return -1;
	}
	snprintf(spec, sizeof(spec), "%s", argv[1]);
	what = "pool";
	rc = pool_ioctx(cluster, argv[1], &io);
	if (rc < 0)
		goto out;
	if (strcmp(argv[0], "hold") == 0) {
		rc = holder_take(holder, spec, argv[2], &what);
		if (rc == 0)
			printf("ok 0\n");
	} else if (strcmp(argv[0], "seq") == 0) {
		double start = now_ms();
		rc = snap_sequence(io, argv[2], argv[3], argv[4], true, &t, &what);
		if (rc == 0)
			printf("ok %.3f\n", now_ms() - start);
	} else if (strcmp(argv[0], "chain") == 0) {
		double start = now_ms(), total;
		rc = snap_sequence(io, argv[2], argv[3], argv[4],
				   strcmp(argv[5], "protect") == 0, &t, &what);
		total = now_ms() - start;
		if (rc == 0 && holder->image)
			rc = holder_take(holder, spec, argv[4], &what);
		if (rc == 0)
			printf("ok %.3f %.3f %.3f %.3f\n", total, t.create,
			       t.protect, t.clone);
	} else {
		int n = atoi(argv[3]);
		double median = 0, close_median = 0;
		what = "open";
		rc = n < 1 || n > MAX_OPENS ? -EINVAL
					    : open_median(io, argv[2], n, &median,
							  &close_median);
		if (rc == 0)
			printf("ok %.3f %.3f\n", median, close_median);
	}
out:
	if (io)
		rados_ioctx_destroy(io);
	if (rc < 0)
		printf("error %s: %s\n", what, strerror(-rc));
	fflush(stdout);
	return rc < 0 ? -1 : 0;
}

/* A connected cluster handle, as client.admin from CEPH_CONF. */
static int connect_cluster(rados_t *out)
{
	rados_t cluster = NULL;
	int rc = rados_create(&cluster, NULL);

	if (rc < 0)
		return rc;
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
		rados_shutdown(cluster);
		return rc;
	}
	*out = cluster;
	return 0;
}

int main(void)
{
	struct holder holder = {0};
	rados_t cluster = NULL;
	char line[1024];
	int rc;

	rc = connect_cluster(&cluster);
	if (rc == 0)
		rc = connect_cluster(&holder.cluster);
	if (rc < 0) {
		fprintf(stderr, "bench_rbd: connecting: %s\n", strerror(-rc));
		if (cluster)
			rados_shutdown(cluster);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), stdin))
		rc = run_command(cluster, &holder, line);
	holder_release(&holder);
	rados_shutdown(holder.cluster);
	rados_shutdown(cluster);
	return rc == 0 ? 0 : 1;
}
