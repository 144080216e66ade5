/*
 * When a policy's next snapshot is due. `every` is elapsed time, so a 1d
 * policy stays 24 hours apart across a change of clocks; `cron` follows
 * the wall clock of the zone in use.
 */
#include <errno.h>
#include <stdint.h>

#include "rowcat/policy.h"

int64_t policy_every_slack(int64_t every)
{
	if (every <= 0)
		return 0;
	return every / 10 < 60 ? every / 10 : 60;
}

int policy_next_due(const struct policy *p, int64_t last, int64_t *due,
		    struct rc_error *err)
{
	int rc;

	if (last == 0) {
		*due = 0;
		return 0;
	}
	if (p->every > 0) {
		if (last > INT64_MAX - p->every)
			return rc_error_set(err, -ERANGE, "policy '%s': last "
					    "snapshot time %lld is out of "
					    "range", p->name, (long long)last);
		*due = last + p->every;
		return 0;
	}
	/* a cron with no minute never fires: a policy that was never parsed */
	if (!p->cron.minutes)
		return rc_error_set(err, -EINVAL, "policy '%s' has neither "
				    "every nor cron", p->name);
	rc = policy_cron_next(&p->cron, last, due, err);
	if (rc < 0)
		return rc_error_prefix(err, "policy '%s': ", p->name);
	return 0;
}

int policy_is_due(const struct policy *p, int64_t last, int64_t now,
		  bool *due, struct rc_error *err)
{
	int64_t when;
	int rc = policy_next_due(p, last, &when, err);

	if (rc < 0)
		return rc;
	if (last != 0 && p->every > 0)
		when -= policy_every_slack(p->every);
	*due = now >= when;
	return 0;
}
