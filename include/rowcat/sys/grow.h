/* Growing heap arrays: one overflow-checked doubling for every list. */
#ifndef ROWCAT_SYS_GROW_H
#define ROWCAT_SYS_GROW_H

#include <stddef.h>

/*
 * Makes room in the heap array *array (NULL while empty), which holds
 * *capacity elements of elem_size bytes, for at least `need` elements.
 * The capacity doubles, starting from first_capacity (when 0: from need);
 * where doubling would pass the largest array of elem_size elements whose
 * byte count fits in a size_t, the capacity stops there instead.
 *
 * Returns 0, with *array and *capacity updated (nothing changes when the
 * array is already big enough); -EOVERFLOW when need elements of elem_size
 * bytes do not fit in a size_t (or elem_size is 0); -ENOMEM when realloc
 * fails. On failure *array and *capacity are left as they were, so the
 * caller still owns and frees the old array.
 */
int rc_grow(void **array, size_t *capacity, size_t need, size_t elem_size,
	    size_t first_capacity);

/*
 * The capacity rc_grow would choose, without allocating: 0 and *out, or
 * -EOVERFLOW. Public for the tests, which check the limits without
 * asking for an array the size of the address space.
 */
int rc_grow_capacity(size_t capacity, size_t need, size_t elem_size,
		     size_t first_capacity, size_t *out);

#endif
