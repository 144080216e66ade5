/*
 * rbd_pattern: writes or prints a deterministic byte pattern, for the data
 * tests. The tests write a pattern into an image with librbd and compare
 * checksums of `rbd export` (Ceph's own tool) with those of the printed
 * pattern.
 *
 *   rbd_pattern write POOL[/NS]/IMAGE SEED   fill the whole image (client.admin
 *                                            through $CEPH_CONF)
 *   rbd_pattern print SIZE SEED              the same bytes on stdout
 */
#include <errno.h>
#include <inttypes.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

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

static int write_pattern(const char *spec_text, uint64_t seed)
{
	struct rc_image_spec spec;
	struct rc_error err = {0};
	rados_t cluster = NULL;
	rados_ioctx_t io = NULL;
	rbd_image_t image = NULL;
	unsigned char *buf = malloc(CHUNK);
	uint64_t size = 0;
	int rc;

	rc = buf ? rc_image_spec_parse(&spec, spec_text, "image name", &err) : -ENOMEM;
	if (rc == 0 && (rc = rados_create(&cluster, NULL)) == 0 &&
	    (rc = rados_conf_read_file(cluster, NULL)) == 0 &&
	    (rc = rados_connect(cluster)) == 0 &&
	    (rc = rados_ioctx_create(cluster, spec.pool, &io)) == 0) {
		rados_ioctx_set_namespace(io, spec.ns);
		rc = rbd_open(io, spec.name, &image, NULL);
	}
	if (rc == 0)
		rc = rbd_get_size(image, &size);
	for (uint64_t off = 0; rc == 0 && off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		ssize_t done;
		fill(buf, n, off, seed);
		done = rbd_write(image, off, n, (const char *)buf);
		rc = done == (ssize_t)n ? 0 : (done < 0 ? (int)done : -EIO);
	}
	if (rc == 0)
		rc = rbd_flush(image);
	if (image)
		rbd_close(image);
	if (io)
		rados_ioctx_destroy(io);
	if (cluster)
		rados_shutdown(cluster);
	free(buf);
	if (rc < 0)
		fprintf(stderr, "rbd_pattern: writing %s: %s %s\n", spec_text,
			strerror(-rc), err.message);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "write") == 0)
		return write_pattern(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 4 && strcmp(argv[1], "print") == 0)
		return print_pattern(strtoull(argv[2], NULL, 0),
				     strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: rbd_pattern write SPEC SEED | print SIZE SEED\n");
	return 2;
}
