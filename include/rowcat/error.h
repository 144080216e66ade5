/*
 * The one error convention of rowcat.
 *
 * Functions return 0 on success or a negative errno-style code, and on
 * failure leave one human-readable line in a struct rc_error that the caller
 * passes in. The CLI prints that line once, prefixed "rowcat: ", and picks
 * the exit status from it (see rc_error_is_unreachable and the usage flag).
 *
 * An error object never holds a stale code after success: a function that
 * returns 0 after tolerating a failure (an absent row, a pool that is
 * gone) clears what that failure recorded, with rc_error_clear. A debug
 * build of the CLI aborts when a command succeeds with a code still set.
 */
#ifndef ROWCAT_ERROR_H
#define ROWCAT_ERROR_H

#include <errno.h>
#include <stdbool.h>

#define RC_ERROR_MESSAGE_MAX 512

struct rc_error {
	int code;       /* negative errno-style code; 0 while no error is set */
	bool usage;     /* the caller's own input was wrong (CLI exit 2) */
	bool in_use;    /* refused because a client has the volume open
			   (CLI exit 3); see rc_error_in_use */
	bool config;    /* the client's own configuration must be fixed:
			   no ceph.conf, keyring or key (CLI exit 78);
			   see rc_error_config */
	bool denied;    /* librados or librbd refused a request (EPERM,
			   EACCES): the client's caps, not a rule of
			   rowcat's (rbdops_explain_failure names the cap) */
	char message[RC_ERROR_MESSAGE_MAX];
};

#define RC_PRINTF(fmt_index, first_arg) \
	__attribute__((format(printf, fmt_index, first_arg)))

/*
 * Records a failure with code (negative; a positive value is negated) and a
 * printf-style message, and returns the negative code so that callers can
 * write "return rc_error_set(err, -ENOENT, ...);".
 */
int rc_error_set(struct rc_error *err, int code, const char *fmt, ...)
	RC_PRINTF(3, 4);

/* Like rc_error_set with -EINVAL, and marks the error as bad user input. */
int rc_error_usage(struct rc_error *err, const char *fmt, ...) RC_PRINTF(2, 3);

/*
 * Like rc_error_set with RC_IN_USE, and marks the error as a refusal
 * because a client (a VM, any librbd user) has the volume open. The flag,
 * not the code, is what the CLI reads, so that no code Ceph returns can
 * pass for it; the code is not -EBUSY, which means "another rowcat is
 * working on it" (tried again later) wherever rowcat reads it.
 */
#define RC_IN_USE (-ETXTBSY)
int rc_error_in_use(struct rc_error *err, const char *fmt, ...) RC_PRINTF(2, 3);

/*
 * Like rc_error_set, and marks the error as one of the client's own
 * configuration (no ceph.conf, no keyring, a key the cluster refuses):
 * trying again will not help until an operator fixes it.
 */
int rc_error_config(struct rc_error *err, int code, const char *fmt, ...)
	RC_PRINTF(3, 4);

/*
 * Puts context in front of the message already recorded ("opening X: " +
 * message) and returns the recorded code.
 */
int rc_error_prefix(struct rc_error *err, const char *fmt, ...) RC_PRINTF(2, 3);

void rc_error_clear(struct rc_error *err);

/*
 * True when the code means the cluster did not answer in time or could not
 * be reached: the CLI exits 75 (EX_TEMPFAIL) for these, since retrying later
 * may succeed.
 */
bool rc_error_is_unreachable(const struct rc_error *err);

#endif
