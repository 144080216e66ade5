/* Sizes as operators write them for rbd: 64M, 10G, 1T, 4096B, or a plain
 * number of MiB. */
#ifndef ROWCAT_UNITS_H
#define ROWCAT_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "rowcat/error.h"

/* Longest text rc_size_format writes, with its NUL. */
#define RC_SIZE_TEXT_MAX 32

/*
 * Parses a positive size as `rbd create --size` reads one (units.c cites
 * rbd's code): digits, then a binary unit K, M, G, T, P or E (also KB,
 * Ki, MB, Mi, ...), or B for bytes; plain digits are MiB. Upper case
 * only, as for rbd. Returns 0, or a usage error for 0, negative values,
 * other units (10MiB and 10g name what rbd would take), trailing text and
 * sizes over 2^63-1 bytes.
 */
int rc_size_parse(const char *text, uint64_t *out, struct rc_error *err);

/* Writes size the way rbd info does: "64 MiB", "10 GiB", "1000 B". */
void rc_size_format(uint64_t size, char buf[RC_SIZE_TEXT_MAX]);

/* Writes an amount of data the way rbd du does: in the largest binary
 * unit it reaches, with up to two decimals ("0 B", "12 MiB", "1.5 GiB",
 * "37.21 MiB"); whole numbers without any. */
void rc_size_format_human(uint64_t size, char buf[RC_SIZE_TEXT_MAX]);

#endif
