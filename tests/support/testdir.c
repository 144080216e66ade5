#include "testdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void testdir_make(struct testdir *dir)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir->path, sizeof(dir->path), "%s/rowcat-test-XXXXXX",
		 tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir->path)) {
		perror("mkdtemp");
		abort();
	}
}

void testdir_file(const struct testdir *dir, const char *name, char *buf,
		  size_t len)
{
	snprintf(buf, len, "%s/%s", dir->path, name);
}

void testdir_remove(struct testdir *dir)
{
	DIR *d = opendir(dir->path);
	struct dirent *e;
	char file[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir->path, e->d_name);
		if (unlink(file) != 0)
			rmdir(file);
	}
	closedir(d);
	rmdir(dir->path);
}
