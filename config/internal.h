/* Private to config/. */
#ifndef ROWCAT_CONFIG_INTERNAL_H
#define ROWCAT_CONFIG_INTERNAL_H

#include "rowcat/error.h"

/*
 * Checks that name is "UTC" or an IANA zone installed under
 * /usr/share/zoneinfo ($TZDIR when set): a relative path of letters,
 * digits and "_+-/", no "..", naming a TZif file. The C library quietly
 * treats an unknown name as UTC, so this check is what keeps a typo from
 * shifting every bucket. Usage error naming the zone otherwise.
 */
int policy_zone_check(const char *name, struct rc_error *err);

#endif
