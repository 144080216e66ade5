/*
 * rbdops: the thin Ceph layer. Every librados and librbd call rowcat makes
 * is here, with its error mapped to one message: connecting, opening
 * images, snapshots, clones, flatten, the trash, object maps. Each call is
 * one idempotent step that looks first, so an operation that repeats it
 * after a crash finds its own work done. It knows nothing of the catalog
 * or of operations (include/rowcat/ops.h puts the steps together).
 *
 * A struct rbd_conn is one connected client. It is made the way Ceph's own
 * tools make theirs (ceph.conf found as librados finds it, CEPH_ARGS,
 * --id/--name/--cluster/--conf) and always with client timeouts, so an
 * unreachable cluster is an error within the timeout, never a hang.
 * This module knows nothing of command lines beyond Ceph's own conventions.
 */
#ifndef ROWCAT_RBDOPS_H
#define ROWCAT_RBDOPS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rowcat/error.h"
#include "rowcat/names.h"

/* Every image rowcat creates or clones has exactly these features. */
#define RBDOPS_IMAGE_FEATURES_TEXT \
	"layering, exclusive-lock, object-map, fast-diff, deep-flatten"

/*
 * Seconds that connecting, and then each monitor or OSD request, may take
 * before rowcat gives up (exit 75). It is a bound on one request, never on
 * a whole command, so it must cover what a healthy but busy cluster does:
 * Ceph itself reports an OSD request as merely slow at 30 s
 * (osd_op_complaint_time), and a request waits out the detection of a dead
 * OSD (osd_heartbeat_grace, 20 s) and the peering after it, or a monitor
 * election. 30 s, the old default, ended a `check` on a loaded test
 * machine; Ceph's own clients wait 300 s to connect and forever on a
 * request. --timeout (or the policy file's cluster timeout) sets all three.
 */
#define RBDOPS_DEFAULT_TIMEOUT 120

/*
 * The longest parent chain the kernel's rbd client (krbd) maps: Linux's
 * drivers/block/rbd.c has `#define RBD_MAX_PARENT_CHAIN_LEN 16`, and
 * rbd_dev_probe_parent() refuses an image once `++depth >
 * RBD_MAX_PARENT_CHAIN_LEN` ("parent chain is too long"), so an image that
 * reads through 16 clone levels maps and one through 17 does not. librbd
 * (QEMU, rbd-nbd) has no such limit. snap and restore warn from
 * RBDOPS_KRBD_DEPTH_WARN on, so that a flatten comes before a map fails.
 */
#define RBDOPS_KRBD_MAX_PARENT_CHAIN 16
#define RBDOPS_KRBD_DEPTH_WARN (RBDOPS_KRBD_MAX_PARENT_CHAIN - 4)

struct rbd_conn;

/*
 * How to reach the cluster. NULL members fall back to CEPH_ARGS and then to
 * Ceph's defaults (cluster "ceph", client.admin, the usual ceph.conf search).
 */
struct rbdops_conn_options {
	const char *conf;     /* -c/--conf: the ceph.conf to read */
	const char *cluster;  /* --cluster */
	const char *id;       /* --id/--user: the client is client.ID */
	const char *name;     /* -n/--name: the full entity name */
	const char *keyring;  /* -k/--keyring */
	const char *mon_host; /* -m/--mon-host */
	int timeout_seconds;  /* 0 means RBDOPS_DEFAULT_TIMEOUT */
};

/*
 * Connects to the cluster. On success *out is the caller's, to be released
 * with rbdops_disconnect. A cluster that does not answer within the timeout
 * is -ETIMEDOUT (see rc_error_is_unreachable). The first connection of a
 * process loads librados and librbd, which rowcat is not linked with (a
 * command that never connects never loads them): when one cannot be
 * loaded, or lacks a function rowcat calls, the result is a configuration
 * error (-ELIBACC, -ELIBBAD; exit 78) naming the library and its Debian
 * package.
 */
int rbdops_connect(struct rbd_conn **out, const struct rbdops_conn_options *opts,
		   struct rc_error *err);

/* Disconnects; NULL is fine. */
void rbdops_disconnect(struct rbd_conn *conn);

/*
 * The connection's CephContext (librados' rados_cct), opaque: for a library
 * that makes its own client from the same configuration and identity, as
 * Ceph's SQLite VFS does. Valid while conn is connected.
 */
void *rbdops_ceph_context(struct rbd_conn *conn);

/* Longest text rbdops_library_versions writes, with its NUL. */
#define RBDOPS_VERSION_TEXT_MAX 32

/* The versions of the librbd and librados this process runs with (not
 * the ones it was built against), as they report them (rbd_version,
 * rados_version): "MAJOR.MINOR.EXTRA", their API versions, which a Ceph
 * release raises when it changes the API. Loads them, as rbdops_connect
 * does, with its errors. */
int rbdops_library_versions(char librbd[RBDOPS_VERSION_TEXT_MAX],
			    char librados[RBDOPS_VERSION_TEXT_MAX],
			    struct rc_error *err);

/* Checks that pool exists and, when ns is not "", that the RBD namespace
 * does too. -ENODEV for a missing pool, -ENOENT for a missing namespace,
 * with a message naming it. */
