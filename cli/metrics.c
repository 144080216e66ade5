/* Prometheus text-format files, as node_exporter's textfile collector
 * reads them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/*
 * Written to a temporary file beside path, synced and renamed over it, so
 * that the collector never reads half a file.
 */
int cli_metrics_write(const char *path, const char *text, struct rc_error *err)
{
	char tmp[4096];
	FILE *out;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	out = fopen(tmp, "w");
	if (!out)
		return rc_error_set(err, -errno, "writing metrics to %s: %s", tmp,
				    strerror(errno));
	if (fputs(text, out) == EOF || fflush(out) != 0 ||
	    fsync(fileno(out)) != 0)
		rc = rc_error_set(err, -errno, "writing metrics to %s: %s", tmp,
				  strerror(errno));
	if (fclose(out) != 0 && rc == 0)
		rc = rc_error_set(err, -errno, "writing metrics to %s: %s", tmp,
				  strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = rc_error_set(err, -errno, "renaming %s to %s: %s", tmp, path,
				  strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

void cli_metric(FILE *out, const char *name, const char *help,
		const char *labels, double value)
{
	/* HELP and TYPE once per name: a call with labels after the first
	 * of its name passes help NULL */
	if (help)
		fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	if (value == (double)(long long)value)
		fprintf(out, "%s%s %lld\n", name, labels ? labels : "",
			(long long)value);
	else
		fprintf(out, "%s%s %.3f\n", name, labels ? labels : "", value);
}
