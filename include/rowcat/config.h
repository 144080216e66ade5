/*
 * config/: rowcat's own configuration file, /etc/rowcat/rowcat.conf (or
 * $ROWCAT_CONFIG): settings that hold for every command on a host, read
 * after the command line and the environment, before the built-in
 * defaults. The format is ceph.conf's, without sections:
 *
 *     # where every host's rowcat finds the shared catalog
 *     catalog = rados://rbd/rowcat
 *
 * One `key = value` a line; blank lines, and lines whose first non-blank
 * character is '#' or ';', are comments, and so is the rest of a line from
 * a '#' or ';' that follows a blank. Every key is known: an unknown one is
 * an error, so that a typo is not silently a default. (The policy file,
 * rowcat/policy.h, is YAML: it is a document of nested lists. This is a
 * handful of words an operator sets once, as in ceph.conf beside it.)
 */
#ifndef ROWCAT_CONFIG_H
#define ROWCAT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "rowcat/error.h"

/* The longest value (a catalog path or location), with its NUL. */
#define CONFIG_VALUE_MAX 4096

struct config_file {
	/* the catalog: an absolute path, or rados://POOL[/NS]/NAME (checked
	 * when it is opened); "" when the file does not set it */
	char catalog[CONFIG_VALUE_MAX];
};

/*
 * Parses `text` (len bytes, NUL bytes refused), the contents of the file
 * `path`, into *out. A line that is not right fails with -EINVAL and err
 * holding one line naming it, "PATH:LINE: what is wrong", marked as a
 * configuration error (rc_error_config: rowcat exits 78). Pure: no I/O.
 */
int config_file_parse(struct config_file *out, const char *path,
		      const char *text, size_t len, struct rc_error *err);

/*
 * Reads and parses the file at path. A file that does not exist is no
 * file: *out is empty and *found false, unless `required` (a path the
 * operator named, $ROWCAT_CONFIG), when it is an error as any file that
 * cannot be read is: -errno, err naming the path, a configuration error.
 */
int config_file_load(struct config_file *out, const char *path, bool required,
		     bool *found, struct rc_error *err);

#endif
