/*
 * A catalog in RADOS: the rados://POOL[/NAMESPACE]/NAME location, and Ceph's
 * SQLite VFS (libcephsqlite), which keeps a database striped over RADOS
 * objects under one exclusive RADOS lock.
 *
 * The VFS is loaded with dlopen, not linked: its header is C++ (a class
 * CephContext *, [[gnu::]] attributes), a file catalog must work where the
 * package is not installed, and SQLite must call its init itself, so that
 * the extension gets SQLite's routine table (it calls SQLite only through
 * that table).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CEPH_VFS_LIBRARY "libcephsqlite.so"

typedef int (*ceph_vfs_init_fn)(sqlite3 *db, char **errmsg,
				const sqlite3_api_routines *api);
typedef int (*ceph_vfs_setcct_fn)(void *ceph_context, char **ident);

static pthread_mutex_t vfs_lock = PTHREAD_MUTEX_INITIALIZER;
static bool vfs_loaded;
static char vfs_client_addr[128];

bool catalog_path_is_rados(const char *path)
{
	return strncmp(path, CATALOG_RADOS_SCHEME,
		       strlen(CATALOG_RADOS_SCHEME)) == 0;
}

/* What the VFS's path parser takes in a pool, namespace or object name
 * (libcephsqlite's parsepath: [[:alnum:]-_.]). */
static bool vfs_name_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int catalog_rados_location_parse(const char *uri,
				 struct catalog_rados_location *out,
				 struct rc_error *err)
{
	const char *parts[3], *p;
	size_t lens[3], n = 1;

	memset(out, 0, sizeof(*out));
	if (!catalog_path_is_rados(uri))
		return rc_error_usage(err, "'%s' is not a rados:// catalog", uri);
	parts[0] = uri + strlen(CATALOG_RADOS_SCHEME);
	for (p = parts[0]; *p; p++) {
		if (*p != '/')
			continue;
		if (n == 3)
			return rc_error_usage(err, "catalog '%s': write "
					      "rados://POOL/NAME or "
					      "rados://POOL/NAMESPACE/NAME", uri);
		lens[n - 1] = (size_t)(p - parts[n - 1]);
		parts[n++] = p + 1;
	}
	lens[n - 1] = (size_t)(p - parts[n - 1]);
	if (n < 2)
		return rc_error_usage(err, "catalog '%s': write rados://POOL/NAME "
				      "or rados://POOL/NAMESPACE/NAME", uri);
	for (size_t i = 0; i < n; i++) {
		if (lens[i] == 0)
			return rc_error_usage(err, "catalog '%s': a part is empty; "
					      "write rados://POOL/NAME or "
					      "rados://POOL/NAMESPACE/NAME", uri);
		if (!vfs_name_ok(parts[i], lens[i]))
			return rc_error_usage(err, "catalog '%s': pool, namespace "
					      "and name may hold only letters, "
					      "digits, '-', '_' and '.' (what "
					      "Ceph's SQLite VFS accepts)", uri);
		if (lens[i] >= sizeof(out->name))
			return rc_error_usage(err, "catalog '%s': a part is longer "
					      "than %zu bytes", uri,
					      sizeof(out->name) - 1);
	}
	snprintf(out->pool, sizeof(out->pool), "%.*s", (int)lens[0], parts[0]);
	if (n == 3)
		snprintf(out->ns, sizeof(out->ns), "%.*s", (int)lens[1], parts[1]);
	snprintf(out->name, sizeof(out->name), "%.*s", (int)lens[n - 1],
		 parts[n - 1]);
	/* the VFS's own path: POOL:NAMESPACE/NAME */
	snprintf(out->vfs_path, sizeof(out->vfs_path), "%s:%s/%s", out->pool,
		 out->ns, out->name);
	return 0;
}

int catalog_ceph_vfs_load(void *ceph_context, struct rc_error *err)
{
	ceph_vfs_init_fn init;
	ceph_vfs_setcct_fn setcct;
	sqlite3 *probe = NULL;
	char *ident = NULL;
	void *lib;
	int rc = 0, r;

	pthread_mutex_lock(&vfs_lock);
	if (vfs_loaded)
		goto out;
	/* GLOBAL: the extension's own C++ runtime symbols resolve against
	 * the librados this process already has */
	lib = dlopen(CEPH_VFS_LIBRARY, RTLD_NOW | RTLD_GLOBAL);
	if (!lib) {
		rc = rc_error_set(err, -ENOENT, "a catalog in RADOS needs Ceph's "
				  "SQLite VFS, which is not installed (Debian: "
				  "apt-get install libsqlite3-mod-ceph): %s",
				  dlerror());
		goto out;
	}
	*(void **)&init = dlsym(lib, "sqlite3_cephsqlite_init");
	*(void **)&setcct = dlsym(lib, "cephsqlite_setcct");
	if (!init || !setcct) {
		rc = rc_error_set(err, -ENOENT, "%s lacks the entry points of "
				  "Ceph's SQLite VFS (sqlite3_cephsqlite_init, "
				  "cephsqlite_setcct)", CEPH_VFS_LIBRARY);
		goto out;
	}
	/* SQLite runs the init, with its routine table, on the next open:
	 * that open registers the VFS "ceph" for the whole process */
	r = sqlite3_auto_extension((void (*)(void))init);
	if (r == SQLITE_OK)
		r = sqlite3_open_v2(":memory:", &probe, SQLITE_OPEN_READWRITE,
				    NULL);
	sqlite3_close(probe);
	sqlite3_cancel_auto_extension((void (*)(void))init);
	if (r != SQLITE_OK || !sqlite3_vfs_find(CATALOG_CEPH_VFS)) {
		rc = rc_error_set(err, -EIO, "loading Ceph's SQLite VFS failed "
				  "(%s)", sqlite3_errstr(r));
		goto out;
	}
	/*
	 * Without its context the VFS would make one of its own from
	 * CEPH_ARGS as client.admin, and abort the process when that cannot
	 * connect. With ours it runs as a second client of the same identity
	 * (its own instance and address); it may be set only once.
	 */
	r = setcct(ceph_context, &ident);
	if (r < 0) {
		rc = rc_error_set(err, r, "Ceph's SQLite VFS could not connect "
				  "to the cluster: %s", strerror(-r));
		goto out;
	}
	snprintf(vfs_client_addr, sizeof(vfs_client_addr), "%s",
		 ident ? ident : "");
	vfs_loaded = true;
out:
	free(ident);
	pthread_mutex_unlock(&vfs_lock);
	return rc;
}

const char *catalog_ceph_vfs_client_addr(void)
{
	const char *addr;

	pthread_mutex_lock(&vfs_lock);
	addr = vfs_loaded ? vfs_client_addr : "";
	pthread_mutex_unlock(&vfs_lock);
	return addr;
}
