/* Reading a policy file from disk, freeing it, and matching volumes. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rowcat/policy.h"

int policy_load(struct policy_file **out, const char *path,
		struct policy_diagnostics *diags, struct rc_error *err)
{
	struct policy_mark start = { 1, 1 };
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rc_error_set(err, -errno, "cannot read policy file %s: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = rc_error_set(err, -errno, "cannot read policy file %s: %s",
				  path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = rc_error_set(err, -EISDIR, "policy file %s is a directory",
				  path);
		goto out;
	}
	/* a FIFO or a device could block every run, or never end */
	if (!S_ISREG(st.st_mode)) {
		rc = rc_error_set(err, -EINVAL, "policy file %s is not a regular "
				  "file", path);
		goto out;
	}
	if (st.st_size > POLICY_FILE_MAX) {
		rc = policy_diagnostics_add(diags, start, false, "the file is %lld "
					    "bytes; a policy file may be at "
					    "most %d", (long long)st.st_size,
					    POLICY_FILE_MAX);
		rc = rc < 0 ? rc : -EINVAL;
		goto out;
	}
	/* one byte more than allowed, so that a file that grew since the
	 * fstat is seen */
	text = malloc(POLICY_FILE_MAX + 1);
	if (!text) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while (len <= POLICY_FILE_MAX &&
	       (n = read(fd, text + len, POLICY_FILE_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rc_error_set(err, -errno, "reading policy file %s: %s",
					  path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	rc = policy_parse(out, text, len, diags);
	if (rc == -ENOMEM)
		rc_error_set(err, rc, "out of memory reading %s", path);
out:
	free(text);
	close(fd);
	return rc;
}

void policy_file_free(struct policy_file *file)
{
	if (!file)
		return;
	for (size_t i = 0; i < file->policy_count; i++) {
		struct policy *p = &file->policies[i];

		for (size_t j = 0; j < p->pattern_count; j++)
			free(p->patterns[j].glob);
		free(p->patterns);
	}
	free(file->policies);
	free(file->cluster_conf);
	free(file->cluster_id);
	free(file);
}

bool policy_pattern_matches(const char *glob, const char *pool,
			    const char *ns, const char *volume)
{
	char spec[3 * RC_NAME_MAX + 3];

	if (ns && ns[0])
		snprintf(spec, sizeof(spec), "%s/%s/%s", pool, ns, volume);
	else
		snprintf(spec, sizeof(spec), "%s/%s", pool, volume);
	return fnmatch(glob, spec, FNM_PATHNAME) == 0;
}

const struct policy *policy_match(const struct policy_file *file,
				  const char *pool, const char *ns,
				  const char *volume)
{
	for (size_t i = 0; i < file->policy_count; i++) {
		const struct policy *p = &file->policies[i];

		for (size_t j = 0; j < p->pattern_count; j++) {
			if (policy_pattern_matches(p->patterns[j].glob, pool, ns,
						   volume))
				return p;
		}
	}
	return NULL;
}

void policy_origin(const struct policy *p, char buf[POLICY_ORIGIN_MAX])
{
	snprintf(buf, POLICY_ORIGIN_MAX, "policy:%s", p->name);
}
