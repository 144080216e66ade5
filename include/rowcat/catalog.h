/*
 * catalog: rowcat's SQLite catalog of volumes, images, snapshots and the
 * operations journal.
 *
 * The catalog is the source of truth for lineage: which image was cloned
 * from which snapshot, which image each volume writes to now (its operating
 * image), and how deep each image's clone chain is. Everything here is plain
 * SQLite; this module knows nothing of librbd.
 *
 * A struct catalog is one open connection, used by one thread at a time.
 * Writers group their changes between catalog_begin (BEGIN IMMEDIATE, with a
 * busy timeout, so several rowcat processes may share one file) and
 * catalog_commit or catalog_rollback.
 */
#ifndef ROWCAT_CATALOG_H
#define ROWCAT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rowcat/error.h"
#include "rowcat/host.h"
#include "rowcat/names.h"

struct catalog;

enum catalog_open_mode {
	CATALOG_OPEN_EXISTING, /* -ENOENT when there is no catalog at path */
	CATALOG_OPEN_CREATE,   /* create the file, mode 0600, when missing */
};

/*
 * Opens the catalog at path and migrates it to the newest schema this
 * binary knows. Fails, changing nothing, when path is a directory, is not a
 * rowcat catalog, or has a schema newer than this binary's; unless mode is
 * CREATE, also when the file was never made a catalog (0 bytes, say). With
 * mode CREATE, or before a migration, catalog_verify(.., false, ..) runs
 * first and a damaged catalog is refused. A file that cannot be read (a
 * full or read-only file system) is refused with the system's reason. On
 * success *out is the caller's, to be closed with catalog_close.
 */
int catalog_open(struct catalog **out, const char *path,
		 enum catalog_open_mode mode, struct rc_error *err);

/*
 * SQLite's quick_check (every page readable, every record well formed;
 * about 0.3 s on a catalog of a million images) or, when full is set, its
 * integrity_check (indexes against their tables too; about four times as
 * long). -EIO, naming the first problem found, when the catalog is damaged.
 */
int catalog_verify(struct catalog *cat, bool full, struct rc_error *err);

/* Closes the catalog; NULL is fine. An open transaction is rolled back. */
void catalog_close(struct catalog *cat);

/*
 * Groups reads into one read transaction (BEGIN DEFERRED): they see one
 * state of the catalog, and a catalog in RADOS takes its lock once for
 * them rather than once for each. Nothing may be written inside it (a
 * writer's catalog_begin fails there); keep cluster calls out of it too, or
 * every other host waits for them. catalog_read_end ends it; it never
 * fails and is harmless when none is open.
 */
int catalog_read_begin(struct catalog *cat, struct rc_error *err);
void catalog_read_end(struct catalog *cat);

/*
 * How many transactions a catalog connection ran: every BEGIN ... COMMIT
 * or ROLLBACK, and every statement run outside BEGIN, which SQLite makes a
 * read or write transaction of its own (opening the catalog counts too).
 * A catalog in RADOS takes its lock for each, so this is what a command
 * costs there. writes counts those that took the write lock and committed.
 */
struct catalog_txn_counts {
	uint64_t transactions;
	uint64_t writes;
};

/* cat's counts so far; with cat NULL, the sums of every connection this
 * process has closed (the gc and policy workers open their own). */
void catalog_txn_counts(const struct catalog *cat,
			struct catalog_txn_counts *out);

/* The path the catalog was opened with. */
const char *catalog_path(const struct catalog *cat);

/* ---- a catalog in RADOS ------------------------------------------------ */

/*
 * A catalog may live in RADOS, through Ceph's SQLite VFS (libcephsqlite),
 * at rados://POOL/NAME or rados://POOL/NAMESPACE/NAME: the database is
 * striped over the objects NAME.0000000000000000, ... of that pool and
 * namespace, under one exclusive RADOS lock that every host sees.
 */
#define CATALOG_RADOS_SCHEME "rados://"
#define CATALOG_CEPH_VFS "ceph"

struct catalog_rados_location {
	char pool[RC_NAME_MAX];
	char ns[RC_NAME_MAX];          /* "" is the pool's default namespace */
	char name[RC_NAME_MAX];
	char vfs_path[3 * RC_NAME_MAX]; /* the VFS's POOL:NAMESPACE/NAME */
};

/* Whether path names a catalog in RADOS (starts with rados://). */
bool catalog_path_is_rados(const char *path);

/* Splits a rados:// location; a usage error naming the problem when it
 * is not one the VFS can open. */
int catalog_rados_location_parse(const char *uri,
				 struct catalog_rados_location *out,
				 struct rc_error *err);

/*
 * Loads Ceph's SQLite VFS and gives it ceph_context, the CephContext of
 * the process's cluster connection (the VFS then connects as the same
 * client, as a second instance with an address of its own). Once per
 * process: later calls return 0 at once. -ENOENT, saying which package to
 * install, when the library is missing.
 */
int catalog_ceph_vfs_load(void *ceph_context, struct rc_error *err);