int rbdops_pool_check(struct rbd_conn *conn, const char *pool, const char *ns,
		      struct rc_error *err);

/* Sets *exists to whether an image named by spec exists on the cluster.
 * A pool that does not exist is an error (-ENODEV), not a missing image:
 * a renamed pool still holds its images. */
int rbdops_image_exists(struct rbd_conn *conn, const struct rc_image_spec *spec,
			bool *exists, struct rc_error *err);

/*
 * The most objects an image with an object map may have: Ceph's
 * cls::rbd::MAX_OBJECT_MAP_OBJECT_COUNT (src/cls/rbd/cls_rbd_types.h),
 * which librbd checks when it creates or resizes one.
 */
#define RBDOPS_OBJECT_MAP_MAX_OBJECTS 256000000ULL

/*
 * A usage error when an image of `size` bytes, with the object size this
 * client creates images with (rbd_default_order), would have more objects
 * than RBDOPS_OBJECT_MAP_MAX_OBJECTS: refused before anything is
 * journalled, rather than by librbd after.
 */
int rbdops_image_size_check(struct rbd_conn *conn, uint64_t size,
			    struct rc_error *err);

/*
 * Creates an image of `size` bytes with RBDOPS_IMAGE_FEATURES_TEXT.
 * -EEXIST when an image of that name exists already.
 */
int rbdops_image_create(struct rbd_conn *conn, const struct rc_image_spec *spec,
			uint64_t size, struct rc_error *err);

/* The image metadata key that names the operation which made an image. */
#define RBDOPS_OWNER_KEY "rowcat.operation"

/* Sets image metadata key = value on the image at spec. */
int rbdops_image_set_meta(struct rbd_conn *conn, const struct rc_image_spec *spec,
			  const char *key, const char *value,
			  struct rc_error *err);
/*
 * rbdops_image_set_meta for an image nobody reads the key of but rowcat
 * (a new clone's tag), written on its header object without opening the
 * image (an open reads its whole parent chain). A client that has it open
 * is not told (librbd notifies them). Falls back to
 * rbdops_image_set_meta, through an open, for whatever the header does
 * not take (a format-1 image, none at spec), which words any failure.
 */
int rbdops_image_tag_unopened(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      const char *key, const char *value,
			      struct rc_error *err);

/*
 * What the header of the image at spec says, read with two object class
 * calls on it instead of an open (which opens the whole parent chain,
 * level by level): its id, pool id and namespace, its parent link (pool
 * id, namespace, image id, snapshot id), and its snapshots as
 * rbdops_snapshot_list has them, with their ids, in the order of their
 * ids, and its features. -EOPNOTSUPP when it cannot tell for sure (no format-2 image of
 * that name, a format-1 or migrating image, a parent link kept for
 * snapshots only, a snapshot removed meanwhile): the caller opens the
 * image instead. Free with rbdops_header_free (also after a failure).
 */
struct rbdops_header {
	char id[RC_RBD_ID_MAX];
	int64_t pool_id;
	char ns[RC_NAME_MAX];
	uint64_t features;  /* RBD_FEATURE_* */
	bool has_parent;
	int64_t parent_pool_id;
	char parent_ns[RC_NAME_MAX];
	char parent_id[RC_RBD_ID_MAX];
	uint64_t parent_snap_id;
	struct rbdops_snapshot *snapshots;
	size_t snapshot_count;
};
int rbdops_header_read(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_header *out, struct rc_error *err);
void rbdops_header_free(struct rbdops_header *header);
/* Whether child (as read above) is a clone of parent's snapshot snap. */
bool rbdops_header_parent_is(const struct rbdops_header *child,
			     const struct rbdops_header *parent,
			     const char *snap);

/*
 * What recovery needs to know of an image it may have made: whether it
 * exists (its pool missing is -ENODEV, as for rbdops_image_exists) and its
 * RBDOPS_OWNER_KEY metadata ("" when unset). Not its creation time:
 * ownership is never decided by comparing the cluster's clock with ours.
 */
struct rbdops_image_facts {
	bool exists;
	char owner[128];
};
int rbdops_image_facts(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_image_facts *out, struct rc_error *err);

/*
 * Says so when a failure is a full pool or cluster. Ceph holds the writes
 * to a full pool until space is freed, so librbd reports a timeout: when
 * err is -ETIMEDOUT (or -ENOSPC, -EDQUOT), this asks the monitors for the
 * OSD map and, if pool is full, puts "pool 'P' is full: its quota is
 * reached" (-EDQUOT) or "the cluster is full" (-ENOSPC) before the
 * message. Neither is rc_error_is_unreachable: waiting alone does not
 * cure them (exit 1, not 75). Anything else, or a monitor that does not
 * answer either, leaves err as it was. Returns err->code.
 */
int rbdops_explain_full(struct rbd_conn *conn, const char *pool,
			struct rc_error *err);

