/*
 * The on-disk record the test guest writes (tests/vm/guest_writer.c) and the
 * host reads back (tests/vm/record_check.c). Record N fills the 512-byte
 * sector N of the disk; all integers are little-endian (x86 on both sides).
 *
 *   offset  size  field
 *        0     8  magic, RECORD_MAGIC
 *        8     8  N, the record's number (= its sector)
 *       16     8  nonce, drawn once per boot: tells this boot's records
 *                 from any older ones
 *       24     8  checksum: FNV-1a 64 of the whole record with this field 0
 *       32   480  filler derived from N and the nonce, so that every byte
 *                 of the sector is covered by the checksum
 *
 * Header-only, and free of anything but the C library: the guest's copy is
 * compiled statically outside the project's build.
 */
#ifndef ROWCAT_TEST_VM_RECORD_H
#define ROWCAT_TEST_VM_RECORD_H

#include <stdint.h>
#include <string.h>

#define RECORD_SIZE 512u
#define RECORD_MAGIC 0x3143455231764d52ULL /* "RMv1REC1" read as bytes */

struct record_header {
	uint64_t magic;
	uint64_t seq;
	uint64_t nonce;
	uint64_t checksum;
};

static inline uint64_t record_checksum(const unsigned char *rec)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (unsigned i = 0; i < RECORD_SIZE; i++) {
		unsigned char c = (i >= 24 && i < 32) ? 0 : rec[i];
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return h;
}

/* Fills rec (RECORD_SIZE bytes) with record seq of the boot nonce. */
static inline void record_make(unsigned char *rec, uint64_t seq, uint64_t nonce)
{
	struct record_header h = { RECORD_MAGIC, seq, nonce, 0 };
	uint64_t z = nonce ^ (seq * 0x9e3779b97f4a7c15ULL);

	for (unsigned i = sizeof(h); i < RECORD_SIZE; i += 8) {
		z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL + 1;
		memcpy(rec + i, &z, 8);
	}
	memcpy(rec, &h, sizeof(h));
	h.checksum = record_checksum(rec);
	memcpy(rec, &h, sizeof(h));
}

enum record_kind {
	RECORD_ZERO,    /* all zero bytes: never written */
	RECORD_VALID,   /* magic and checksum right; *hdr filled in */
	RECORD_CORRUPT, /* magic right, checksum or filler wrong */
	RECORD_OTHER,   /* anything else */
};

/* What the sector rec holds; for RECORD_VALID, its header in *hdr. A valid
 * record also has the filler record_make would write: a checksum that
 * matches by chance over foreign bytes is not taken for a record. */
static inline enum record_kind record_classify(const unsigned char *rec,
					       struct record_header *hdr)
{
	unsigned char expect[RECORD_SIZE];
	unsigned i;

	memcpy(hdr, rec, sizeof(*hdr));
	if (hdr->magic != RECORD_MAGIC) {
		for (i = 0; i < RECORD_SIZE && rec[i] == 0; i++)
			;
		return i == RECORD_SIZE ? RECORD_ZERO : RECORD_OTHER;
	}
	if (record_checksum(rec) != hdr->checksum)
		return RECORD_CORRUPT;
	record_make(expect, hdr->seq, hdr->nonce);
	return memcmp(expect, rec, RECORD_SIZE) == 0 ? RECORD_VALID : RECORD_CORRUPT;
}

#endif
