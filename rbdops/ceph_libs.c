/*
 * Loading librados and librbd on first use (see ceph_libs.h).
 *
 * The sonames come from the build (cmake/Dependencies.cmake reads them off
 * the libraries the headers came with): the versioned names the runtime
 * packages install, never the librbd.so of the -dev package.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#define RBDOPS_CEPH_LOADER
#include "ceph_libs.h"

#ifndef RBDOPS_LIBRADOS_SONAME
#error "the build defines RBDOPS_LIBRADOS_SONAME (librados.so.2)"
#endif
#ifndef RBDOPS_LIBRBD_SONAME
#error "the build defines RBDOPS_LIBRBD_SONAME (librbd.so.1)"
#endif

struct rbdops_ceph_calls rbdops_ceph;

/* resolve copies a function's address out of dlsym's void *, as POSIX
 * allows */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
	       "a function pointer is as wide as a void *");

/* One of Ceph's libraries, as a message names it. */
struct ceph_library {
	const char *soname;
	const char *what;    /* "librados" */
	const char *package; /* Debian's */
};

static const struct ceph_library librados = {
	RBDOPS_LIBRADOS_SONAME, "librados", "librados2"};
static const struct ceph_library librbd = {
	RBDOPS_LIBRBD_SONAME, "librbd", "librbd1"};

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static bool load_tried;
static struct rc_error load_err; /* how the one load ended */

/*
 * GLOBAL, as the dynamic linker loads a library the binary is linked
 * with: Ceph's own plugins (compressors, crypto), which libceph-common
 * dlopens later, and libcephsqlite find their symbols as they did then.
 * The handle is kept for the life of the process: Ceph's threads and
 * static destructors outlive any point where closing it would be safe.
 */
static int open_library(const struct ceph_library *lib, void **out,
			struct rc_error *err)
{
	const char *why;

	*out = dlopen(lib->soname, RTLD_LAZY | RTLD_GLOBAL);
	if (*out)
		return 0;
	why = dlerror();
	return rc_error_config(err, -ELIBACC, "Ceph's %s cannot be loaded "
			       "(Debian: apt-get install %s): %s", lib->what,
			       lib->package, why ? why : lib->soname);
}

/* Sets *entry (a function pointer of any type) to name's address in lib. */
static int resolve(const struct ceph_library *lib, void *handle,
		   const char *name, void *entry, size_t size,
		   struct rc_error *err)
{
	void *address;

	dlerror();
	address = dlsym(handle, name);
	if (!address)
		return rc_error_config(err, -ELIBBAD, "Ceph's %s (%s) has no "
				       "%s: it is older than the one rowcat "
				       "was built with (Debian package %s)",
				       lib->what, lib->soname, name,
				       lib->package);
	/* POSIX's dlsym gives a function as a void *; memcpy converts it
	 * without a cast ISO C leaves undefined */
	memcpy(entry, &address, size);
	return 0;
}

/* Fills rbdops_ceph, or leaves it empty and says why in err. */
static void load(struct rc_error *err)
{
	void *rados_handle = NULL, *rbd_handle = NULL;
	int rc;

	/* librados first: when it is missing, librbd (which needs it) would
	 * fail naming a library of another package */
	rc = open_library(&librados, &rados_handle, err);
	if (rc == 0)
		rc = open_library(&librbd, &rbd_handle, err);
	if (rc < 0)
		return;
#define RBDOPS_CEPH_RESOLVE(lib, handle, name)                              \
	if (rc == 0)                                                        \
		rc = resolve(&lib, handle, #name, &rbdops_ceph.name,        \
			     sizeof(rbdops_ceph.name), err);
#define RBDOPS_RADOS_RESOLVE(name) RBDOPS_CEPH_RESOLVE(librados, rados_handle, name)
#define RBDOPS_RBD_RESOLVE(name) RBDOPS_CEPH_RESOLVE(librbd, rbd_handle, name)
	RBDOPS_RADOS_CALLS(RBDOPS_RADOS_RESOLVE)
	RBDOPS_RBD_CALLS(RBDOPS_RBD_RESOLVE)
#undef RBDOPS_RBD_RESOLVE
#undef RBDOPS_RADOS_RESOLVE
#undef RBDOPS_CEPH_RESOLVE
	if (rc < 0)
		memset(&rbdops_ceph, 0, sizeof(rbdops_ceph));
}

int rbdops_ceph_load(struct rc_error *err)
{
	int rc;

	pthread_mutex_lock(&load_lock);
	if (!load_tried) {
		load_tried = true;
		load(&load_err);
	}
	rc = load_err.code;
	if (rc < 0)
		*err = load_err;
	pthread_mutex_unlock(&load_lock);
	return rc;
}
