#include "rowcat/names.h"

#include <stdio.h>
#include <string.h>

size_t rc_utf8_sequence_length(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t more;

	if (p[0] < 0x80)
		return p[0] ? 1 : 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		more = 1;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		more = 2;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (p[0] == 0xed)
			hi = 0x9f; /* U+D800..U+DFFF, the surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		more = 3;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0; /* a continuation byte, 0xc0, 0xc1 or 0xf5.. */
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k <= more; k++)
		if (p[k] < 0x80 || p[k] > 0xbf)
			return 0;
	return 1 + more;
}

/* Returns the offset of the first byte of name that does not begin a
 * well-formed UTF-8 sequence, or -1. */
static long find_invalid_utf8(const char *name)
{
	long i = 0;

	while (name[i] != '\0') {
		size_t n = rc_utf8_sequence_length(name + i);

		if (n == 0)
			return i;
		i += (long)n;
	}
	return -1;
}

/* Returns the offset of the first control character in name, or -1. */
static long find_control(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	for (long i = 0; p[i] != '\0'; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return i;
		/* U+0080..U+009F are control characters too, in UTF-8 */
		if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return i;
	}
	return -1;
}

int rc_name_check(const char *what, const char *name, struct rc_error *err)
{
	size_t len = strlen(name);
	long bad;

	if (len == 0)
		return rc_error_usage(err, "%s is empty", what);
	if (len >= RC_NAME_MAX)
		return rc_error_usage(err, "%s is %zu bytes long; the limit is %d",
				      what, len, RC_NAME_MAX - 1);
	if (name[0] == '-')
		return rc_error_usage(err, "%s '%s' starts with '-'", what, name);
	if (strchr(name, '/'))
		return rc_error_usage(err, "%s '%s' contains '/'", what, name);
	if (strchr(name, '@'))
		return rc_error_usage(err, "%s '%s' contains '@'", what, name);
	bad = find_invalid_utf8(name);
	if (bad >= 0)
		return rc_error_usage(err,
			"%s is not valid UTF-8 (byte 0x%02x at offset %ld)",
			what, (unsigned char)name[bad], bad);
	bad = find_control(name);
	if (bad >= 0)
		return rc_error_usage(err,
			"%s contains a control character (byte 0x%02x at offset %ld)",
			what, (unsigned char)name[bad], bad);
	return 0;
}

int rc_volume_name_check(const char *name, struct rc_error *err)
{
	size_t len = strlen(name);
	int rc = rc_name_check("volume name", name, err);

	if (rc < 0)
		return rc;
	if (len > RC_VOLUME_NAME_MAX)
		return rc_error_usage(err, "volume name is %zu bytes long; the "
				      "limit is %d, so that its clones' names "
				      "(VOL.rcN-K) fit in %d", len,
				      RC_VOLUME_NAME_MAX, RC_NAME_MAX - 1);
	return 0;
}

/* Copies the n bytes at text into a name buffer and checks them. */
static int take_part(char out[RC_NAME_MAX], const char *text, size_t n,
		     const char *what, struct rc_error *err)
{
	char part[RC_SPEC_MAX];

	if (n >= sizeof(part))
		n = sizeof(part) - 1; /* too long either way; checked below */
	memcpy(part, text, n);
	part[n] = '\0';
	if (rc_name_check(what, part, err) < 0)
		return err->code;
	memcpy(out, part, n + 1);
	return 0;
}

int rc_image_spec_parse(struct rc_image_spec *out, const char *text,
			const char *what, struct rc_error *err)
{
	const char *first = strchr(text, '/');
	const char *last = strrchr(text, '/');
	const char *second;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!first)
		return rc_error_usage(err,
			"'%s' is not POOL/NAME or POOL/NAMESPACE/NAME", text);
	second = strchr(first + 1, '/');
	if (second && second != last)
		return rc_error_usage(err, "%s '%s' contains '/'", what,
				      second + 1);

	rc = take_part(out->pool, text, (size_t)(first - text), "pool name", err);
	if (rc < 0)
		return rc;
	if (second) {
		rc = take_part(out->ns, first + 1, (size_t)(second - first - 1),
			       "namespace name", err);
		if (rc < 0)
			return rc;
	}
	return take_part(out->name, last + 1, strlen(last + 1), what, err);
}

void rc_image_spec_format(const struct rc_image_spec *spec, char *buf,
			  size_t len)
{
	if (spec->ns[0])
		snprintf(buf, len, "%s/%s/%s", spec->pool, spec->ns, spec->name);
	else
		snprintf(buf, len, "%s/%s", spec->pool, spec->name);
}
