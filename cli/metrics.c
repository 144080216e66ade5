/* Prometheus text-format files, as node_exporter's textfile collector
 * reads them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rowcat/clock.h"

/*
 * Makes the rename of a file into the directory of path durable: the
 * directory is what records the new name. A file system that cannot sync
 * a directory (EINVAL) has nothing more to offer, and is not an error.
 */
static int sync_directory_of(const char *path, struct rc_error *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		size_t len = (size_t)(slash - path);

		if (len >= sizeof(dir))
			return rc_error_set(err, -ENAMETOOLONG, "syncing the "
					    "directory of %s: the path is too "
					    "long", path);
		memcpy(dir, path, len);
		dir[len] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rc_error_set(err, -errno, "writing metrics: syncing the "
				    "directory %s: %s", dir, strerror(errno));
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = rc_error_set(err, -errno, "writing metrics: syncing the "
				  "directory %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/*
 * Written to a temporary file beside path, synced and renamed over it, so
 * that the collector never reads half a file, and the directory synced
 * after the rename, so that a crash does not take the new file back. The
 * temporary file is made anew (O_EXCL, so neither a symbolic link nor a
 * file someone else planted at its name is ever written through), and is
 * 0644 whatever the umask: the collector runs as another user. A path too
 * long to take the temporary name's suffix is refused before anything is
 * written (cutting the name short would write somewhere else).
 */
int cli_metrics_write(const char *path, const char *text, struct rc_error *err)
{
	char tmp[4096];
	size_t len = strlen(text), done = 0;
	int fd, rc = 0, tmp_len;

	tmp_len = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (tmp_len < 0 || (size_t)tmp_len >= sizeof(tmp))
		return rc_error_set(err, -ENAMETOOLONG, "writing metrics: the "
				    "path is too long for the temporary file "
				    "beside it (PATH.tmp.%ld, %d bytes, at most "
				    "%zu): %s", (long)getpid(), tmp_len,
				    sizeof(tmp) - 1, path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return rc_error_set(err, -EEXIST, "writing metrics: %s already "
				    "exists (a link or a file rowcat did not "
				    "make); it is left alone", tmp);
	if (fd < 0)
		return rc_error_set(err, -errno, "writing metrics to %s: %s", tmp,
				    strerror(errno));
	if (fchmod(fd, 0644) != 0)
		rc = rc_error_set(err, -errno, "writing metrics to %s: %s", tmp,
				  strerror(errno));
	while (rc == 0 && done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = rc_error_set(err, -errno, "writing metrics to %s: %s",
					  tmp, strerror(errno));
		else
			done += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = rc_error_set(err, -errno, "writing metrics to %s: %s", tmp,
				  strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = rc_error_set(err, -errno, "writing metrics to %s: %s", tmp,
				  strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = rc_error_set(err, -errno, "renaming %s to %s: %s", tmp, path,
				  strerror(errno));
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return sync_directory_of(path, err);
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

int cli_metrics_begin(struct cli_metrics *m, const char *job,
		      const char *success_help, int64_t started_ms, bool ok,
		      struct rc_error *err)
{
	int64_t ended_ms = rc_wall_ms();
	char name[96], help[96];

	memset(m, 0, sizeof(*m));
	m->out = open_memstream(&m->text, &m->len);
	if (!m->out)
		return rc_error_set(err, -ENOMEM, "out of memory");
	snprintf(name, sizeof(name), "rowcat_%s_last_run_timestamp_seconds", job);
	snprintf(help, sizeof(help), "When the last rowcat %s run ended.", job);
	cli_metric(m->out, name, help, NULL, (double)ended_ms / 1000.0);
	snprintf(name, sizeof(name), "rowcat_%s_last_run_success", job);
	cli_metric(m->out, name, success_help, NULL, ok);
	snprintf(name, sizeof(name), "rowcat_%s_duration_seconds", job);
	cli_metric(m->out, name, "How long the last run took.", NULL,
		   (double)(ended_ms - started_ms) / 1000.0);
	return 0;
}

int cli_metrics_end(struct cli_metrics *m, const char *path,
		    struct rc_error *err)
{
	int rc = fclose(m->out) == 0 ? 0 : rc_error_set(err, -ENOMEM,
							"out of memory");

	if (rc == 0)
		rc = cli_metrics_write(path, m->text, err);
	free(m->text);
	memset(m, 0, sizeof(*m));
	return rc;
}

int cli_metrics_outcome(struct cli_ctx *ctx, int rc, int metrics_rc,
			const struct rc_error *metrics_err)
{
	if (metrics_rc == 0)
		return rc;
	if (rc < 0) {
		/* the run's own failure is the one to report */
		fprintf(stderr, "rowcat: %s\n", metrics_err->message);
		return rc;
	}
	ctx->err = *metrics_err;
	return metrics_rc;
}