/* The cluster address of the VFS's client instance (ip:port/nonce), which
 * a host taking over this process's work blocklists; "" before loading. */
const char *catalog_ceph_vfs_client_addr(void);

/* ---- claims -------------------------------------------------------------- */

/*
 * Claims say that a live rowcat is carrying something out: an operation
 * ("op.ID"), a gc run ("gc"), a policy run ("policy" or "policy.HOST").
 * A file catalog keeps them as open file description locks in files beside
 * it, which the kernel drops when the holder dies. A catalog in RADOS needs
 * claims that every host sees and that expire when their holder stops
 * renewing them; the layer that owns the cluster connection provides them
 * here, and the catalog refuses to claim anything until it has.
 */
struct catalog_claims {
	/* Takes name for this process; -EBUSY, err naming the holder, when
	 * another holds it. */
	int (*take)(void *ctx, const char *name, struct rc_error *err);
	/* 1 when another process holds name (holder: who, and until when),
	 * 0 when nobody does, negative with err set when it cannot tell. */
	int (*held_elsewhere)(void *ctx, const char *name, char *holder,
			      size_t len, struct rc_error *err);
	void (*drop)(void *ctx, const char *name);
	/* Makes sure the process that recorded itself as holder of name
	 * (text from its identity(), kept in the journal) can change nothing
	 * any more, before this one, which has just taken name, reads what
	 * it left. */
	int (*fence)(void *ctx, const char *name, const char *holder,
		     struct rc_error *err);
	/* This process as the journal records a holder; "" for none. */
	const char *(*identity)(void *ctx);
	/* 0 while every claim this process took is still its own; negative,
	 * err saying so, once one was lost (expired, broken by a host that
	 * took over): from then on it must write nothing. */
	int (*check)(void *ctx, struct rc_error *err);
	void *ctx;
};

/* Gives cat its claims (copied); a catalog opened with catalog_reopen
 * shares them. Must come before any claim is taken. */
void catalog_set_claims(struct catalog *cat, const struct catalog_claims *claims);

/* Whether cat is in RADOS. */
bool catalog_is_rados(const struct catalog *cat);

/*
 * Opens a second connection to the catalog that cat is connected to, with
 * the same claims: for a worker thread (a connection is one thread's at a
 * time). The two share one mutex that their writers queue on before
 * BEGIN IMMEDIATE (catalog_begin), so *out must be closed before cat; and
 * a thread must not begin a write on one while it holds one on the other.
 */
int catalog_reopen(struct catalog **out, const struct catalog *cat,
		   struct rc_error *err);

/* The newest schema version this binary can migrate to. */
int catalog_schema_version_supported(void);

/* The version of the SQLite library this process runs with
 * (sqlite3_libversion), such as "3.40.1"; static text. */
const char *catalog_sqlite_version(void);

/* The schema version of an open catalog (its PRAGMA user_version). */
int catalog_schema_version(struct catalog *cat);

/* ---- rows ------------------------------------------------------------- */

/* A consumer's address, and a QEMU block node's name, as the catalog keeps
 * them (a UNIX socket path is at most 107 bytes). */
#define CATALOG_CONSUMER_MAX 256
#define CATALOG_NODE_MAX 128
/* A hook's shell command, as an operation records it. */
#define CATALOG_HOOK_MAX 1024
/* op.consumer.where of a snap whose consumer is the operator's hooks. */
#define CATALOG_CONSUMER_HOOKS "hooks"

struct catalog_volume {
	int64_t id;
	char name[RC_NAME_MAX];
	uint64_t size;
	int64_t operating_image_id;
	int64_t created_at;
	int64_t marked_at;          /* 0: not marked for collection */
	/* where to reach the running QEMU whose disk the operating image is
	 * ('unix:PATH', 'virsh:DOMAIN'); "" when none is recorded */
	char consumer[CATALOG_CONSUMER_MAX];
	/* the host the consumer runs on (rc_host_name of the rowcat that
	 * recorded it); "" when none is recorded, or the consumer was
	 * recorded before hosts were (schema 7 and older) */
	char consumer_host[RC_HOST_MAX];
};

struct catalog_image {
	int64_t id;
	int64_t volume_id;          /* 0: a foreign ancestor, no volume's own
				       (schema.sql, migration 9) */
	struct rc_image_spec spec;
	int64_t parent_snapshot_id; /* 0: a root image */
	int64_t flattened_at;       /* 0: reads through its parent, if any */
	int64_t created_at;
	int64_t removed_at;         /* 0: not moved to the trash by gc */
	char rbd_id[RC_RBD_ID_MAX]; /* librbd's id, recorded by gc; "" unknown */
	int64_t trash_until;        /* gc purges it from the trash after this */
	int64_t purged_at;          /* 0: not purged from the trash */
	int64_t adopted_at;         /* 0: rowcat created it; else when
				       `rowcat adopt` recorded it */
};

