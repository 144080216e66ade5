/*
 * librados and librbd, loaded when a command first needs the cluster
 * (private to rbdops/).
 *
 * rowcat is not linked with Ceph's libraries: linked, they made every
 * start load librbd, librados and 25 more libraries under them, and run
 * their C++ initialisers (about 9 ms of a 9 ms `tree`), in commands that
 * only read the catalog (tree, ls, which, log, policy check) too.
 * rbdops_ceph_load opens them with dlopen and resolves every function
 * rbdops/ calls into the table rbdops_ceph, once per process.
 * rbdops_connect loads them before anything else, so every Ceph handle
 * (rados_t, and all that comes from one) exists only after a load that
 * succeeded; the only calls that need no handle are the version queries
 * (rbdops_library_versions loads first too).
 *
 * The code calls Ceph by Ceph's own names, against Ceph's own headers:
 * below the table, each name is a macro for its entry, and each entry's
 * type is __typeof__ the header's prototype, so the compiler checks every
 * call as it did when the calls went to the linked library. The lists
 * are the functions rbdops/ calls, by library. A function called but not
 * listed stays a call of the real symbol, which nothing links: the rowcat
 * binary fails to link. A listed function missing from a library is a
 * load failure that names it.
 */
#ifndef ROWCAT_RBDOPS_CEPH_LIBS_H
#define ROWCAT_RBDOPS_CEPH_LIBS_H

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "rowcat/error.h"

#define RBDOPS_RADOS_CALLS(X)                                           \
	X(rados_blocklist_add)                                          \
	X(rados_break_lock)                                             \
	X(rados_buffer_free)                                            \
	X(rados_cct)                                                    \
	X(rados_conf_get)                                               \
	X(rados_conf_parse_env)                                         \
	X(rados_conf_read_file)                                         \
	X(rados_conf_set)                                               \
	X(rados_connect)                                                \
	X(rados_create2)                                                \
	X(rados_create_read_op)                                         \
	X(rados_create_write_op)                                        \
	X(rados_decode_notify_response)                                 \
	X(rados_exec)                                                   \
	X(rados_free_notify_response)                                   \
	X(rados_get_instance_id)                                        \
	X(rados_getaddrs)                                               \
	X(rados_getxattr)                                               \
	X(rados_getxattrs)                                              \
	X(rados_getxattrs_end)                                          \
	X(rados_getxattrs_next)                                         \
	X(rados_ioctx_create)                                           \
	X(rados_ioctx_create2)                                          \
	X(rados_ioctx_destroy)                                          \
	X(rados_ioctx_get_id)                                           \
	X(rados_ioctx_set_namespace)                                    \
	X(rados_list_lockers)                                           \
	X(rados_lock_exclusive)                                         \
	X(rados_mon_command)                                            \
	X(rados_notify2)                                                \
	X(rados_omap_get_end)                                           \
	X(rados_omap_get_next2)                                         \
	X(rados_pool_lookup)                                            \
	X(rados_read)                                                   \
	X(rados_read_op_exec)                                           \
	X(rados_read_op_omap_get_vals2)                                 \
	X(rados_read_op_operate)                                        \
	X(rados_release_read_op)                                        \
	X(rados_release_write_op)                                       \
	X(rados_remove)                                                 \
	X(rados_shutdown)                                               \
	X(rados_stat)                                                   \
	X(rados_unlock)                                                 \
	X(rados_version)                                                \
	X(rados_write_op_assert_exists)                                 \
	X(rados_write_op_exec)                                          \
	X(rados_write_op_operate)                                       \
	X(rados_write_op_rmxattr)                                       \
	X(rados_write_op_setxattr)

