/*
 * rbd_pattern: writes or prints a deterministic byte pattern, for the data
 * tests. The tests write a pattern into an image with librbd and compare
 * checksums of `rbd export` (Ceph's own tool) with those of the printed
 * pattern.
 *
 *   rbd_pattern write POOL[/NS]/IMAGE SEED   fill the whole image (client.admin
 *                                            through $CEPH_CONF)
 *   rbd_pattern print SIZE SEED              the same bytes on stdout
 *   rbd_pattern hold POOL[/NS]/IMAGE         keep the image open, as a
 *                                            hypervisor does (a watcher),
 *                                            printing "open" once it is,
 *                                            until stdin reaches its end
 *   rbd_pattern quiesce POOL[/NS]/IMAGE ERRNO
 *                                            the same, answering each of
 *                                            librbd's quiesce requests
 *                                            (rbd_quiesce_watch) with
 *                                            -ERRNO (0: quiesced), as
 *                                            rbd-nbd --quiesce does with
 *                                            its hook; prints "quiesce"
 *                                            for each request
 */
#include <errno.h>
#include <inttypes.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/names.h"

#define CHUNK (1u << 20)

/* splitmix64: the pattern is a function of the seed and the offset only. */
static void fill(unsigned char *buf, size_t len, uint64_t offset, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t z = seed + (offset + i) / 8 * 0x9e3779b97f4a7c15ULL;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(buf + i, &z, len - i < 8 ? len - i : 8);
	}
}

static int print_pattern(uint64_t size, uint64_t seed)
{
	unsigned char *buf = malloc(CHUNK);

	if (!buf)
		return 1;
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		fill(buf, n, off, seed);
		fwrite(buf, 1, n, stdout);
	}
	free(buf);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* A client of the image, through $CEPH_CONF as client.admin. */
struct client {
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t image;
};

static int client_open(struct client *c, const char *spec_text)
{
	struct rc_image_spec spec;
	struct rc_error err = {0};
	int rc;

	memset(c, 0, sizeof(*c));
	rc = rc_image_spec_parse(&spec, spec_text, "image name", &err);
	if (rc == 0 && (rc = rados_create(&c->cluster, NULL)) == 0 &&
	    (rc = rados_conf_read_file(c->cluster, NULL)) == 0 &&
	    (rc = rados_connect(c->cluster)) == 0 &&
	    (rc = rados_ioctx_create(c->cluster, spec.pool, &c->io)) == 0) {
		rados_ioctx_set_namespace(c->io, spec.ns);
		rc = rbd_open(c->io, spec.name, &c->image, NULL);
	}
	if (rc < 0)
		fprintf(stderr, "rbd_pattern: opening %s: %s %s\n", spec_text,
			strerror(-rc), err.message);
	return rc;
}

static void client_close(struct client *c)
{
	if (c->image)
		rbd_close(c->image);
	if (c->io)
		rados_ioctx_destroy(c->io);
	if (c->cluster)
		rados_shutdown(c->cluster);
}

static int write_pattern(const char *spec_text, uint64_t seed)
{
	struct client c;
	unsigned char *buf = malloc(CHUNK);
	uint64_t size = 0;
	int rc;

	rc = buf ? client_open(&c, spec_text) : -ENOMEM;
	if (rc == 0)
		rc = rbd_get_size(c.image, &size);
	for (uint64_t off = 0; rc == 0 && off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		ssize_t done;
		fill(buf, n, off, seed);
		done = rbd_write(c.image, off, n, (const char *)buf);
		rc = done == (ssize_t)n ? 0 : (done < 0 ? (int)done : -EIO);
	}
	if (rc == 0)
		rc = rbd_flush(c.image);
	client_close(&c);
	free(buf);
	if (rc < 0)
		fprintf(stderr, "rbd_pattern: writing %s: %s\n", spec_text,
			strerror(-rc));
	return rc < 0 ? 1 : 0;
}

static int hold(const char *spec_text)
{
	struct client c;
	int rc = client_open(&c, spec_text);

	if (rc == 0) {
		printf("open\n");
		fflush(stdout);
		while (getchar() != EOF) {
		}
	}
	client_close(&c);
	return rc < 0 ? 1 : 0;
}

/* What a quiesce request is answered with. */
struct quiescer {
	rbd_image_t image;
	uint64_t handle;
	int answer;
};

static void on_quiesce(void *arg)
{
	struct quiescer *q = arg;

	printf("quiesce\n");
	fflush(stdout);
	rbd_quiesce_complete(q->image, q->handle, q->answer);
}

static void on_unquiesce(void *arg)
{
	(void)arg;
}

static int quiesce(const char *spec_text, int errno_answer)
{
	struct quiescer q = { .answer = -errno_answer };
	struct client c;
	int rc = client_open(&c, spec_text);

	q.image = c.image;
	if (rc == 0)
		rc = rbd_quiesce_watch(c.image, on_quiesce, on_unquiesce, &q,
				       &q.handle);
	if (rc == 0) {
		printf("open\n");
		fflush(stdout);
		while (getchar() != EOF) {
		}
		rbd_quiesce_unwatch(c.image, q.handle);
	} else {
		fprintf(stderr, "rbd_pattern: watching %s for quiesce: %s\n",
			spec_text, strerror(-rc));
	}
	client_close(&c);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "write") == 0)
		return write_pattern(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 4 && strcmp(argv[1], "print") == 0)
		return print_pattern(strtoull(argv[2], NULL, 0),
				     strtoull(argv[3], NULL, 0));
	if (argc == 3 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2]);
	if (argc == 4 && strcmp(argv[1], "quiesce") == 0)
		return quiesce(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: rbd_pattern write SPEC SEED | print SIZE SEED | "
		"hold SPEC | quiesce SPEC ERRNO\n");
	return 2;
}