struct catalog_snapshot {
	int64_t id;
	int64_t image_id;
	char name[RC_NAME_MAX];
	bool is_protected;
	char origin[RC_NAME_MAX];   /* "manual", "pre-restore", "policy:NAME",
				       "adopted" */
	int64_t created_at;         /* real time */
	bool pinned;
	int64_t marked_at;
	int64_t removed_at;
	int64_t policy_at;          /* the policy clock's time when a policy
				       run with --now took it; 0: none */
};

/* When schedules and retention count snapshot s as taken: the policy
 * clock's time it was taken at, which is its real time unless a policy run
 * set that clock (--now). Never a time for gc to judge age by. */
static inline int64_t catalog_snapshot_policy_time(const struct catalog_snapshot *s)
{
	return s->policy_at ? s->policy_at : s->created_at;
}

/*
 * The lookups below answer -ENOENT only when the row does not exist, and
 * nothing else does: a caller for whom absent is a fine answer tests for
 * -ENOENT (and clears err), and passes any other failure on, with its
 * message (an I/O error, a busy or damaged catalog). A lookup that finds
 * its row clears err, so that one that found none before leaves nothing.
 */

/* Finds a volume by name; -ENOENT with a message when there is none. */
int catalog_volume_find(struct catalog *cat, const char *name,
			struct catalog_volume *out, struct rc_error *err);

/* Reads one volume by id; -ENOENT when there is none. */
int catalog_volume_get(struct catalog *cat, int64_t id,
		       struct catalog_volume *out, struct rc_error *err);

/* Reads one image by id; -ENOENT when there is none. */
int catalog_image_get(struct catalog *cat, int64_t id,
		      struct catalog_image *out, struct rc_error *err);

/* Finds the image with this pool/namespace/name; -ENOENT when none. */
int catalog_image_find(struct catalog *cat, const struct rc_image_spec *spec,
		       struct catalog_image *out, struct rc_error *err);

/* Reads one snapshot by id; -ENOENT when there is none. */
int catalog_snapshot_get(struct catalog *cat, int64_t id,
			 struct catalog_snapshot *out, struct rc_error *err);

/*
 * Finds the snapshot called `name` anywhere in the tree of volume_id that
 * gc has not removed. Snapshot names are unique within a volume, so that
 * `rowcat restore VOL SNAP` names one. Only the volume's own snapshots:
 * -ENOENT with a message when none, which says whose it is when the volume
 * reads through a snapshot of that name (of a foreign ancestor, or of
 * another volume's image).
 */
int catalog_snapshot_find(struct catalog *cat, int64_t volume_id,
			  const char *name, struct catalog_snapshot *out,
			  struct rc_error *err);

/* ---- lineage ---------------------------------------------------------- */

/* One volume as `rowcat ls` shows it. */
struct catalog_volume_summary {
	struct catalog_volume volume;
	struct catalog_image operating;
	int depth;          /* clone levels the operating image reads through */
	int snapshot_count; /* live snapshots anywhere in the volume's tree */
};

/*
 * Called for each row of a list. Returns 0 to go on; a positive value to
 * stop there without a failure; a negative errno-style code for a failure
 * it has explained in err, as every rowcat function does.
 */
typedef int (*catalog_volume_fn)(void *ctx,
				 const struct catalog_volume_summary *row,
				 struct rc_error *err);

/*
 * Calls fn for every volume, ordered by name. A nonzero return from fn stops
 * the walk and is returned (negative: with fn's message in err).
 */
int catalog_volume_list(struct catalog *cat, catalog_volume_fn fn, void *ctx,
			struct rc_error *err);

/*
 * The tree of one volume: its own images (volume_id is the volume's) and
 * every snapshot of them, and, above its topmost own image when that was
 * adopted as a clone, the images it reads through on the cluster up to the
 * root (foreign ancestors, volume_id 0, or other volumes' images) with only
 * the snapshots that chain goes through. Every image's parent snapshot is
 * in snapshots, but the root's. images are in id order (a parent before
 * its clones), snapshots in creation order. depths[i] is the clone depth
 * of images[i], counted over the whole chain: an adopted root cloned from
 * a Glance image is at depth 1 while it reads through it.
 */
struct catalog_lineage {
	struct catalog_volume volume;
	struct catalog_image *images;
	int *depths;
	size_t image_count;
	struct catalog_snapshot *snapshots;
	size_t snapshot_count;
};

/* Loads the lineage of volume; free it with catalog_lineage_free. */
int catalog_lineage_load(struct catalog_lineage **out, struct catalog *cat,
			 const struct catalog_volume *volume,
			 struct rc_error *err);
void catalog_lineage_free(struct catalog_lineage *lineage);
/* The lineage's image or snapshot with that id, or NULL. */
const struct catalog_image *
catalog_lineage_image(const struct catalog_lineage *lineage, int64_t id);
const struct catalog_snapshot *
catalog_lineage_snapshot(const struct catalog_lineage *lineage, int64_t id);

/* Whether image is the volume's own, not an image its chain reads through
 * that is no volume's (a foreign ancestor) or another volume's: only its
 * own rows are the volume's to snapshot, restore from, mark, pin or
 * collect. */
