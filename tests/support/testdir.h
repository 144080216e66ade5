/* A scratch directory per test, removed afterwards. */
#ifndef ROWCAT_TESTDIR_H
#define ROWCAT_TESTDIR_H

#include <stddef.h>

struct testdir {
	char path[256];
};

/* Creates a fresh directory under $TMPDIR (or /tmp); aborts on failure. */
void testdir_make(struct testdir *dir);

/* Writes dir/name into buf. */
void testdir_file(const struct testdir *dir, const char *name, char *buf,
		  size_t len);

/* Removes the directory and everything in it. */
void testdir_remove(struct testdir *dir);

#endif
