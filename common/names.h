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

#include "error.h"

/* A name is shorter than this many bytes (the terminating NUL fits). */
#define RC_NAME_MAX 256
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
 * with '-', and free of '/', '@' and control characters (C0, DEL and C1).
 * `what` names the kind of name in the message ("volume name"). Returns 0,
 * or a usage error.
 */
int rc_name_check(const char *what, const char *name, struct rc_error *err);

/*
 * Parses "POOL/NAME" or "POOL/NAMESPACE/NAME" into out, checking every part.
 * `what` names the last part ("volume name", "image name").
 */
int rc_image_spec_parse(struct rc_image_spec *out, const char *text,
			const char *what, struct rc_error *err);

/* Writes "POOL[/NS]/NAME" into buf (RC_SPEC_MAX bytes always suffice). */
void rc_image_spec_format(const struct rc_image_spec *spec, char *buf,
			  size_t len);

#endif