static inline bool catalog_lineage_owns(const struct catalog_lineage *lineage,
					const struct catalog_image *image)
{
	return image->volume_id == lineage->volume.id;
}

/* Whether snapshot is of one of the volume's own images. */
bool catalog_lineage_owns_snapshot(const struct catalog_lineage *lineage,
				   const struct catalog_snapshot *snapshot);

/* The volume's own topmost image (the root it was created or adopted
 * with); NULL only in a damaged catalog. */
const struct catalog_image *
catalog_lineage_root(const struct catalog_lineage *lineage);

/*
 * The ancestors of image_id, nearest first: the image it was cloned from,
 * that image's parent, and so on to the root. With reads_through, stops
 * where a flatten cut the chain, so the list is exactly the images whose
 * data image_id still reads. *out (count entries) is the caller's to free().
 */
int catalog_image_ancestors(struct catalog *cat, int64_t image_id,
			    bool reads_through, struct catalog_image **out,
			    size_t *count, struct rc_error *err);

/*
 * The clone depth of image_id: how many ancestor images its reads may go
 * through (0 for a root or a flattened image).
 */
int catalog_image_depth(struct catalog *cat, int64_t image_id, int *depth,
			struct rc_error *err);

/* ---- the operations journal ------------------------------------------ */

/*
 * An operation's kind, state and step. The catalog stores each as the word
 * catalog_op_*_name gives (the words `rowcat log` shows); in memory they
 * are only these enums. CATALOG_OP_NO_KIND is a kind not yet chosen:
 * catalog_op_begin refuses it.
 */
enum catalog_op_kind {
	CATALOG_OP_NO_KIND,
	CATALOG_OP_CREATE,          /* "create" */
	CATALOG_OP_SNAP,            /* "snap" */
	CATALOG_OP_RESTORE,         /* "restore" */
	CATALOG_OP_FLATTEN,         /* "flatten" */
	CATALOG_OP_GC_TRASH,        /* "gc-trash" */
	CATALOG_OP_GC_SNAPSHOT,     /* "gc-snapshot" */
	CATALOG_OP_GC_PURGE,        /* "gc-purge" */
	CATALOG_OP_UNRM,            /* "unrm" */
	CATALOG_OP_ADOPT,           /* "adopt": journalled done at once */
	CATALOG_OP_KIND_COUNT
};

enum catalog_op_state {
	CATALOG_OP_RUNNING,         /* "running" */
	CATALOG_OP_DONE,            /* "done" */
	CATALOG_OP_FAILED,          /* "failed" */
	CATALOG_OP_ROLLED_BACK,     /* "rolled-back" */
	CATALOG_OP_STATE_COUNT
};

/*
 * The steps of every saga, each saga's in the order it takes them, so that
 * within one kind "past step X" is `op->step >= X`. Every kind starts at
 * JOURNALLED; gc's kinds never leave it (gc_run.c says why). Which steps
 * belong to which kind: catalog_op_step_of_kind; the sagas are drawn atop
 * ops/volume_create.c, ops/row.c and ops/flatten.c.
 */
enum catalog_op_step {
	CATALOG_STEP_JOURNALLED,       /* "journalled": every kind */
	/* create */
	CATALOG_STEP_CREATING,         /* "creating" */
	CATALOG_STEP_IMAGE_CREATED,    /* "image-created" */
	/* snap and restore */
	CATALOG_STEP_TARGET_CHOSEN,    /* "target-chosen" */
	CATALOG_STEP_PAUSING,          /* "pausing": a live snap's guest may
					  be paused from here */
	CATALOG_STEP_SNAPSHOT_CREATED, /* "snapshot-created" */
	CATALOG_STEP_PROTECTED,        /* "protected" */
	CATALOG_STEP_CLONING,          /* "cloning" */
	CATALOG_STEP_CLONED,           /* "cloned" */
	CATALOG_STEP_SWITCHED,         /* "consumer-switched": the guest's
					  disk reads the clone */
	/* flatten */
	CATALOG_STEP_FLATTENED,        /* "flattened" */
	CATALOG_STEP_COUNT
};

/* The catalog's word for a kind, state or step; NULL for a value outside
 * the enum (and for CATALOG_OP_NO_KIND). */
const char *catalog_op_kind_name(enum catalog_op_kind kind);
const char *catalog_op_state_name(enum catalog_op_state state);
const char *catalog_op_step_name(enum catalog_op_step step);

/*
 * The enum for a word read from the catalog: -EINVAL, naming the word,
 * when this rowcat does not know it (a catalog written by a newer rowcat,
 * or damaged), never a guess.
 */
int catalog_op_kind_parse(const char *text, enum catalog_op_kind *out,
			  struct rc_error *err);
int catalog_op_state_parse(const char *text, enum catalog_op_state *out,
			   struct rc_error *err);
int catalog_op_step_parse(const char *text, enum catalog_op_step *out,
			  struct rc_error *err);

