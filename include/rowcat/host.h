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

#endif