/*
 * Says what a failure of an operation on pool (and namespace ns, "" or
 * NULL for none) means when the code alone does not: a full pool or
 * cluster (rbdops_explain_full), or, for a request that librados or
 * librbd refused (err->denied: EPERM, EACCES), which cap the client lacks
 * on that pool ("client.X has no cap on pool 'P'; rowcat needs osd
 * 'profile rbd pool=P' ..." after the message), found by one read of the
 * pool. Returns err->code.
 */
int rbdops_explain_failure(struct rbd_conn *conn, const char *pool,
			   const char *ns, struct rc_error *err);


/*
 * What every step answers when the pool does not exist: not -ENOENT, which
 * the steps read as "the image (or snapshot) is not there" and so as done.
 * A pool that was renamed still holds its images, and one that was
 * deleted is not for gc to settle silently.
 */
#define RBDOPS_NO_POOL (-ENODEV)

/*
 * Whether an image holds spec's name even though it cannot be opened: a
 * create or clone killed inside librbd after it wrote the image's id
 * object and directory entry but before its header. `rbd ls` lists such an
 * image, and rbd_remove removes it; creating at its name says EEXIST.
 */
int rbdops_image_name_taken(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, bool *taken,
			    struct rc_error *err);

/* The names of the images in pool/ns, for the caller to free with
 * rbdops_names_free. */
int rbdops_image_list(struct rbd_conn *conn, const char *pool, const char *ns,
		      char ***names, size_t *count, struct rc_error *err);
void rbdops_names_free(char **names, size_t count);

/* ---- what an image is, as adopt finds it (inspect.c) ---- */

/* The namespace a snapshot is in (librbd's rbd_snap_namespace_type_t). */
enum rbdops_snap_kind {
	RBDOPS_SNAP_USER,   /* an ordinary snapshot, `rbd snap ls` lists it */
	RBDOPS_SNAP_TRASH,  /* removed while clones still read it (clone
			       v2): its name is librbd's, and Ceph removes it
			       when its last clone goes */
	RBDOPS_SNAP_OTHER,  /* a group's or mirroring's */
};

struct rbdops_snap_desc {
	uint64_t id;
	char name[RC_NAME_MAX];          /* its name on the cluster */
	enum rbdops_snap_kind kind;
	char original_name[RC_NAME_MAX]; /* RBDOPS_SNAP_TRASH: the name it
					    had before it was removed */
	bool is_protected;
	int64_t created_at;              /* rbd_snap_get_timestamp */
};

/* The parent of an image, as rbd_get_parent gives it. */
struct rbdops_parent_desc {
	bool has_parent;
	struct rc_image_spec image;
	char image_id[RC_RBD_ID_MAX];
	bool image_in_trash;            /* the parent image is in the trash */
	uint64_t snap_id;
	char snap_name[RC_NAME_MAX];
	enum rbdops_snap_kind snap_kind;
};

/* What adopt records of an image, and what would make it refuse one. */
struct rbdops_image_desc {
	struct rc_image_spec spec;
	char id[RC_RBD_ID_MAX];
	uint64_t size;
	int64_t created_at;             /* rbd_get_create_timestamp */
	char owner[128];                /* RBDOPS_OWNER_KEY; "" unset */
	struct rbdops_parent_desc parent;
	struct rbdops_snap_desc *snapshots; /* every namespace's */
	size_t snapshot_count;
	/* rbd_migration_status: "" none, else the state's name */
	char migration[32];
	/* a task the mgr's rbd_support module has queued for the image
	 * (`ceph rbd task add flatten ...`; its queue lives in the object
	 * rbd_task of the image's pool and namespace): its action
	 * ("flatten", "remove", "migrate execute", ...); "" none */
	char task[32];
};

/*
 * Reads what adopt needs of the image at spec, opened read-only. -ENOENT,
 * with a message, when no image has that name (see rbdops_trash_find for
 * one in the trash); RBDOPS_NO_POOL. Only reads. Free with
 * rbdops_image_desc_free, also after a failure.
 */
int rbdops_image_describe(struct rbd_conn *conn,
			  const struct rc_image_spec *spec,
			  struct rbdops_image_desc *out, struct rc_error *err);
void rbdops_image_desc_free(struct rbdops_image_desc *desc);

/*
 * The names of the images in the trash of pool/ns (rbd_trash_list: the
 * names they had), for the caller to free with rbdops_names_free.
 */
int rbdops_trash_names(struct rbd_conn *conn, const char *pool, const char *ns,
		       char ***names, size_t *count, struct rc_error *err);

/* ---- who has an image open (clients.c) ---- */

#define RBDOPS_ENTITY_MAX 64
#define RBDOPS_ADDR_MAX 128

/* One client of an image, as `rbd status` names it. */
struct rbdops_client {
	char entity[RBDOPS_ENTITY_MAX]; /* "client.4449"; "" unknown */
	char addr[RBDOPS_ADDR_MAX];     /* "127.0.0.1:0/1256915530" */
	bool watching;    /* watches the image: has it open (a client killed
			     keeps its watch for about 30 s) */
	bool lock_owner;  /* owns its exclusive lock. Without a watch it is
			     dead or cut off from the cluster, and the next
			     client to take the lock (a snapshot create does)
			     blocklists it and breaks the lock */
};