/* Whether step is one of kind's saga. */
bool catalog_op_step_of_kind(enum catalog_op_kind kind,
			     enum catalog_op_step step);

/*
 * One journalled operation. The target_* members name what the operation
 * will create, chosen before the first cluster call, so that each step can
 * look first and recognise its own work after a crash.
 */
struct catalog_operation {
	int64_t id;
	int64_t volume_id;          /* 0 until the volume exists (create) */
	enum catalog_op_kind kind;
	enum catalog_op_state state;
	enum catalog_op_step step;  /* the last step that completed */
	int64_t image_id;
	int64_t snapshot_id;
	struct rc_image_spec target;
	char target_snapshot[RC_NAME_MAX];
	char origin[RC_NAME_MAX];   /* of the snapshot it takes */
	char reason[64];            /* gc's kinds: why it collects
				       (catalog_gc_reason_text) */
	uint64_t size;
	int64_t started_at;         /* the real clock (rc_clock_now) */
	int64_t finished_at;        /* the real clock */
	int64_t wall_started_ms;    /* the real wall clock, for durations */
	int64_t wall_finished_ms;
	/* the policy clock when the operation was journalled under one set
	 * by --now (rc_clock_policy_given; catalog_op_begin fills it); 0:
	 * none */
	int64_t policy_at;
	char error[RC_ERROR_MESSAGE_MAX];
	/* snap and restore run with --ignore-clients: the clients that had
	 * the operating image open, "client.4449 at ADDR, ..."; "" none */
	char clients_ignored[RC_ERROR_MESSAGE_MAX / 2];
	/* A live snap's consumer: where it was reached, the guest's format
	 * node and the storage node that read the operating image, and
	 * whether rowcat paused a running guest (and so resumes it); where
	 * is "" for every other operation. A snap between the operator's
	 * hooks: where is CATALOG_CONSUMER_HOOKS, resume says that a freeze
	 * may have run (so the thaw must), and thaw and switch_cmd are the
	 * commands recovery runs ("" none); the nodes are "". */
	struct {
		char where[CATALOG_CONSUMER_MAX];
		char format_node[CATALOG_NODE_MAX];
		char storage_node[CATALOG_NODE_MAX];
		bool resume;
		char thaw[CATALOG_HOOK_MAX];
		char switch_cmd[CATALOG_HOOK_MAX];
	} consumer;
	int64_t paused_ms;          /* how long the guest was paused; -1:
				       no guest was paused */
	/* Who journalled it (catalog_op_begin fills them in): rowcat's
	 * host name (rc_host_name), the login name of its real uid
	 * (rc_user_name) and its pid. "" and 0 in rows journalled before
	 * schema 9 recorded them. */
	char host[RC_HOST_MAX];
	char user[RC_USER_MAX];
	int64_t pid;
	/* Not stored: catalog_op_begin refuses unless image_id is the
	 * volume's operating image, and the volume is not marked by
	 * `rowcat rm`, at the moment it journals. */
	bool requires_operating;
};

/*
 * Every operation of volume_id, newest first. *out (count entries) is the
 * caller's to free().
 */
int catalog_op_list_volume(struct catalog *cat, int64_t volume_id,
			   struct catalog_operation **out, size_t *count,
			   struct rc_error *err);

/* Reads operation id as the journal has it now; -ENOENT when none. */
int catalog_op_get(struct catalog *cat, int64_t id,
		   struct catalog_operation *out, struct rc_error *err);

/*
 * Every operation still 'running', oldest first. *out (count entries) is
 * the caller's to free().
 */
int catalog_op_list_running(struct catalog *cat, struct catalog_operation **out,
			    size_t *count, struct rc_error *err);

/*
 * When op started and finished by the real clock: the wall clock's
 * milliseconds where recorded (rows of catalogs from before rowcat kept
 * the two clocks apart may hold a --now time in started_at and
 * finished_at). finished: 0 while the operation runs.
 */
int64_t catalog_op_real_started(const struct catalog_operation *op);
int64_t catalog_op_real_finished(const struct catalog_operation *op);

/*
 * rowcat tree --at: lineage (catalog_lineage_load's, now) as it was at
 * `at`, by the real clock. Its rows are those created by then, each as
 * it was then: not yet flattened, marked, moved to the trash, purged or
 * removed when that came later (pins are shown as they are now: the
 * catalog dates none), depths as the flattens done by then left them.
 * The operating image is the target of the last create, snap or restore
 * of ops (the volume's journal, catalog_op_list_volume's, any order) that
 * was done by `at`; before any, the volume's first image. *switched_by,
 * when switched_by is not NULL, is that operation in ops, or NULL.
 * -ENOENT, with a message, when the volume did not exist yet at `at`.
 * A pure function: *out is the caller's, for catalog_lineage_free.
 */
int catalog_lineage_at(struct catalog_lineage **out,
		       const struct catalog_lineage *lineage,
		       const struct catalog_operation *ops, size_t op_count,
		       int64_t at, const struct catalog_operation **switched_by,
		       struct rc_error *err);

