#include "names.h"

#include <stdio.h>
#include <string.h>

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
	long control;

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
	control = find_control(name);
	if (control >= 0)
		return rc_error_usage(err,
			"%s contains a control character (byte 0x%02x at offset %ld)",
			what, (unsigned char)name[control], control);
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