/* A list of clients; {0} is empty. Free with rbdops_clients_free. */
struct rbdops_clients {
	struct rbdops_client *items;
	size_t count, capacity;
};

/*
 * The clients of the image at spec: its watchers and the owner of its
 * exclusive lock, one entry per client (a watcher that owns the lock is
 * one client with both flags), without this connection's own. *out is
 * the caller's, to be freed with rbdops_clients_free, also after a
 * failure. Only reads. The header's watchers are asked first, without an
 * open (a notify, which each of them answers): when none but this
 * connection answers, the list is empty and the image is not opened (a
 * lock owner without a watch, dead or cut off, is then not listed).
 * Otherwise the image is opened read-only, which adds no watch.
 */
int rbdops_image_clients(struct rbd_conn *conn,
			 const struct rc_image_spec *spec,
			 struct rbdops_clients *out, struct rc_error *err);
void rbdops_clients_free(struct rbdops_clients *list);

/*
 * Adds a client seen at addr as a watcher or lock owner; one already in
 * the list at the same address is the same client, which gets the flag
 * (and entity, when it had none). -ENOMEM.
 */
int rbdops_clients_add(struct rbdops_clients *list, const char *entity,
		       const char *addr, bool watching, bool lock_owner,
		       struct rc_error *err);
/* Takes every client named entity out of list. */
void rbdops_clients_drop_entity(struct rbdops_clients *list,
				const char *entity);
/*
 * Writes "client.4449 at 127.0.0.1:0/1256915530, client.4450 at ..." into
 * buf (len bytes, ending "..." when cut), only the clients watching the
 * image when watching_only; returns how many it named.
 */
size_t rbdops_clients_format(const struct rbdops_clients *list,
			     bool watching_only, char *buf, size_t len);

/* ---- snapshots, clones, flatten: the idempotent steps (steps.c) ---- */

/*
 * Every open of a clone opens its whole parent chain, level by level
 * (about 6 ms a level, bench row 6b), so the steps below read the image's
 * header where it tells enough (rbdops_header_read), and open the image
 * only for what it does not: a snapshot create, or an image the header
 * cannot speak for (format 1, migrating, journaling for a protect). A
 * writable open may take the exclusive lock, so each step closes it
 * before it returns: a rowcat killed between steps leaves no watch.
 */

/* Whether the image at spec has a snapshot called snap (in the user
 * namespace, as rbd_snap_exists); from its header. */
int rbdops_snapshot_exists(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *snap,
			   bool *exists, struct rc_error *err);
/* Creates the snapshot unless it exists: one of that name is ours. Every
 * client of the image is asked to quiesce first (librbd's quiesce
 * notification, whatever rbd_default_snapshot_quiesce_mode says); a
 * client that fails to is named in the message. */
int rbdops_snapshot_create(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *snap,
			   struct rc_error *err);
/*
 * Protects the snapshot unless it is protected. On the image's header
 * (cls_rbd's set_protection_status, after librbd's own checks read from
 * the header), then a header-update notify, so that a client holding the
 * image open (a running guest, with the exclusive lock) refreshes as after
 * librbd's protect: no open of the parent chain. Through librbd, which an
 * open of the image needs, where the header cannot tell or librbd must
 * word the failure (see steps.c), or the image has journaling on.
 */
int rbdops_snapshot_protect(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, const char *snap,
			    struct rc_error *err);

/* rbdops_snapshot_create then rbdops_snapshot_protect (a live snap's
 * guest is paused meanwhile: one open of the chain, for the create). */
int rbdops_snapshot_take(struct rbd_conn *conn,
			 const struct rc_image_spec *spec, const char *snap,
			 struct rc_error *err);
int rbdops_snapshot_is_protected(struct rbd_conn *conn,
				 const struct rc_image_spec *spec,
				 const char *snap, bool *is_protected,
				 struct rc_error *err);
/*
 * Unprotect and remove a snapshot of the image at spec, or (rbd_id not
 * NULL) of the image with that id in spec's pool, which may be in the
 * trash. Unprotect is -EBUSY when clones of the snapshot remain.
 */
int rbdops_snapshot_unprotect(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      const char *rbd_id, const char *snap,
			      struct rc_error *err);
int rbdops_snapshot_remove(struct rbd_conn *conn,
			   const struct rc_image_spec *spec, const char *rbd_id,
			   const char *snap, struct rc_error *err);

/* One snapshot of an image as the cluster has it. */
struct rbdops_snapshot {
	char name[RC_NAME_MAX];
	bool is_protected;
	bool in_user_namespace; /* not in the trash (nor a group's or
				   mirroring's): librbd finds it by name */
	uint64_t id;        /* librbd's snapshot id (rbdops_header_read's) */
};
/* The snapshots of the image at spec, those in the trash namespace too
 * (unprotected, under their names on the cluster); *out (count entries)
 * is the caller's to free(). -ENOENT when the image does not exist. */
int rbdops_snapshot_list(struct rbd_conn *conn,
			 const struct rc_image_spec *spec,
			 struct rbdops_snapshot **out, size_t *count,
			 struct rc_error *err);

