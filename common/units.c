#include "rowcat/units.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char unit_letters[] = "KMGTPE";

/* Returns the power of 1024 for a unit suffix, or -1 when unknown. */
static int unit_shift(const char *suffix)
{
	const char *letter;

	if (suffix[0] == '\0' || strcmp(suffix, "B") == 0)
		return 0;
	letter = strchr(unit_letters, toupper((unsigned char)suffix[0]));
	if (!letter)
		return -1;
	suffix++;
	if (suffix[0] == '\0' || strcmp(suffix, "B") == 0 ||
	    strcmp(suffix, "iB") == 0)
		return (int)(letter - unit_letters + 1) * 10;
	return -1;
}

int rc_size_parse(const char *text, uint64_t *out, struct rc_error *err)
{
	uint64_t value = 0;
	const char *p = text;
	int shift;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (value > (UINT64_MAX - 9) / 10)
			goto too_big;
		value = value * 10 + (uint64_t)(*p - '0');
	}
	shift = unit_shift(p);
	if (shift < 0)
		goto bad;
	if (value == 0)
		return rc_error_usage(err, "size '%s' is zero", text);
	if (value > (UINT64_MAX >> 1) >> shift)
		goto too_big;
	*out = value << shift;
	return 0;
bad:
	return rc_error_usage(err,
		"'%s' is not a size (examples: 64M, 10G, 1T, 1048576)", text);
too_big:
	return rc_error_usage(err, "size '%s' is too large", text);
}

void rc_size_format(uint64_t size, char buf[RC_SIZE_TEXT_MAX])
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB"};
	int u = 0;

	while (u < 6 && size >= 1024 && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	snprintf(buf, RC_SIZE_TEXT_MAX, "%llu %s", (unsigned long long)size,
		 units[u]);
}