/* ---- garbage collection ------------------------------------------------ */

/*
 * rowcat rm VOL@SNAP: marks the snapshot called `name` in volume_id's tree
 * for collection at `now`, in a transaction of its own. -EPERM when it is
 * pinned (unpin it first); marking twice keeps the first time.
 */
int catalog_snapshot_mark(struct catalog *cat, int64_t volume_id,
			  const char *name, int64_t now, struct rc_error *err);

/* rowcat rm VOL: marks the whole volume (every image and snapshot of it
 * that no pinned snapshot needs). Marking twice keeps the first time. */
int catalog_volume_mark(struct catalog *cat, int64_t volume_id, int64_t now,
			struct rc_error *err);

/* rowcat consumer VOL WHERE: records (or, with where NULL or "", forgets)
 * where the QEMU that runs on the volume can be reached, and on which host
 * (forgotten with it). */
int catalog_volume_set_consumer(struct catalog *cat, int64_t volume_id,
				const char *where, const char *host,
				struct rc_error *err);

/*
 * rowcat pin / unpin: a pinned snapshot is never collected. Pinning is
 * refused (-EBUSY) while an operation is running on the volume, so that a
 * gc step already under way cannot take what was just pinned.
 */
int catalog_snapshot_set_pinned(struct catalog *cat, int64_t volume_id,
				const char *name, bool pinned,
				struct rc_error *err);

/*
 * What the gc planner sees of the catalog: every row, small. Arrays are
 * sorted by id; a clone's id is above its parent image's (rows are only
 * ever added), which is what lets the planner go leaf first.
 */
struct catalog_gc_volume {
	int64_t id;
	int64_t operating_image_id;
	int64_t marked_at;          /* 0: not marked */
};

struct catalog_gc_image {
	int64_t id;
	int64_t volume_id;
	int64_t parent_snapshot_id; /* 0: a root */
	int64_t created_at;
	bool flattened;             /* reads through no parent any more */
	bool trashed;               /* in the RBD trash (removed_at set) */
	bool purged;                /* gone from the trash too */
	int64_t trash_until;
};

struct catalog_gc_snapshot {
	int64_t id;
	int64_t image_id;
	int64_t created_at;
	int64_t marked_at;          /* 0: not marked */
	bool pinned;
	bool removed;
};

struct catalog_gc_state {
	struct catalog_gc_volume *volumes;
	size_t volume_count;
	struct catalog_gc_image *images;
	size_t image_count;
	struct catalog_gc_snapshot *snapshots;
	size_t snapshot_count;
};

/*
 * Loads the state of every volume (volume_id 0), in one read, or of one:
 * its rows, and those of others that decide them (the images of other
 * volumes, or of none, cloned from its snapshots; the images it reads
 * through up to the root, and the snapshots that link them), with no
 * volume row but its own, so that the planner judges only its rows.
 */
int catalog_gc_state_load(struct catalog *cat, int64_t volume_id,
			  struct catalog_gc_state *out, struct rc_error *err);
void catalog_gc_state_free(struct catalog_gc_state *state);

struct catalog_gc_options {
	/* the time the plan is judged at: the real clock for a plan that is
	 * carried out (ops_gc_run judges each step at the real clock
	 * again); another time only shows what a plan would be then */
	int64_t now;
	int64_t min_age;            /* seconds: younger rows are never garbage */
	int64_t trash_delay;        /* seconds an image stays in the trash */
};

enum catalog_gc_action {
	CATALOG_GC_TRASH,           /* move the image to the RBD trash */
	CATALOG_GC_REMOVE_SNAPSHOT, /* unprotect and remove the snapshot */
	CATALOG_GC_PURGE,           /* remove the image from the trash */
};

enum catalog_gc_reason {
	CATALOG_GC_VOLUME_REMOVED,  /* rowcat rm VOL */
	CATALOG_GC_MARKED,          /* rowcat rm VOL@SNAP, or expired by policy */
	CATALOG_GC_UNNEEDED,        /* an image nothing needed reads or keeps */
	CATALOG_GC_TRASH_EXPIRED,   /* its trash delay has run out */
};

/* The words for a reason, as gc prints it. */
const char *catalog_gc_reason_text(enum catalog_gc_reason reason);

/*
 * One step of a plan. deps[first_dep .. first_dep + dep_count) of the plan
 * are the indexes of the earlier steps that must have succeeded first.
 */
struct catalog_gc_step {
	enum catalog_gc_action action;
	enum catalog_gc_reason reason;
	int64_t volume_id;
	int64_t image_id;
	int64_t snapshot_id;        /* CATALOG_GC_REMOVE_SNAPSHOT only */
	size_t first_dep, dep_count;
};

/* Why garbage is not collected by a plan (what `rowcat gc --verbose`
 * lists). */
