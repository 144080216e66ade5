/*
 * Names of volumes, images, snapshots, pools and namespaces, and image specs
 * written the way rbd writes them: POOL[/NAMESPACE]/NAME.
 *
 * Every name that comes from a user is checked here before it reaches the
 * catalog or the cluster, so one rule applies everywhere.
 */
#ifndef ROWCAT_NAMES_H
#define ROWCAT_NAMES_H

#include <stddef.h>

#include "rowcat/error.h"

/* A name is shorter than this many bytes (the terminating NUL fits). */
#define RC_NAME_MAX 256
/*
 * A volume's clones are named VOL.rcN, or VOL.rcN-K when an image that is
 * not rowcat's holds that name (N an operation id, at most 19 digits; K
 * from 2 to RC_CLONE_NAME_TRIES). A volume name leaves room for the
 * longest such suffix, ".rc" + 19 digits + "-100", so that every name its
 * clones can get is a valid name: 255 - 26 = 229 bytes.
 */
#define RC_CLONE_NAME_TRIES 100
#define RC_CLONE_SUFFIX_MAX 26
#define RC_VOLUME_NAME_MAX (RC_NAME_MAX - 1 - RC_CLONE_SUFFIX_MAX)
/* Longest "pool/ns/name" text plus its NUL. */
#define RC_SPEC_MAX (3 * RC_NAME_MAX)
/* librbd's image ids are a few hex digits; this leaves room to spare. */
#define RC_RBD_ID_MAX 64

struct rc_image_spec {
	char pool[RC_NAME_MAX];
	char ns[RC_NAME_MAX]; /* "" is the pool's default namespace */
	char name[RC_NAME_MAX];
};

/*
 * Checks one name: not empty, shorter than RC_NAME_MAX bytes, not starting
 * with '-', valid UTF-8, and free of '/', '@' and control characters (C0,
 * DEL and C1).
 * `what` names the kind of name in the message ("volume name"). Returns 0,
 * or a usage error.
 */
int rc_name_check(const char *what, const char *name, struct rc_error *err);

/*
 * Checks the name of a new volume: rc_name_check, and at most
 * RC_VOLUME_NAME_MAX bytes. (Volumes are looked up with rc_name_check
 * alone.)
 */
int rc_volume_name_check(const char *name, struct rc_error *err);

/*
 * Parses "POOL/NAME" or "POOL/NAMESPACE/NAME" into out, checking every part.
 * `what` names the last part ("volume name", "image name").
 */
int rc_image_spec_parse(struct rc_image_spec *out, const char *text,
			const char *what, struct rc_error *err);

/*
 * The length in bytes of the well-formed UTF-8 sequence that text starts
 * with (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF), or 0 when it starts with a byte that begins none, or with
 * the terminating NUL. Names must be UTF-8 so that JSON and terminals can
 * show them as they are.
 */
size_t rc_utf8_sequence_length(const char *text);

/* Writes "POOL[/NS]/NAME" into buf (RC_SPEC_MAX bytes always suffice). */
void rc_image_spec_format(const struct rc_image_spec *spec, char *buf,
			  size_t len);

#endif
