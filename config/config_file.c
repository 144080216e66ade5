/* rowcat.conf: `key = value` lines, as ceph.conf writes them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rowcat/config.h"

/* A configuration file is a few lines; this bounds a wrong path's cost
 * (a disk image named by mistake). */
#define CONFIG_FILE_MAX (64 * 1024)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The line's text without its comment and surrounding blanks: [*start,
 * *end). A comment starts at a '#' or ';' that begins the text or follows
 * a blank, so that a value may hold either (a path such as /a#b). */
static void strip(const char *line, size_t len, size_t *start, size_t *end)
{
	size_t b = 0, e;

	while (b < len && is_blank(line[b]))
		b++;
	for (e = b; e < len; e++) {
		if ((line[e] == '#' || line[e] == ';') &&
		    (e == b || is_blank(line[e - 1])))
			break;
	}
	while (e > b && is_blank(line[e - 1]))
		e--;
	*start = b;
	*end = e;
}

/* One `key = value` line (already stripped, not empty). */
static int parse_line(struct config_file *out, const char *path, int lineno,
		      const char *text, size_t len, int *catalog_line,
		      struct rc_error *err)
{
	const char *eq = memchr(text, '=', len);
	size_t key_len, value_len;
	const char *value;

	if (!eq)
		return rc_error_config(err, -EINVAL, "%s:%d: expected 'key = "
				       "value', not '%.*s'", path, lineno,
				       (int)(len > 64 ? 64 : len), text);
	key_len = (size_t)(eq - text);
	while (key_len && is_blank(text[key_len - 1]))
		key_len--;
	value = eq + 1;
	while (value < text + len && is_blank(*value))
		value++;
	value_len = (size_t)(text + len - value);
	if (key_len == 0)
		return rc_error_config(err, -EINVAL, "%s:%d: a value without a "
				       "key", path, lineno);
	if (key_len != strlen("catalog") || memcmp(text, "catalog", key_len))
		return rc_error_config(err, -EINVAL, "%s:%d: unknown key '%.*s' "
				       "(the only key is 'catalog')", path,
				       lineno, (int)(key_len > 64 ? 64 : key_len),
				       text);
	if (*catalog_line)
		return rc_error_config(err, -EINVAL, "%s:%d: catalog is set "
				       "twice (first on line %d)", path, lineno,
				       *catalog_line);
	if (value_len == 0)
		return rc_error_config(err, -EINVAL, "%s:%d: catalog: no value",
				       path, lineno);
	if (value_len >= sizeof(out->catalog))
		return rc_error_config(err, -EINVAL, "%s:%d: catalog: longer "
				       "than %zu bytes", path, lineno,
				       sizeof(out->catalog) - 1);
	/* relative to what? every command runs from a directory of its own */
	if (value[0] != '/' && strncmp(value, "rados://", 8) != 0)
		return rc_error_config(err, -EINVAL, "%s:%d: catalog: '%.*s' is "
				       "neither an absolute path nor "
				       "rados://POOL[/NAMESPACE]/NAME", path,
				       lineno, (int)(value_len > 128 ? 128
						     : value_len), value);
	memcpy(out->catalog, value, value_len);
	out->catalog[value_len] = '\0';
	*catalog_line = lineno;
	return 0;
}

int config_file_parse(struct config_file *out, const char *path,
		      const char *text, size_t len, struct rc_error *err)
{
	int lineno = 0, catalog_line = 0, rc = 0;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return rc_error_config(err, -EINVAL, "%s: not a text file (it "
				       "holds a NUL byte)", path);
	while (rc == 0 && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
		size_t start, end;

		lineno++;
		strip(text + pos, line_len, &start, &end);
		if (end > start)
			rc = parse_line(out, path, lineno, text + pos + start,
					end - start, &catalog_line, err);
		pos += line_len + 1;
	}
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int config_file_load(struct config_file *out, const char *path, bool required,
		     bool *found, struct rc_error *err)
{
	char *text = NULL;
	struct stat st;
	ssize_t n = 0;
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	*found = false;
	/* non-blocking: a FIFO named by mistake is refused, not waited on */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !required)
		return 0;
	if (fd < 0)
		return rc_error_config(err, -errno, "cannot read %s: %s", path,
				       strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = rc_error_config(err, -errno, "cannot read %s: %s", path,
				     strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = rc_error_config(err, -EINVAL, "%s is not a file", path);
		goto out;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		rc = rc_error_config(err, -EFBIG, "%s: larger than %d bytes; is "
				     "it rowcat's configuration?", path,
				     CONFIG_FILE_MAX);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t got = 0; got < (size_t)st.st_size; got += (size_t)n) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0) {
			rc = rc_error_config(err, -errno, "cannot read %s: %s",
					     path, strerror(errno));
			goto out;
		}
		if (n == 0) {
			st.st_size = (off_t)got; /* shrank while read */
			break;
		}
	}
	rc = config_file_parse(out, path, text, (size_t)st.st_size, err);
	*found = rc == 0;
out:
	free(text);
	close(fd);
	return rc;
}