int rbdops_image_remove(struct rbd_conn *conn, const struct rc_image_spec *spec,
			struct rc_error *err);
/* Clones parent@snap into child, with RBDOPS_IMAGE_FEATURES_TEXT. */
int rbdops_clone(struct rbd_conn *conn, const struct rc_image_spec *parent,
		 const char *snap, const struct rc_image_spec *child,
		 struct rc_error *err);

/* librbd's progress callback, as librbd_progress_fn_t. */
typedef int (*rbdops_progress_fn)(uint64_t offset, uint64_t total, void *ctx);

/*
 * Flattens spec until it has no parent, reporting progress to progress
 * (may be NULL), with its object map off (object_map.c says why);
 * rbdops_object_map_restore turns it on again after.
 */
int rbdops_flatten(struct rbd_conn *conn, const struct rc_image_spec *spec,
		   rbdops_progress_fn progress, void *progress_ctx,
		   struct rc_error *err);

/* Image metadata that holds the map features a flatten turned off. */
#define RBDOPS_MAP_FEATURES_KEY "rowcat.flatten.map-features"
/* Turns on what RBDOPS_MAP_FEATURES_KEY notes, rebuilds the maps of the
 * image and its snapshots, then drops the key; nothing without a key. */
int rbdops_object_map_restore(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      struct rc_error *err);

/* The parent an image reads through on the cluster. */
struct rbdops_parent {
	bool has_parent;
	struct rc_image_spec image;
	char snapshot[RC_NAME_MAX];
};
/* -ENOENT when the image does not exist. */
int rbdops_image_parent(struct rbd_conn *conn, const struct rc_image_spec *spec,
			struct rbdops_parent *out, struct rc_error *err);
bool rbdops_parent_is(const struct rbdops_parent *parent,
		      const struct rc_image_spec *image, const char *snap);
/* Whether child is listed among the clones of parent@snap. */
int rbdops_is_child_of(struct rbd_conn *conn, const struct rc_image_spec *parent,
		       const char *snap, const struct rc_image_spec *child,
		       bool *listed, struct rc_error *err);

/* ---- the trash (trash.c) ---- */

/* librbd's id of the image at spec; -ENOENT when there is none. */
int rbdops_image_id(struct rbd_conn *conn, const struct rc_image_spec *spec,
		    char id[RC_RBD_ID_MAX], struct rc_error *err);
/*
 * Moves the image with id rbd_id, named by spec, to the trash for
 * delay_seconds. Done already when that id is in the trash; -EBUSY, with
 * nothing changed, when a client has the image open; -ENOENT when it is
 * neither in the pool nor in the trash.
 */
int rbdops_image_trash(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       const char *rbd_id, int64_t delay_seconds,
		       struct rc_error *err);
/*
 * Removes the image with id rbd_id from spec's pool's trash for good,
 * setting *bytes to what it used when that was cheap to know
 * (*bytes_known). Done already when it is gone; -EEXIST when someone
 * restored it from the trash; -ENOTEMPTY when snapshots remain.
 */
int rbdops_trash_purge(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       const char *rbd_id, uint64_t *bytes, bool *bytes_known,
		       struct rc_error *err);
/*
 * Restores the image with id rbd_id from spec's pool's trash under its
 * name spec->name (rbd_trash_restore). Done already when that id is in
 * the pool under that name; -ENOENT, saying so, when it is neither there
 * nor in the trash (purged); -EEXIST when another image holds the name.
 */
int rbdops_trash_restore(struct rbd_conn *conn, const struct rc_image_spec *spec,
			 const char *rbd_id, struct rc_error *err);

/* Where the image with id rbd_id in spec's pool is. */
enum rbdops_whereabouts { RBDOPS_IN_POOL, RBDOPS_IN_TRASH, RBDOPS_GONE };
int rbdops_trash_whereabouts(struct rbd_conn *conn,
			     const struct rc_image_spec *spec,
			     const char *rbd_id, enum rbdops_whereabouts *out,
			     struct rc_error *err);

/* ---- an image's objects against its parent snapshot (data_compare.c) ---- */

enum rbdops_data_finding_kind {
	RBDOPS_DATA_LOST,              /* flattened: an object is absent where
					  the parent snapshot has data */
	RBDOPS_DATA_MAP_WITHOUT_OBJECT,/* a clone's object map claims an
					  object the cluster lacks */
};

/* One object that is not as it should be. */
struct rbdops_data_finding {
	enum rbdops_data_finding_kind kind;
	const char *image;              /* pool/image */
	uint64_t object, offset, length;
	char message[RC_ERROR_MESSAGE_MAX];
};

/* Called for each finding: 0 goes on; a negative errno-style code,
 * explained in err, stops the comparison and is returned. */
typedef int (*rbdops_data_finding_fn)(void *ctx,
				      const struct rbdops_data_finding *f,
				      struct rc_error *err);

