#include "rowcat/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* What kind of failure an error is: the flags a caller branches on. */
enum kind { KIND_PLAIN, KIND_USAGE, KIND_IN_USE, KIND_CONFIG };

static int record(struct rc_error *err, int code, enum kind kind,
		  const char *fmt, va_list ap) RC_PRINTF(4, 0);

/* A new error replaces the last one whole: message, code and kind. */
static int record(struct rc_error *err, int code, enum kind kind,
		  const char *fmt, va_list ap)
{
	if (code > 0)
		code = -code;
	if (code == 0)
		code = -EIO;
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	err->usage = kind == KIND_USAGE;
	err->in_use = kind == KIND_IN_USE;
	err->config = kind == KIND_CONFIG;
	err->denied = false;
	return code;
}

int rc_error_set(struct rc_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = record(err, code, KIND_PLAIN, fmt, ap);
	va_end(ap);
	return code;
}

int rc_error_config(struct rc_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = record(err, code, KIND_CONFIG, fmt, ap);
	va_end(ap);
	return code;
}

int rc_error_usage(struct rc_error *err, const char *fmt, ...)
{
	va_list ap;
	int code;
	va_start(ap, fmt);
	code = record(err, -EINVAL, KIND_USAGE, fmt, ap);
	va_end(ap);
	return code;
}

int rc_error_in_use(struct rc_error *err, const char *fmt, ...)
{
	va_list ap;
	int code;
	va_start(ap, fmt);
	code = record(err, RC_IN_USE, KIND_IN_USE, fmt, ap);
	va_end(ap);
	return code;
}

int rc_error_prefix(struct rc_error *err, const char *fmt, ...)
{
	char joined[RC_ERROR_MESSAGE_MAX];
	size_t used, room;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(joined, sizeof(joined), fmt, ap);
	va_end(ap);
	/* The message is cut, not the prefix, when both do not fit. */
	used = strlen(joined);
	room = sizeof(joined) - used - 1;
	strncat(joined, err->message, room);
	memcpy(err->message, joined, sizeof(joined));
	return err->code;
}

void rc_error_clear(struct rc_error *err)
{
	err->code = 0;
	err->usage = false;
	err->in_use = false;
	err->config = false;
	err->denied = false;
	err->message[0] = '\0';
}

bool rc_error_is_unreachable(const struct rc_error *err)
{
	switch (-err->code) {
	case ETIMEDOUT:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENOTCONN:
	case ESHUTDOWN:
		return true;
	default:
		return false;
	}
}