enum catalog_gc_wait_reason {
	CATALOG_GC_WAIT_YOUNG,          /* younger than min_age, until `until` */
	CATALOG_GC_WAIT_YOUNG_SNAPSHOT, /* an image: its snapshot on_snapshot_id
					   is younger than min_age, until
					   `until` (it would go with it) */
	CATALOG_GC_WAIT_CLONE,          /* an image: image on_image_id, a clone
					   of one of its snapshots, is not in
					   the trash; a snapshot: its clone
					   on_image_id is not purged */
	CATALOG_GC_WAIT_TRASH_DELAY,    /* in the trash (its image, for a
					   snapshot) until `until` */
	CATALOG_GC_WAIT_TRASHED_NOW,    /* an image the plan moves to the trash
					   (a snapshot's image), for the delay:
					   until `until` */
	CATALOG_GC_WAIT_SNAPSHOTS,      /* an image in the trash, its delay
					   over: its snapshots are not removed
					   yet (each waits, listed apart) */
};

/* One garbage item a plan leaves waiting. */
struct catalog_gc_wait {
	int64_t volume_id;
	int64_t image_id;
	int64_t snapshot_id;        /* 0: the image itself waits */
	enum catalog_gc_wait_reason why;
	int64_t until;              /* when the wait ends by the clock; 0
				       when it ends with another item's */
	int64_t on_image_id;        /* the item waited for; 0 none */
	int64_t on_snapshot_id;
};

struct catalog_gc_plan {
	struct catalog_gc_step *steps; /* leaf first: deps come before */
	size_t count;
	size_t *deps;
	/* Garbage the plan leaves behind, once carried out: too young, in
	 * the trash, or waiting for its clones to leave the trash; `waits`
	 * says of each (waiting of them) why. */
	size_t waiting;
	struct catalog_gc_wait *waits;
	/* the earliest end of a trash delay ahead, of the images in the
	 * trash before the plan; 0 none */
	int64_t next_purge_at;
};

/*
 * The gc planner: a pure function of the state. A snapshot is needed when
 * it is pinned, when it is not marked (nor its volume), or when a needed
 * image reads through it; an image is needed when it is the operating
 * image of a volume not marked, when it carries a needed snapshot, or when
 * a needed image reads through one of its snapshots. An image of no volume
 * in the state (a foreign ancestor, volume_id 0; in the state of one
 * volume, another volume's image) is not the plan's: it is needed unless
 * it is in the trash, its snapshots are needed only when a needed image
 * reads through them, and no step ever acts on it or on its snapshots, so
 * that a shared Glance image stays even when nothing reads it any more.
 * Everything else
 * older than min_age is garbage (an image waits for its young snapshots
 * too, since they would go to the trash with it), and is collected leaf
 * first, as Ceph
 * allows: an image goes to the trash once its clones have; a snapshot is
 * removed once its clones are purged (and, on an image in the trash, once
 * that image's delay is over, so that restoring from the trash gets the
 * snapshots back too); an image is purged once its snapshots are gone.
 * -EINVAL when the state breaks the ordering rule above; -ENOMEM.
 * The plan is the streamed planner's (catalog_gc_plan_catalog's too), the
 * one planner, fed the state's images newest first.
 */
int catalog_gc_plan(const struct catalog_gc_state *state,
		    const struct catalog_gc_options *opts,
		    struct catalog_gc_plan *out, struct rc_error *err);
void catalog_gc_plan_free(struct catalog_gc_plan *plan);

/*
 * Adds the steps of `from` after those of `into`, with their waits, and
 * its waiting garbage; `from` is left as it was. For plans of different
 * volumes (catalog_gc_state_load of one volume each), which never wait for
 * each other. -ENOMEM leaves `into` as it was.
 */
int catalog_gc_plan_append(struct catalog_gc_plan *into,
			   const struct catalog_gc_plan *from,
			   struct rc_error *err);

/* The plan of every volume, streamed from the catalog in one read: the
 * plan catalog_gc_plan makes of catalog_gc_state_load of every volume. */
int catalog_gc_plan_catalog(struct catalog *cat,
			    const struct catalog_gc_options *opts,
			    struct catalog_gc_plan *out, struct rc_error *err);

/* Changes state as carrying out step at opts->now leaves the catalog. */
void catalog_gc_state_apply(struct catalog_gc_state *state,
			    const struct catalog_gc_step *step,
			    const struct catalog_gc_options *opts);

/* Whether an operation kind is one of gc's. */
bool catalog_op_is_gc(enum catalog_op_kind kind);

/*
 * What the planner finds needed in state (catalog_gc_plan's rules):
 * image_needed and snap_needed (the caller's, image_count and
 * snapshot_count entries) say, per row of state, whether gc must keep it.
 * -EINVAL when the state breaks the planner's ordering rule; -ENOMEM.
 */
int catalog_gc_needed(const struct catalog_gc_state *state, bool *image_needed,
		      bool *snap_needed, struct rc_error *err);

/* ---- rowcat unrm --------------------------------------------------------- */

/*
 * Finds the snapshot called `name` in volume_id's tree whatever gc did to
 * it (removed, or on an image in the trash): the live one of that name,
 * else the newest. -ENOENT with a message when the volume never had one
 * (worded as catalog_snapshot_find's).
 */