/*
 * Compares the image at spec, object by object over the parent overlap,
 * with parent@snap, the snapshot it was cloned from: a flattened image
 * (no parent on the cluster any more) with an object absent where the
 * snapshot holds data other than zeros is RBDOPS_DATA_LOST (it reads
 * zeros there); a clone whose object map claims an object the cluster
 * lacks is RBDOPS_DATA_MAP_WITHOUT_OBJECT (a flatten that trusts the map,
 * librbd 16.2's, would lose it). Calls fn for each finding. Nothing to
 * compare, and no error, when the image, the snapshot or a pool is gone.
 * Only reads.
 */
int rbdops_data_compare(struct rbd_conn *conn, const struct rc_image_spec *spec,
			const struct rc_image_spec *parent, const char *snap,
			rbdops_data_finding_fn fn, void *ctx,
			struct rc_error *err);

/* ---- what images hold on their own, as rbd du counts it (usage.c) ---- */

/* One snapshot of an image, or the image itself (its head), as `rbd du
 * --format json` reports it. */
struct rbdops_usage_row {
	char snapshot[RC_NAME_MAX];     /* "" for the head */
	uint64_t snap_id;               /* librbd's snapshot id; 0: the head */
	uint64_t provisioned;           /* its size */
	uint64_t used;                  /* rbd du's USED: the whole objects
					   that changed since the snapshot
					   before it (the image's beginning
					   for the first), its parent's data
					   not counted */
	bool fast_diff;                 /* librbd answered from the object
					   maps (fast-diff); else it asked the
					   OSDs for every object */
};

/* What an image holds: its user snapshots oldest first, then its head. */
struct rbdops_usage {
	char id[RC_RBD_ID_MAX];         /* librbd's id of the image */
	bool fast_diff_feature;         /* the image has fast-diff on */
	struct rbdops_usage_row *rows;  /* count entries, the head last */
	size_t count;
};

/*
 * Measures the image at spec and each of its user snapshots as `rbd du`
 * does (whole objects; rbd du without --exact), through one read-only
 * open of the image (opening a clone opens its whole parent chain; the
 * snapshots are read through the same handle). Uses fast-diff where the
 * image has it and the object maps involved are valid (rbd_get_flags),
 * and lets librbd ask the OSDs otherwise, as rbd du does; each row says
 * which. -ENOENT, with a message, when the image does not exist;
 * RBDOPS_NO_POOL when its pool does not. *out is the caller's, for
 * rbdops_usage_free (which a failure has called already). Only reads.
 */
int rbdops_image_usage(struct rbd_conn *conn, const struct rc_image_spec *spec,
		       struct rbdops_usage *out, struct rc_error *err);
void rbdops_usage_free(struct rbdops_usage *usage);

/* ---- leases: RADOS locks that expire unless renewed (lease.c) ---- */

/*
 * A lease is a named exclusive cls lock (rados_lock_exclusive) on one
 * RADOS object, taken for lease_s seconds and renewed by a thread every
 * lease_s / 3 while the process lives. The OSD judges expiry by its own
 * clock: cls_lock drops an expired locker on every read, so a lease that
 * is listed is held, whatever the clocks of the hosts say. A holder is
 * named by the lock's description, which each renewal rewrites:
 *
 *   host=H;pid=P;rados=ADDR;vfs=ADDR;lease=S;renewed=UNIX
 *
 * each value percent-encoded (every byte but A-Z a-z 0-9 . _ - : / [ ] ,
 * as %XX), so no host name can forge a field. Keys a reader does not know
 * are skipped.
 *
 * A process has two client instances that can write: its own rados_t
 * (librbd, these leases) and, with a catalog in RADOS, the SQLite VFS's.
 * Taking over from a holder that stopped renewing (dead or cut off) is
 * rbdops_lease_fence: both its addresses blocklisted, then its lock
 * broken, in librbd's order (managed_lock/BreakRequest.cc), so nothing it
 * still has in flight, and nothing it sends when it comes back, lands.
 *
 * cls_lock keeps each lock name in an attribute of the object ("lock.
 * NAME") that an unlock leaves there; a drop removes it with its unlock
 * (one write op), so an object whose names are used once each (op.ID)
 * does not gather one attribute per name ever taken. A lease that was
 * lost keeps its attribute, with no holder, until a process takes that
 * name and drops it: the one that takes its operation over does.
 */

/* Longest lease name, with its NUL: letters, digits and . _ - : only. */
#define RBDOPS_LEASE_NAME_MAX 64
#define RBDOPS_HOST_MAX 256
#define RBDOPS_COOKIE_MAX 64

/*
 * How long a fenced client stays blocklisted: 1 h, Ceph's own default
 * (mon_osd_blocklist_default_expire), which librbd (rbd_blocklist_expire_
 * seconds = 0) and the SQLite VFS rely on too, but given explicitly, so
 * that a cluster whose default was lowered cannot shorten it. The entry
 * must outlive what the fenced instance can still send: its requests end
 * within its client timeout (rowcat's --timeout, 120 s by default) and
 * its own lease check stops it lease_s after its last renewal; an
 * instance, once blocklisted, never writes again (a new process has a new
 * address), so the entry only has to outlast those.
 */
#define RBDOPS_LEASE_BLOCKLIST_SECONDS 3600

/* Shortest and longest lease: a renewal every lease_s / 3 needs a second
 * at least to be one round trip; a day is longer than any operation. */
