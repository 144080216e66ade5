/*
 * This host, as rowcat names it to other hosts that share a catalog: in a
 * claim's holder, beside a volume's consumer, in what a policy run takes.
 */
#ifndef ROWCAT_HOST_H
#define ROWCAT_HOST_H

#include <stddef.h>

#include "rowcat/names.h"

/* Longest host name, with its NUL (HOST_NAME_MAX is 64 on Linux; room for
 * an FQDN given in ROWCAT_HOST). */
#define RC_HOST_MAX 256

/*
 * $ROWCAT_HOST when set and not empty (containers whose host names are not
 * the hypervisor's, and tests that play several hosts on one machine),
 * else the kernel's host name (gethostname). Never empty: "localhost" when
 * neither says anything.
 */
void rc_host_name(char buf[RC_HOST_MAX]);

/* Longest user name rc_user_name writes, with its NUL (LOGIN_NAME_MAX is
 * 256 on Linux). */
#define RC_USER_MAX 256

/*
 * The login name of the process's real uid (getpwuid_r), as the journal
 * records who made a change: the person behind sudo stays root there, as
 * in the system's own logs. The uid in digits when the password database
 * has no entry for it (a container's arbitrary uid).
 */
void rc_user_name(char buf[RC_USER_MAX]);

#endif
