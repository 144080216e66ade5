#include "rowcat/units.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char unit_letters[] = "KMGTPE";

/*
 * The power of 2 of a unit as rbd 16.2 reads --size, or -1 when rbd would
 * refuse it. rbd (src/tools/rbd/ArgumentTypes.cc, validate() of
 * ImageSize) calls strict_iecstrtoll (src/common/strtol.cc): the unit is
 * what follows the digits, one or two characters whose first is K, M, G,
 * T, P or E (powers of 1024) or B (bytes), upper case only, and "Bi" is
 * refused; then, since the text ended in a digit when there was no unit,
 * it shifts a plain number by 20: MiB. Where strict_iecstrtoll looks no
 * further than the first character (it takes "10Mx" for 10M, "10BB" for
 * 10 bytes, fixed in Ceph 19 by PR 60581), the second must be what rbd's
 * own forms write: "B" or "i" after a letter (10MB, 10Mi).
 */
static int unit_shift(const char *suffix)
{
	const char *letter;

	if (suffix[0] == '\0')
		return 20;
	if (strcmp(suffix, "B") == 0)
		return 0;
	letter = strchr(unit_letters, suffix[0]);
	if (!letter)
		return -1;
	if (suffix[1] == '\0' || strcmp(suffix + 1, "B") == 0 ||
	    strcmp(suffix + 1, "i") == 0)
		return (int)(letter - unit_letters + 1) * 10;
	return -1;
}

/* Whether suffix is a unit written as rbd does not read it, though its
 * meaning is plain: lower case (10g), or rbd info's own MiB (10MiB). */
static bool is_unit_rbd_refuses(const char *suffix)
{
	static const char *const rests[] = {"", "i", "B", "b", "iB", "ib", NULL};

	if (!suffix[0] || !strchr(unit_letters, toupper((unsigned char)suffix[0])))
		return false;
	for (const char *const *r = rests; *r; r++)
		if (strcmp(suffix + 1, *r) == 0)
			return true;
	return false;
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
	/* rbd makes an image of 0 bytes; a volume of none holds nothing */
	if (value == 0)
		return rc_error_usage(err, "size '%s' is zero", text);
	if (value > (UINT64_MAX >> 1) >> shift)
		goto too_big;
	*out = value << shift;
	return 0;
bad:
	if (p > text && is_unit_rbd_refuses(p))
		return rc_error_usage(err, "'%s' is not a size as rbd reads one: "
				      "write %.*s%c (units K, M, G, T, P, E in "
				      "upper case, B for bytes; a plain number "
				      "is MiB)", text, (int)(p - text), text,
				      toupper((unsigned char)*p));
	return rc_error_usage(err, "'%s' is not a size (examples: 64M, 10G, "
			      "1T, 4096B; a plain number is MiB, as for rbd)",
			      text);
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

void rc_size_format_human(uint64_t size, char buf[RC_SIZE_TEXT_MAX])
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB"};
	uint64_t scale = 1;
	int u = 0;
	size_t len;

	while (u < 6 && size / scale >= 1024) {
		scale *= 1024;
		u++;
	}
	if (size % scale == 0) {
		snprintf(buf, RC_SIZE_TEXT_MAX, "%llu %s",
			 (unsigned long long)(size / scale), units[u]);
		return;
	}
	snprintf(buf, RC_SIZE_TEXT_MAX, "%.2f", (double)size / (double)scale);
	/* 1.50 reads as 1.5, and 2.00 (a rounding of 1.999) as 2 */
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '0')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';
	snprintf(buf + len, RC_SIZE_TEXT_MAX - len, " %s", units[u]);
}