#define RBDOPS_LEASE_MIN_SECONDS 3
#define RBDOPS_LEASE_MAX_SECONDS 86400

/* Who holds a lease, from the OSD's locker and the lock's description. */
struct rbdops_lease_holder {
	char host[RBDOPS_HOST_MAX];   /* "" when the description is not ours */
	long pid;                     /* 0 when unknown */
	char rados_addr[RBDOPS_ADDR_MAX]; /* the holder's rados_t, as the
					     OSD saw it take the lock */
	char vfs_addr[RBDOPS_ADDR_MAX];   /* its second client (the SQLite
					     VFS's); "" when it had none */
	char entity[RBDOPS_ENTITY_MAX];   /* "client.4463": the instance */
	char cookie[RBDOPS_COOKIE_MAX];
	int64_t renewed_at;           /* holder's clock, unix s; 0 unknown */
	int lease_s;                  /* 0 unknown */
	int64_t expires_at;           /* the OSD's clock: the lock goes then
					 unless renewed; 0 never */
	bool ours;                    /* our own entity and cookie */
};

/* The named leases this process holds on one RADOS object. */
struct rbd_leases;

/*
 * The address of conn's client instance, as `ceph osd blocklist` takes
 * it ("127.0.0.1:0/4162838970", rados_getaddrs), into buf.
 */
int rbdops_conn_addr(struct rbd_conn *conn, char *buf, size_t len,
		     struct rc_error *err);

/*
 * Prepares to hold leases on object oid in pool/ns (ns "" for none), as
 * host (NULL: gethostname) with vfs_addr as this process's second client
 * (NULL or "" for none), each lease lasting lease_s seconds, and starts
 * the renewal thread. The object is created by the first take. conn is
 * borrowed and must outlive *out; *out is the caller's, for
 * rbdops_leases_close. A cookie drawn from getrandom tells this holder
 * from any other process on the same client instance.
 */
int rbdops_leases_open(struct rbd_leases **out, struct rbd_conn *conn,
		       const char *pool, const char *ns, const char *oid,
		       const char *host, const char *vfs_addr, int lease_s,
		       struct rc_error *err);

/*
 * Takes the lease name, or renews it when this process holds it already
 * (safe from any thread). -EBUSY when another holds it, the message
 * naming the holder and until when ("lease 'gc' on rbd/x is held by host
 * h (pid 12, client.4463 at ADDR) until 2026-11-30T05:17:08Z"); a lease
 * of ours found gone (expired, broken) is lost: -ESHUTDOWN, as
 * rbdops_leases_check says. Not counted: one drop ends it for every
 * thread of the process.
 */
int rbdops_lease_take(struct rbd_leases *l, const char *name,
		      struct rc_error *err);

/*
 * Who holds lease name now: 0 and *out, ours too (out->ours), or -ENOENT
 * when nobody does (never taken, dropped, or expired by the OSD's clock).
 * A holder whose renewed_at + lease_s has passed by our clock but whom
 * the OSD still lists holds it: the clocks of hosts differ, the OSD's
 * decides.
 */
int rbdops_lease_holder(struct rbd_leases *l, const char *name,
			struct rbdops_lease_holder *out, struct rc_error *err);

/*
 * Writes "host H (pid P, client.N at ADDR) until T" (or "since T", how
 * the holder is known) into buf: for messages about a holder.
 */
void rbdops_lease_holder_format(const struct rbdops_lease_holder *h,
				char *buf, size_t len);

/* Drops lease name if this process holds it: unlocks it and removes its
 * attribute, in one write op that changes nothing unless the lock is
 * still ours. Failures are ignored, since an unrenewed lease ends on its
 * own. */
void rbdops_lease_drop(struct rbd_leases *l, const char *name);

/*
 * 0 while every lease this process holds is still its own. -ESHUTDOWN,
 * for good, once a renewal failed (the lease expired or was broken:
 * another host took over; or this client was blocklisted) or the last
 * good renewal of a lease is lease_s old (the cluster stopped answering):
 * the message says which lease and why. From then on the process must
 * write nothing, to the cluster or to the catalog, and should end.
 */
int rbdops_leases_check(struct rbd_leases *l, struct rc_error *err);

/*
 * Fences dead, a holder of lease name that stopped renewing, so that this
 * process can take over: blocklists its rados_addr and vfs_addr for
 * RBDOPS_LEASE_BLOCKLIST_SECONDS (each rados_blocklist_add waits for the
 * OSD map that has it, so the OSDs refuse the fenced instance before the
 * next step), then breaks its lock on name if it still has one. It does
 * not judge whether dead is dead: the caller does, from the lease having
 * expired or from its own records. -EINVAL for ourselves (same instance,
 * cookie or address). A client whose monitor caps forbid blocklisting
 * gets -EPERM (err->denied) and "client.X may not blocklist ...: rowcat
 * needs mon 'profile rbd'", with nothing changed. Then take the lease.
 */
int rbdops_lease_fence(struct rbd_leases *l, const char *name,
		       const struct rbdops_lease_holder *dead,
		       struct rc_error *err);