#define RBDOPS_RBD_CALLS(X)                                             \
	X(rbd_clone3)                                                   \
	X(rbd_close)                                                    \
	X(rbd_create4)                                                  \
	X(rbd_diff_iterate2)                                            \
	X(rbd_flatten)                                                  \
	X(rbd_flatten_with_progress)                                    \
	X(rbd_get_create_timestamp)                                     \
	X(rbd_get_data_pool_id)                                         \
	X(rbd_get_features)                                             \
	X(rbd_get_flags)                                                \
	X(rbd_get_id)                                                   \
	X(rbd_get_overlap)                                              \
	X(rbd_get_parent)                                               \
	X(rbd_get_size)                                                 \
	X(rbd_image_options_create)                                     \
	X(rbd_image_options_destroy)                                    \
	X(rbd_image_options_set_uint64)                                 \
	X(rbd_image_spec_list_cleanup)                                  \
	X(rbd_linked_image_spec_cleanup)                                \
	X(rbd_linked_image_spec_list_cleanup)                           \
	X(rbd_list2)                                                    \
	X(rbd_list_children3)                                           \
	X(rbd_list_lockers)                                             \
	X(rbd_metadata_get)                                             \
	X(rbd_metadata_remove)                                          \
	X(rbd_metadata_set)                                             \
	X(rbd_migration_status)                                         \
	X(rbd_migration_status_cleanup)                                 \
	X(rbd_namespace_exists)                                         \
	X(rbd_open)                                                     \
	X(rbd_open_by_id)                                               \
	X(rbd_open_by_id_read_only)                                     \
	X(rbd_open_read_only)                                           \
	X(rbd_read)                                                     \
	X(rbd_rebuild_object_map)                                       \
	X(rbd_remove)                                                   \
	X(rbd_snap_create2)                                             \
	X(rbd_snap_exists)                                              \
	X(rbd_snap_get_namespace_type)                                  \
	X(rbd_snap_get_timestamp)                                       \
	X(rbd_snap_get_trash_namespace)                                 \
	X(rbd_snap_is_protected)                                        \
	X(rbd_snap_list)                                                \
	X(rbd_snap_list_end)                                            \
	X(rbd_snap_protect)                                             \
	X(rbd_snap_remove)                                              \
	X(rbd_snap_set)                                                 \
	X(rbd_snap_set_by_id)                                           \
	X(rbd_snap_spec_cleanup)                                        \
	X(rbd_snap_unprotect)                                           \
	X(rbd_stat)                                                     \
	X(rbd_trash_get)                                                \
	X(rbd_trash_get_cleanup)                                        \
	X(rbd_trash_list)                                               \
	X(rbd_trash_list_cleanup)                                       \
	X(rbd_trash_move)                                               \
	X(rbd_trash_remove)                                             \
	X(rbd_trash_restore)                                            \
	X(rbd_update_features)                                          \
	X(rbd_version)                                                  \
	X(rbd_watchers_list)                                            \
	X(rbd_watchers_list_cleanup)

/* One entry per function, of the type of its prototype in Ceph's header. */
struct rbdops_ceph_calls {
#define RBDOPS_CEPH_ENTRY(name) __typeof__(name) *name;
	RBDOPS_RADOS_CALLS(RBDOPS_CEPH_ENTRY)
	RBDOPS_RBD_CALLS(RBDOPS_CEPH_ENTRY)
#undef RBDOPS_CEPH_ENTRY
};

/* Filled by rbdops_ceph_load; read-only after it. */
extern struct rbdops_ceph_calls rbdops_ceph;

/*
 * Loads librados and librbd (their versioned sonames, as the packages
 * librados2 and librbd1 install them) and fills rbdops_ceph, the first
 * time; later calls return what the first did. Thread-safe. A library
 * that cannot be loaded, or lacks a function, is -ELIBACC or -ELIBBAD as
 * a configuration error (exit 78) whose message names the library, the
 * function and the Debian package; nothing else is changed.
 */
int rbdops_ceph_load(struct rc_error *err);

