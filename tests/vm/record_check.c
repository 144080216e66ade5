/*
 * record_check: what an exported disk of the test guest holds
 * (tests/vm/record.h), read from `rbd export SPEC FILE` or from stdin
 * (`rbd export SPEC - | record_check -`).
 *
 *   record_check [--acked N] [--nonce HEX] FILE|-
 *   record_check --emit HEX N     one record, as the guest writes it (for
 *                                 tests of this checker)
 *
 * Prints, one "key value" line each:
 *   nonce HEX      the boot's nonce: record 0's, else --nonce, else that of
 *                  the first valid record ("none" when there is none)
 *   prefix P       records 0..P-1 are all valid and of that nonce
 *   after_gap K    valid records of that nonce past the prefix
 *   foreign F      valid records of another nonce (an older boot)
 *   misplaced M    valid records in another sector than their number
 *   corrupt C      sectors with the magic but a wrong checksum or filler
 *   other O        sectors that are neither zero nor a record
 * and, for the first few records past the prefix, "stray SECTOR SEQ".
 *
 * The guest writes one record at a time, in order, each only after the
 * previous one returned. A point-in-time copy of its disk (a snapshot
 * taken while it runs, or the image after it stopped) therefore holds
 * exactly a prefix: the in-flight record, if it landed, extends the prefix
 * by one and never leaves a gap. Anything else is a failure.
 *
 * Exit status: 0 when the disk holds a prefix and zeros only, of the
 * expected nonce, and (with --acked N) records 0..N are all there; 1 when
 * not, each reason on stderr; 2 on bad usage or a read error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

#define CHUNK (1u << 20)
#define STRAYS_SHOWN 10

struct tally {
	bool have_nonce;
	uint64_t nonce;
	bool in_prefix;
	uint64_t prefix, after_gap, foreign, misplaced, corrupt, other;
	unsigned strays_shown;
};

static void usage(void)
{
	fprintf(stderr, "usage: record_check [--acked N] [--nonce HEX] FILE|-\n"
			"       record_check --emit HEX N\n");
}

static int parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, base);
	return (errno || *s == '\0' || *end != '\0' || *s == '-') ? -EINVAL : 0;
}

static void stray(struct tally *t, uint64_t sector, uint64_t seq)
{
	if (t->strays_shown++ < STRAYS_SHOWN)
		printf("stray %" PRIu64 " %" PRIu64 "\n", sector, seq);
}

static void classify(struct tally *t, const unsigned char *rec, uint64_t sector)
{
	struct record_header h;

	switch (record_classify(rec, &h)) {
	case RECORD_ZERO:
		t->in_prefix = false;
		return;
	case RECORD_CORRUPT:
		t->in_prefix = false;
		t->corrupt++;
		return;
	case RECORD_OTHER:
		t->in_prefix = false;
		t->other++;
		return;
	case RECORD_VALID:
		break;
	}
	if (!t->have_nonce) {
		t->have_nonce = true;
		t->nonce = h.nonce;
	}
	if (h.nonce != t->nonce) {
		t->in_prefix = false;
		t->foreign++;
	} else if (h.seq != sector) {
		t->in_prefix = false;
		t->misplaced++;
	} else if (t->in_prefix) {
		t->prefix++;
	} else {
		t->after_gap++;
		stray(t, sector, h.seq);
	}
}

static int emit(const char *nonce_text, const char *seq_text)
{
	unsigned char rec[RECORD_SIZE];
	uint64_t nonce, seq;

	if (parse_u64(nonce_text, 16, &nonce) || parse_u64(seq_text, 10, &seq)) {
		usage();
		return 2;
	}
	record_make(rec, seq, nonce);
	return fwrite(rec, 1, sizeof(rec), stdout) == sizeof(rec) && fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	struct tally t = { .in_prefix = true };
	bool check_acked = false;
	uint64_t acked = 0, sector = 0;
	unsigned char *buf = NULL;
	size_t fill = 0;
	const char *path = NULL;
	int fd = -1, rc = 2, i;

	if (argc == 4 && strcmp(argv[1], "--emit") == 0)
		return emit(argv[2], argv[3]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--acked") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], 10, &acked))
				goto bad_usage;
			check_acked = true;
		} else if (strcmp(argv[i], "--nonce") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], 16, &t.nonce))
				goto bad_usage;
			t.have_nonce = true;
		} else if (!path) {
			path = argv[i];
		} else {
			goto bad_usage;
		}
	}
	if (!path)
		goto bad_usage;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "record_check: %s: %s\n", path, strerror(errno));
		goto out;
	}
	buf = malloc(CHUNK);
	if (!buf) {
		fprintf(stderr, "record_check: out of memory\n");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + fill, CHUNK - fill);
		size_t done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "record_check: %s: %s\n", path, strerror(errno));
			goto out;
		}
		fill += (size_t)n;
		for (; fill - done >= RECORD_SIZE; done += RECORD_SIZE)
			classify(&t, buf + done, sector++);
		memmove(buf, buf + done, fill - done);
		fill -= done;
		if (n == 0)
			break;
	}
	if (fill) /* a tail shorter than a sector */
		t.other++;

	if (t.have_nonce)
		printf("nonce %016" PRIx64 "\n", t.nonce);
	else
		printf("nonce none\n");
	printf("prefix %" PRIu64 "\nafter_gap %" PRIu64 "\nforeign %" PRIu64
	       "\nmisplaced %" PRIu64 "\ncorrupt %" PRIu64 "\nother %" PRIu64 "\n",
	       t.prefix, t.after_gap, t.foreign, t.misplaced, t.corrupt, t.other);

	rc = 0;
	if (t.after_gap) {
		fprintf(stderr, "record_check: %" PRIu64 " records past the gap at %" PRIu64 "\n",
			t.after_gap, t.prefix);
		rc = 1;
	}
	if (t.foreign || t.misplaced || t.corrupt || t.other) {
		fprintf(stderr, "record_check: sectors that are no record of this boot: %" PRIu64
			" foreign, %" PRIu64 " misplaced, %" PRIu64 " corrupt, %" PRIu64 " other\n",
			t.foreign, t.misplaced, t.corrupt, t.other);
		rc = 1;
	}
	if (check_acked && t.prefix <= acked) {
		fprintf(stderr, "record_check: record %" PRIu64 " was acknowledged, the prefix ends at %" PRIu64 "\n",
			acked, t.prefix);
		rc = 1;
	}
	goto out;

bad_usage:
	usage();
out:
	free(buf);
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}