/* Stops the renewal thread and drops every lease still held, as
 * rbdops_lease_drop does (not those of a process whose leases are lost:
 * they end on their own, attribute left). NULL is fine. */
void rbdops_leases_close(struct rbd_leases *l);

/*
 * The description a holder writes (see above), into buf (len bytes);
 * -ENAMETOOLONG when it does not fit. And back: fills host, pid,
 * rados_addr (only when given: the OSD's address wins), vfs_addr,
 * lease_s and renewed_at of *out from desc, leaving the rest; false when
 * desc is not one of ours (no host= field).
 */
int rbdops_lease_desc_format(char *buf, size_t len, const char *host, long pid,
			     const char *rados_addr, const char *vfs_addr,
			     int lease_s, int64_t renewed_at);
bool rbdops_lease_desc_parse(const char *desc, struct rbdops_lease_holder *out);

/* ---- plain RADOS objects: a catalog in RADOS (objects.c) ---- */

/*
 * Objects that are not an image's, named by pool, namespace ("" for the
 * default) and object name. Each call opens its own I/O context: these
 * are for a command's few looks, not for a loop.
 */

/* Sets *exists, and *size when size is not NULL and it does. */
int rbdops_object_stat(struct rbd_conn *conn, const char *pool, const char *ns,
		       const char *oid, bool *exists, uint64_t *size,
		       struct rc_error *err);

/* Reads up to len bytes from off; *got says how many. -ENOENT, with a
 * message, when the object does not exist. */
int rbdops_object_read(struct rbd_conn *conn, const char *pool, const char *ns,
		       const char *oid, uint64_t off, void *buf, size_t len,
		       size_t *got, struct rc_error *err);

/* The extended attribute name as text into buf (len bytes, NUL-ended,
 * cut to fit). -ENODATA when the object has no such attribute, -ENOENT
 * when there is no object, each with a message. */
int rbdops_object_xattr(struct rbd_conn *conn, const char *pool, const char *ns,
			const char *oid, const char *name, char *buf, size_t len,
			struct rc_error *err);

#define RBDOPS_LOCK_COOKIE_MAX 128
#define RBDOPS_LOCK_DESCRIPTION_MAX 512
#define RBDOPS_LOCKERS_MAX 8

/* One holder of a cls lock, as `rados lock info` shows it. */
struct rbdops_locker {
	char entity[RBDOPS_ENTITY_MAX];           /* "client.4136" */
	char cookie[RBDOPS_LOCK_COOKIE_MAX];
	char addr[RBDOPS_ADDR_MAX];               /* "127.0.0.1:0/896970901" */
	char description[RBDOPS_LOCK_DESCRIPTION_MAX]; /* "" when unread */
	int64_t expires_at; /* by the OSD's clock, unix s; 0: never, or unread */
};

/* A cls lock on an object and who holds it (the first
 * RBDOPS_LOCKERS_MAX; an exclusive lock has one at most). */
struct rbdops_lock_state {
	bool exclusive;
	size_t count;
	struct rbdops_locker lockers[RBDOPS_LOCKERS_MAX];
};

/*
 * The holders of lock name on oid: entity, cookie and address from
 * rados_list_lockers, description and expiry from cls_lock's get_info
 * when its reply reads as Ceph 16 writes it. None when the object does
 * not exist. Only reads; takes no lock.
 */
int rbdops_object_lockers(struct rbd_conn *conn, const char *pool,
			  const char *ns, const char *oid, const char *name,
			  struct rbdops_lock_state *out, struct rc_error *err);

/*
 * The names of the cls locks oid carries (its lock.NAME attributes: held,
 * or left by a holder that never unlocked), the first max of them into
 * names; *count how many were written. None when there is no object.
 */
int rbdops_object_lock_names(struct rbd_conn *conn, const char *pool,
			     const char *ns, const char *oid,
			     char (*names)[RBDOPS_LEASE_NAME_MAX], size_t max,
			     size_t *count, struct rc_error *err);

/* Takes exclusive lock name on oid (creating the object when missing)
 * for seconds, as cookie. -EBUSY when another client holds it. */
int rbdops_object_lock(struct rbd_conn *conn, const char *pool, const char *ns,
		       const char *oid, const char *name, const char *cookie,
		       const char *description, int seconds,
		       struct rc_error *err);

/* Drops it; failures are ignored, since the lock expires anyway. */
void rbdops_object_unlock(struct rbd_conn *conn, const char *pool,
			  const char *ns, const char *oid, const char *name,
			  const char *cookie);

/* Removes oid; 0 when it does not exist. */
int rbdops_object_remove(struct rbd_conn *conn, const char *pool,
			 const char *ns, const char *oid, struct rc_error *err);

/*
 * Whether this client may write in pool/ns, asked with a write to oid, an
 * object that must not exist, which the OSD refuses for want of caps or
 * else for want of the object: nothing is changed either way. Refused,
 * the message names the cap the client lacks (err->denied).
 */
int rbdops_object_write_check(struct rbd_conn *conn, const char *pool,
			      const char *ns, const char *oid,
			      struct rc_error *err);

#endif