/* ceph_libs.c fills the table by these names, so it sees no macro. */
#ifndef RBDOPS_CEPH_LOADER
#define rados_blocklist_add (rbdops_ceph.rados_blocklist_add)
#define rados_break_lock (rbdops_ceph.rados_break_lock)
#define rados_buffer_free (rbdops_ceph.rados_buffer_free)
#define rados_cct (rbdops_ceph.rados_cct)
#define rados_conf_get (rbdops_ceph.rados_conf_get)
#define rados_conf_parse_env (rbdops_ceph.rados_conf_parse_env)
#define rados_conf_read_file (rbdops_ceph.rados_conf_read_file)
#define rados_conf_set (rbdops_ceph.rados_conf_set)
#define rados_connect (rbdops_ceph.rados_connect)
#define rados_create2 (rbdops_ceph.rados_create2)
#define rados_create_read_op (rbdops_ceph.rados_create_read_op)
#define rados_create_write_op (rbdops_ceph.rados_create_write_op)
#define rados_decode_notify_response (rbdops_ceph.rados_decode_notify_response)
#define rados_exec (rbdops_ceph.rados_exec)
#define rados_free_notify_response (rbdops_ceph.rados_free_notify_response)
#define rados_get_instance_id (rbdops_ceph.rados_get_instance_id)
#define rados_getaddrs (rbdops_ceph.rados_getaddrs)
#define rados_getxattr (rbdops_ceph.rados_getxattr)
#define rados_getxattrs (rbdops_ceph.rados_getxattrs)
#define rados_getxattrs_end (rbdops_ceph.rados_getxattrs_end)
#define rados_getxattrs_next (rbdops_ceph.rados_getxattrs_next)
#define rados_ioctx_create (rbdops_ceph.rados_ioctx_create)
#define rados_ioctx_create2 (rbdops_ceph.rados_ioctx_create2)
#define rados_ioctx_destroy (rbdops_ceph.rados_ioctx_destroy)
#define rados_ioctx_get_id (rbdops_ceph.rados_ioctx_get_id)
#define rados_ioctx_set_namespace (rbdops_ceph.rados_ioctx_set_namespace)
#define rados_list_lockers (rbdops_ceph.rados_list_lockers)
#define rados_lock_exclusive (rbdops_ceph.rados_lock_exclusive)
#define rados_mon_command (rbdops_ceph.rados_mon_command)
#define rados_notify2 (rbdops_ceph.rados_notify2)
#define rados_omap_get_end (rbdops_ceph.rados_omap_get_end)
#define rados_omap_get_next2 (rbdops_ceph.rados_omap_get_next2)
#define rados_pool_lookup (rbdops_ceph.rados_pool_lookup)
#define rados_read (rbdops_ceph.rados_read)
#define rados_read_op_exec (rbdops_ceph.rados_read_op_exec)
#define rados_read_op_omap_get_vals2 (rbdops_ceph.rados_read_op_omap_get_vals2)
#define rados_read_op_operate (rbdops_ceph.rados_read_op_operate)
#define rados_release_read_op (rbdops_ceph.rados_release_read_op)
#define rados_release_write_op (rbdops_ceph.rados_release_write_op)
#define rados_remove (rbdops_ceph.rados_remove)
#define rados_shutdown (rbdops_ceph.rados_shutdown)
#define rados_stat (rbdops_ceph.rados_stat)
#define rados_unlock (rbdops_ceph.rados_unlock)
#define rados_version (rbdops_ceph.rados_version)
#define rados_write_op_assert_exists (rbdops_ceph.rados_write_op_assert_exists)
#define rados_write_op_exec (rbdops_ceph.rados_write_op_exec)
#define rados_write_op_operate (rbdops_ceph.rados_write_op_operate)
#define rados_write_op_rmxattr (rbdops_ceph.rados_write_op_rmxattr)
#define rados_write_op_setxattr (rbdops_ceph.rados_write_op_setxattr)
#define rbd_clone3 (rbdops_ceph.rbd_clone3)
#define rbd_close (rbdops_ceph.rbd_close)
#define rbd_create4 (rbdops_ceph.rbd_create4)
#define rbd_diff_iterate2 (rbdops_ceph.rbd_diff_iterate2)
#define rbd_flatten (rbdops_ceph.rbd_flatten)
#define rbd_flatten_with_progress (rbdops_ceph.rbd_flatten_with_progress)
#define rbd_get_create_timestamp (rbdops_ceph.rbd_get_create_timestamp)
#define rbd_get_data_pool_id (rbdops_ceph.rbd_get_data_pool_id)
#define rbd_get_features (rbdops_ceph.rbd_get_features)
#define rbd_get_flags (rbdops_ceph.rbd_get_flags)
#define rbd_get_id (rbdops_ceph.rbd_get_id)
#define rbd_get_overlap (rbdops_ceph.rbd_get_overlap)
#define rbd_get_parent (rbdops_ceph.rbd_get_parent)
#define rbd_get_size (rbdops_ceph.rbd_get_size)
#define rbd_image_options_create (rbdops_ceph.rbd_image_options_create)
#define rbd_image_options_destroy (rbdops_ceph.rbd_image_options_destroy)
#define rbd_image_options_set_uint64 (rbdops_ceph.rbd_image_options_set_uint64)
#define rbd_image_spec_list_cleanup (rbdops_ceph.rbd_image_spec_list_cleanup)
#define rbd_linked_image_spec_cleanup (rbdops_ceph.rbd_linked_image_spec_cleanup)
#define rbd_linked_image_spec_list_cleanup (rbdops_ceph.rbd_linked_image_spec_list_cleanup)
#define rbd_list2 (rbdops_ceph.rbd_list2)
#define rbd_list_children3 (rbdops_ceph.rbd_list_children3)
#define rbd_list_lockers (rbdops_ceph.rbd_list_lockers)
#define rbd_metadata_get (rbdops_ceph.rbd_metadata_get)
#define rbd_metadata_remove (rbdops_ceph.rbd_metadata_remove)
#define rbd_metadata_set (rbdops_ceph.rbd_metadata_set)
#define rbd_migration_status (rbdops_ceph.rbd_migration_status)
#define rbd_migration_status_cleanup (rbdops_ceph.rbd_migration_status_cleanup)
#define rbd_namespace_exists (rbdops_ceph.rbd_namespace_exists)
#define rbd_open (rbdops_ceph.rbd_open)
#define rbd_open_by_id (rbdops_ceph.rbd_open_by_id)
#define rbd_open_by_id_read_only (rbdops_ceph.rbd_open_by_id_read_only)
#define rbd_open_read_only (rbdops_ceph.rbd_open_read_only)
#define rbd_read (rbdops_ceph.rbd_read)
#define rbd_rebuild_object_map (rbdops_ceph.rbd_rebuild_object_map)
#define rbd_remove (rbdops_ceph.rbd_remove)
#define rbd_snap_create2 (rbdops_ceph.rbd_snap_create2)
#define rbd_snap_exists (rbdops_ceph.rbd_snap_exists)
#define rbd_snap_get_namespace_type (rbdops_ceph.rbd_snap_get_namespace_type)
#define rbd_snap_get_timestamp (rbdops_ceph.rbd_snap_get_timestamp)
#define rbd_snap_get_trash_namespace (rbdops_ceph.rbd_snap_get_trash_namespace)
#define rbd_snap_is_protected (rbdops_ceph.rbd_snap_is_protected)
#define rbd_snap_list (rbdops_ceph.rbd_snap_list)
#define rbd_snap_list_end (rbdops_ceph.rbd_snap_list_end)
#define rbd_snap_protect (rbdops_ceph.rbd_snap_protect)
#define rbd_snap_remove (rbdops_ceph.rbd_snap_remove)
#define rbd_snap_set (rbdops_ceph.rbd_snap_set)
#define rbd_snap_set_by_id (rbdops_ceph.rbd_snap_set_by_id)
#define rbd_snap_spec_cleanup (rbdops_ceph.rbd_snap_spec_cleanup)
#define rbd_snap_unprotect (rbdops_ceph.rbd_snap_unprotect)
#define rbd_stat (rbdops_ceph.rbd_stat)
#define rbd_trash_get (rbdops_ceph.rbd_trash_get)
#define rbd_trash_get_cleanup (rbdops_ceph.rbd_trash_get_cleanup)
#define rbd_trash_list (rbdops_ceph.rbd_trash_list)
#define rbd_trash_list_cleanup (rbdops_ceph.rbd_trash_list_cleanup)
#define rbd_trash_move (rbdops_ceph.rbd_trash_move)
#define rbd_trash_remove (rbdops_ceph.rbd_trash_remove)
#define rbd_trash_restore (rbdops_ceph.rbd_trash_restore)
#define rbd_update_features (rbdops_ceph.rbd_update_features)
#define rbd_version (rbdops_ceph.rbd_version)
#define rbd_watchers_list (rbdops_ceph.rbd_watchers_list)
#define rbd_watchers_list_cleanup (rbdops_ceph.rbd_watchers_list_cleanup)
#endif

#endif
