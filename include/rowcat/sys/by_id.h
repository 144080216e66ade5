/* Finding a row by id in an array of rows sorted by id. */
#ifndef ROWCAT_SYS_BY_ID_H
#define ROWCAT_SYS_BY_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What rc_find_by_id returns for an id the array does not hold. */
#define RC_NOT_FOUND SIZE_MAX

/*
 * The index of the element whose id is `id` in `array`, `count` structs of
 * `size` bytes each that start with their int64_t id and are sorted by it
 * (the catalog's rows as its queries order them), or RC_NOT_FOUND. A
 * binary search: lookups in a lineage or a gc state of a million rows stay
 * logarithmic.
 */
size_t rc_find_by_id(const void *array, size_t count, size_t size,
		     int64_t id);

/* Whether such an array is sorted by id, strictly ascending. */
bool rc_sorted_by_id(const void *array, size_t count, size_t size);

#endif