int catalog_snapshot_find_any(struct catalog *cat, int64_t volume_id,
			      const char *name, struct catalog_snapshot *out,
			      struct rc_error *err);

/*
 * What undoing `rowcat rm` of volume_id (snapshot_id 0) or of its snapshot
 * snapshot_id needs, judged from the catalog as it is: the images the
 * volume needs once that mark is cleared (the planner's rule) and that gc
 * moved to the trash, to be restored, parents first; and those it needs
 * that gc already purged (gone). Each list (ids; count entries) is the
 * caller's to free().
 */
int catalog_unrm_images(struct catalog *cat, int64_t volume_id,
			int64_t snapshot_id, int64_t **restore,
			size_t *restore_count, int64_t **gone,
			size_t *gone_count, struct rc_error *err);

/* ---- jobs that run one at a time ---------------------------------------- */

enum catalog_job {
	CATALOG_JOB_GC,             /* rowcat gc (and policy run --gc) */
	CATALOG_JOB_POLICY,         /* rowcat policy run */
	CATALOG_JOB_KINDS,
};

/*
 * Takes the lock that lets one run of job at a time (PATH-gc.lock or
 * PATH-policy.lock beside the catalog, held until catalog_close or the
 * end of the process, however it ends). -EBUSY, naming the pid of the
 * holder, when another run holds it.
 */
int catalog_job_lock(struct catalog *cat, enum catalog_job job,
		     struct rc_error *err);

/* ---- moving a catalog, and what one is (copy.c, about.c) ---------------- */

/* Ceph's SQLite VFS keeps its lock, the holder's addresses and the
 * database's size on the first object of the database. */
#define CATALOG_RADOS_LOCK "striper.lock"
#define CATALOG_RADOS_HOLDER_XATTR "striper.excl"
#define CATALOG_RADOS_SIZE_XATTR "striper.size"

/* The first RADOS object of the database at loc (journal false: NAME.
 * 0000000000000000, the one that carries the lock) or of its rollback
 * journal (NAME-journal.0000000000000000), into buf. */
void catalog_rados_object_name(const struct catalog_rados_location *loc,
			       bool journal, char *buf, size_t len);

/*
 * Copies the catalog at from to to, a file or rados:// location each,
 * with SQLite's backup API, in one read of the source (so of one moment).
 * from is opened as every command opens it: refused unless it is a
 * rowcat catalog, and migrated to this rowcat's schema first. to must not
 * exist: a file (even empty) or its -wal or -journal there is -EEXIST
 * (O_EXCL, so two copies cannot both make it). For a rados:// to, the
 * caller has made sure that nothing is there and that no other copy can
 * create it meanwhile, and loaded the VFS. The copy gets the layout of its
 * kind (a file: WAL, 4 KiB pages; RADOS: a persistent rollback journal,
 * 64 KiB pages), and is then opened as a catalog and checked (SQLite's
 * integrity_check, the same schema version) before 0 is returned; on any
 * failure what was created at to is removed. *schema_version is the
 * copy's.
 */
int catalog_copy(const char *from, const char *to, int *schema_version,
		 struct rc_error *err);

/* Removes the database at to (a file with its -wal, -shm and -journal;
 * in RADOS, through the VFS, its stripes and its journal's). */
int catalog_copy_remove(const char *to, struct rc_error *err);

/* An SQLite database's header: its first 100 bytes. */
#define CATALOG_HEADER_SIZE 100

struct catalog_header {
	int page_size;
	int schema_version; /* PRAGMA user_version */
	bool wal;           /* the header says WAL mode */
};

/*
 * Reads a catalog's header (len bytes of its start, at least
 * CATALOG_HEADER_SIZE) without opening it: -ENOENT for an empty database,
 * -EINVAL when it is not SQLite or not a rowcat catalog; where names it
 * in the message.
 */
int catalog_header_parse(const unsigned char *buf, size_t len,
			 const char *where, struct catalog_header *out,
			 struct rc_error *err);

#define CATALOG_CLAIMS_SHOWN 32

/* A file catalog, read without writing anything or taking any lock. */
struct catalog_file_info {
	uint64_t size;            /* bytes of the database file */
	uint64_t wal_size;        /* bytes of its -wal; 0 when none */
	int schema_version;
	int page_size;
	char journal_mode[16];    /* "wal" */
	/* per job: 0 when no run holds its lock, the holder's pid, or -1
	 * when held and the pid is unknown */
	long job_pid[CATALOG_JOB_KINDS];
	/* operations a live rowcat is carrying out (their claims held) */
	int64_t claimed_ops[CATALOG_CLAIMS_SHOWN];
	size_t claimed_count;
};

/* Reads it (opened read-only; locks tested with F_OFD_GETLK). -ENOENT
 * when there is no file; -EINVAL when it is not a rowcat catalog. */
int catalog_file_info(const char *path, struct catalog_file_info *out,
		      struct rc_error *err);

#endif
