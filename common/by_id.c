/* Finding a row by id in an array of rows sorted by id. */
#include <string.h>

#include "rowcat/sys/by_id.h"

/* The id of element i. memcpy, not a cast of the char pointer: that cast
 * asks for more alignment than char has (clang's -Wcast-align). */
static int64_t id_at(const void *array, size_t size, size_t i)
{
	int64_t id;

	memcpy(&id, (const char *)array + i * size, sizeof(id));
	return id;
}

size_t rc_find_by_id(const void *array, size_t count, size_t size,
		     int64_t id)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (id_at(array, size, mid) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < count && id_at(array, size, lo) == id)
		return lo;
	return RC_NOT_FOUND;
}

bool rc_sorted_by_id(const void *array, size_t count, size_t size)
{
	for (size_t i = 1; i < count; i++) {
		if (id_at(array, size, i - 1) >= id_at(array, size, i))
			return false;
	}
	return true;
}
