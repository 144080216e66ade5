#include "rowcat/sys/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int rc_grow_capacity(size_t capacity, size_t need, size_t elem_size,
		     size_t first_capacity, size_t *out)
{
	size_t most, cap;

	if (elem_size == 0 || need > SIZE_MAX / elem_size)
		return -EOVERFLOW;
	most = SIZE_MAX / elem_size;
	if (need <= capacity) {
		*out = capacity;
		return 0;
	}
	cap = capacity ? capacity : first_capacity;
	if (cap == 0)
		cap = need;
	while (cap < need)
		cap = cap > most / 2 ? most : cap * 2;
	*out = cap > most ? most : cap;
	return 0;
}

int rc_grow(void **array, size_t *capacity, size_t need, size_t elem_size,
	    size_t first_capacity)
{
	size_t cap;
	void *bigger;
	int rc;

	rc = rc_grow_capacity(*capacity, need, elem_size, first_capacity, &cap);
	if (rc < 0 || cap == *capacity)
		return rc;
	bigger = realloc(*array, cap * elem_size);
	if (!bigger)
		return -ENOMEM;
	*array = bigger;
	*capacity = cap;
	return 0;
}
