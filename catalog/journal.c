/*
 * The operations journal: the intent log that lets an interrupted operation
 * be finished or undone after a crash, and the claims that tell a crashed
 * operation from one that a live rowcat is still carrying out.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rowcat/clock.h"
#include "rowcat/host.h"
#include "rowcat/sys/grow.h"
#include "internal.h"

static void bind_id(sqlite3_stmt *st, int col, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, col, id);
	else
		sqlite3_bind_null(st, col);
}

static void bind_text(sqlite3_stmt *st, int col, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static void copy_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	snprintf(buf, len, "%s", text ? (const char *)text : "");
}

/* The text in column col; "" for NULL. Valid until the next step. */
static const char *column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	return text ? (const char *)text : "";
}

int catalog_read_op(sqlite3_stmt *st, struct catalog_operation *op,
		    struct rc_error *err)
{
	int rc;

	memset(op, 0, sizeof(*op));
	op->id = sqlite3_column_int64(st, 0);
	op->volume_id = sqlite3_column_int64(st, 1);
	rc = catalog_op_kind_parse(column_text(st, 2), &op->kind, err);
	if (rc == 0)
		rc = catalog_op_state_parse(column_text(st, 3), &op->state, err);
	if (rc == 0)
		rc = catalog_op_step_parse(column_text(st, 4), &op->step, err);
	if (rc == 0 && !catalog_op_step_of_kind(op->kind, op->step))
		rc = rc_error_set(err, -EINVAL, "the catalog holds a %s "
				  "operation at step '%s', which is not one "
				  "of its steps", catalog_op_kind_name(op->kind),
				  catalog_op_step_name(op->step));
	if (rc < 0)
		return rc_error_prefix(err, "operation %lld: ", (long long)op->id);
	op->image_id = sqlite3_column_int64(st, 5);
	op->snapshot_id = sqlite3_column_int64(st, 6);
	copy_text(st, 7, op->target.pool, sizeof(op->target.pool));
	copy_text(st, 8, op->target.ns, sizeof(op->target.ns));
	copy_text(st, 9, op->target.name, sizeof(op->target.name));
	copy_text(st, 10, op->target_snapshot, sizeof(op->target_snapshot));
	op->size = (uint64_t)sqlite3_column_int64(st, 11);
	op->started_at = sqlite3_column_int64(st, 12);
	op->finished_at = sqlite3_column_int64(st, 13);
	copy_text(st, 14, op->error, sizeof(op->error));
	op->wall_started_ms = sqlite3_column_int64(st, 15);
	op->wall_finished_ms = sqlite3_column_int64(st, 16);
	copy_text(st, 17, op->origin, sizeof(op->origin));
	op->policy_at = sqlite3_column_int64(st, 18);
	copy_text(st, 19, op->reason, sizeof(op->reason));
	copy_text(st, 20, op->clients_ignored, sizeof(op->clients_ignored));
	copy_text(st, 21, op->consumer.where, sizeof(op->consumer.where));
	copy_text(st, 22, op->consumer.format_node,
		  sizeof(op->consumer.format_node));
	copy_text(st, 23, op->consumer.storage_node,
		  sizeof(op->consumer.storage_node));
	op->consumer.resume = sqlite3_column_int(st, 24) != 0;
	op->paused_ms = sqlite3_column_type(st, 25) == SQLITE_NULL
		? -1 : sqlite3_column_int64(st, 25);
	copy_text(st, 26, op->consumer.thaw, sizeof(op->consumer.thaw));
	copy_text(st, 27, op->consumer.switch_cmd,
		  sizeof(op->consumer.switch_cmd));
	copy_text(st, 28, op->host, sizeof(op->host));
	copy_text(st, 29, op->user, sizeof(op->user));
	op->pid = sqlite3_column_int64(st, 30);
	return 0;
}

/* One byte per operation id in PATH-oplock, locked with an open file
 * description lock: released on close or death, never shared with another
 * descriptor of the same process. */
static int open_oplock_file(struct catalog *cat, struct rc_error *err)
{
	char path[sizeof(cat->path) + 8];
	int fd;

	if (cat->oplock_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%.*s-oplock", (int)sizeof(cat->path) - 1,
		 cat->path);
	fd = catalog_open_side_file(path, err);
	if (fd < 0)
		return fd;
	cat->oplock_fd = fd;
	return 0;
}

static int oplock(struct catalog *cat, int64_t op_id, short type,
		  struct rc_error *err)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = (off_t)op_id, .l_len = 1 };
	int rc = open_oplock_file(cat, err);

	if (rc < 0)
		return rc;
	if (fcntl(cat->oplock_fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return rc_error_set(err, -EBUSY,
			"operation %lld is being carried out by another rowcat",
			(long long)op_id);
	return rc_error_set(err, -errno, "locking operation %lld: %s",
			    (long long)op_id, strerror(errno));
}

static void claim_name(int64_t op_id, char *buf, size_t len)
{
	snprintf(buf, len, "op.%lld", (long long)op_id);
}

/* A catalog in RADOS claims nothing through files beside it: there are
 * none, and other hosts would not see them. */
static int claims_missing(struct catalog *cat, struct rc_error *err)
{
	return rc_error_set(err, -EINVAL, "catalog %s: claims in RADOS are not "
			    "set up", cat->path);
}

int catalog_op_claimed_elsewhere(struct catalog *cat, int64_t op_id,
				 char *holder, size_t len, struct rc_error *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = (off_t)op_id, .l_len = 1 };
	char name[32];
	int rc;

	snprintf(holder, len, "another rowcat");
	if (cat->has_claims) {
		claim_name(op_id, name, sizeof(name));
		return cat->claims.held_elsewhere(cat->claims.ctx, name, holder,
						  len, err);
	}
	if (cat->rados)
		return claims_missing(cat, err);
	rc = open_oplock_file(cat, err);
	if (rc < 0)
		return rc;
	if (fcntl(cat->oplock_fd, F_OFD_GETLK, &fl) < 0)
		return rc_error_set(err, -errno, "testing the claim of operation "
				    "%lld: %s", (long long)op_id, strerror(errno));
	return fl.l_type != F_UNLCK;
}

/*
 * After taking over a claim that expired: the process the journal names
 * may be alive behind a partition, and must be unable to change anything
 * before this one reads what it left (librbd breaks a dead owner's lock
 * in the same order).
 */
static int fence_recorded_holder(struct catalog *cat, int64_t op_id,
				 const char *name, struct rc_error *err)
{
	const char *self = cat->claims.identity(cat->claims.ctx);
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_HOLDER, err);
	char holder[512] = "";
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		copy_text(st, 0, holder, sizeof(holder));
	else
		rc = catalog_sql_error(cat, err, "reading an operation's holder");
	sqlite3_reset(st);
	if (rc < 0 || strcmp(holder, self) == 0)
		return rc;
	if (holder[0]) {
		rc = cat->claims.fence(cat->claims.ctx, name, holder, err);
		if (rc < 0)
			return rc_error_prefix(err, "taking over operation %lld: ",
					       (long long)op_id);
	}
	st = catalog_stmt(cat, Q_OP_SET_HOLDER, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op_id);
	sqlite3_bind_text(st, 2, self, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "recording an operation's holder");
	sqlite3_reset(st);
	return rc;
}

int catalog_op_claim(struct catalog *cat, int64_t op_id, struct rc_error *err)
{
	char name[32];
	int rc;

	if (!cat->has_claims)
		return cat->rados ? claims_missing(cat, err)
				  : oplock(cat, op_id, F_WRLCK, err);
	claim_name(op_id, name, sizeof(name));
	rc = cat->claims.take(cat->claims.ctx, name, err);
	if (rc == -EBUSY) {
		char holder[512];
		struct rc_error ignored;

		if (catalog_op_claimed_elsewhere(cat, op_id, holder,
						 sizeof(holder), &ignored) > 0)
			rc_error_set(err, -EBUSY, "operation %lld is being "
				     "carried out by %s", (long long)op_id,
				     holder);
	}
	if (rc == 0)
		rc = fence_recorded_holder(cat, op_id, name, err);
	if (rc < 0 && rc != -EBUSY)
		cat->claims.drop(cat->claims.ctx, name);
	return rc;
}

void catalog_op_release(struct catalog *cat, int64_t op_id)
{
	struct rc_error ignored;
	char name[32];

	if (cat->has_claims) {
		claim_name(op_id, name, sizeof(name));
		cat->claims.drop(cat->claims.ctx, name);
		return;
	}
	/* best effort: a claim that stays is released when the catalog
	 * closes, and means no more than "busy" until then */
	if (cat->oplock_fd >= 0)
		oplock(cat, op_id, F_UNLCK, &ignored);
}

/*
 * The rules that catalog_op_begin enforces inside its transaction: one
 * running operation per volume (gc's excepted among themselves), and, for
 * an operation on the operating image (snap, restore, flatten), a volume
 * not marked by `rowcat rm` and an operating image that has not moved.
 * Checked here, in the transaction that journals the operation, so that an
 * `rm VOL` committed after the caller's own reads still stops it.
 */
int catalog_volume_check_free(struct catalog *cat,
			       const struct catalog_operation *op,
			       struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_RUNNING_FOR_VOLUME, err);
	struct catalog_volume volume;
	int rc = 0, step;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op->volume_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t other = sqlite3_column_int64(st, 0);
		enum catalog_op_kind other_kind;
		char kind[32], holder[512];
		int held;

		copy_text(st, 1, kind, sizeof(kind));
		rc = catalog_op_kind_parse(kind, &other_kind, err);
		if (rc < 0)
			break;
		/* gc's steps on a volume run side by side */
		if (catalog_op_is_gc(op->kind) && catalog_op_is_gc(other_kind))
			continue;
		/* a claim that cannot be tested says why, rather than
		 * passing for a rowcat that died */
		held = catalog_op_claimed_elsewhere(cat, other, holder,
						    sizeof(holder), err);
		if (held > 0)
			rc = rc_error_set(err, -EBUSY,
				"operation %lld (%s) is in progress in %s",
				(long long)other, kind, holder);
		else if (held == 0)
			rc = rc_error_set(err, -EAGAIN,
				"operation %lld (%s) was left unfinished (its "
				"rowcat was killed, or could not write the "
				"catalog); 'rowcat recover' settles it",
				(long long)other, kind);
		else
			rc = held;
		break;
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "looking for running operations");
	sqlite3_reset(st);
	if (rc < 0 || !op->requires_operating)
		return rc;
	rc = catalog_volume_get(cat, op->volume_id, &volume, err);
	if (rc == 0 && volume.marked_at)
		rc = rc_error_set(err, -EPERM, "volume '%s' was removed ('rowcat "
				  "rm'); it is marked for collection", volume.name);
	else if (rc == 0 && volume.operating_image_id != op->image_id)
		rc = rc_error_set(err, -ESTALE,
			"another rowcat changed the operating image meanwhile");
	return rc;
}

/* catalog_op_begin with the rule check (before the row is written) and
 * the records then (after), both inside the journalling transaction. */
static int op_begin(struct catalog *cat, struct catalog_operation *op,
		    catalog_op_check_fn check, void *check_ctx,
		    catalog_op_then_fn then, void *then_ctx,
		    struct rc_error *err)
{
	const char *kind = catalog_op_kind_name(op->kind);
	sqlite3_stmt *st = NULL;
	int rc;

	if (!kind)
		return rc_error_set(err, -EINVAL, "an operation of no known kind "
				    "(%d) cannot be journalled", (int)op->kind);
	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	op->id = 0;
	op->wall_started_ms = rc_wall_ms();
	if (!op->policy_at)
		op->policy_at = rc_clock_policy_given();
	/* who: this process, whoever filled op in */
	rc_host_name(op->host);
	rc_user_name(op->user);
	op->pid = (int64_t)getpid();
	if (op->volume_id && (rc = catalog_volume_check_free(cat, op, err)) < 0)
		goto out;
	if (check && (rc = check(cat, check_ctx, err)) < 0)
		goto out;
	st = catalog_stmt(cat, Q_OP_INSERT, err);
	if (!st) {
		rc = err->code;
		goto out;
	}
	bind_id(st, 1, op->volume_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	bind_id(st, 3, op->image_id);
	bind_id(st, 4, op->snapshot_id);
	bind_text(st, 5, op->target.pool);
	sqlite3_bind_text(st, 6, op->target.ns, -1, SQLITE_STATIC);
	bind_text(st, 7, op->target.name);
	bind_text(st, 8, op->target_snapshot);
	if (op->size)
		sqlite3_bind_int64(st, 9, (int64_t)op->size);
	sqlite3_bind_int64(st, 10, op->started_at);
	sqlite3_bind_int64(st, 11, op->wall_started_ms);
	bind_text(st, 12, op->origin);
	bind_id(st, 13, op->policy_at);
	bind_text(st, 14, op->reason);
	bind_text(st, 15, op->clients_ignored);
	bind_text(st, 16, cat->has_claims ? cat->claims.identity(cat->claims.ctx)
					   : NULL);
	bind_text(st, 17, op->host);
	bind_text(st, 18, op->user);
	sqlite3_bind_int64(st, 19, op->pid);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = catalog_sql_error(cat, err, "journalling an operation");
		goto out;
	}
	op->id = sqlite3_last_insert_rowid(cat->db);
	op->state = CATALOG_OP_RUNNING;
	op->step = CATALOG_STEP_JOURNALLED;
	op->finished_at = 0;
	assert(catalog_assert_op_state(op));
	if (then && (rc = then(cat, op, then_ctx, err)) < 0)
		goto out;
	/* claimed before it is visible, so no recovery ever sees it free */
	rc = catalog_op_claim(cat, op->id, err);
	if (rc == 0)
		rc = catalog_commit(cat, err);
out:
	if (st)
		sqlite3_reset(st);
	if (rc < 0) {
		catalog_rollback(cat);
		if (op->id)
			catalog_op_release(cat, op->id);
	}
	return rc;
}

int catalog_op_begin(struct catalog *cat, struct catalog_operation *op,
		     struct rc_error *err)
{
	return op_begin(cat, op, NULL, NULL, NULL, NULL, err);
}

int catalog_op_begin_checked(struct catalog *cat, struct catalog_operation *op,
			     catalog_op_check_fn check, void *check_ctx,
			     struct rc_error *err)
{
	return op_begin(cat, op, check, check_ctx, NULL, NULL, err);
}

int catalog_op_begin_then(struct catalog *cat, struct catalog_operation *op,
			  catalog_op_then_fn then, void *then_ctx,
			  struct rc_error *err)
{
	return op_begin(cat, op, NULL, NULL, then, then_ctx, err);
}

/* The UPDATE of catalog_op_set_step, in the caller's transaction. */
static int write_step(struct catalog *cat, const struct catalog_operation *op,
		      enum catalog_op_step step, struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (!catalog_op_step_of_kind(op->kind, step))
		return rc_error_set(err, -EINVAL, "'%s' is not a step of %s",
				    catalog_op_step_name(step) ?
				    catalog_op_step_name(step) : "?",
				    catalog_op_kind_name(op->kind) ?
				    catalog_op_kind_name(op->kind) : "?");
	st = catalog_stmt(cat, Q_OP_SET_STEP, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op->id);
	sqlite3_bind_text(st, 2, catalog_op_step_name(step), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "recording a step");
	sqlite3_reset(st);
	return rc;
}

int catalog_op_write_step(struct catalog *cat,
			  const struct catalog_operation *op,
			  enum catalog_op_step step, struct rc_error *err)
{
	return write_step(cat, op, step, err);
}

int catalog_op_set_step(struct catalog *cat, struct catalog_operation *op,
			enum catalog_op_step step, struct rc_error *err)
{
	int rc;

	if (!catalog_op_step_of_kind(op->kind, step))
		return write_step(cat, op, step, err);
	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	rc = catalog_settle(cat, write_step(cat, op, step, err), err);
	if (rc == 0) {
		op->step = step;
		assert(catalog_assert_op_state(op));
	}
	return rc;
}

int catalog_op_end(struct catalog *cat, struct catalog_operation *op,
		   enum catalog_op_state state, const char *error, int64_t now,
		   struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (state == CATALOG_OP_RUNNING || !catalog_op_state_name(state))
		return rc_error_set(err, -EINVAL, "an operation cannot end "
				    "in state %d", (int)state);
	st = catalog_stmt(cat, Q_OP_END, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op->id);
	sqlite3_bind_text(st, 2, catalog_op_state_name(state), -1,
			  SQLITE_STATIC);
	bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, now);
	bind_id(st, 5, op->volume_id);
	sqlite3_bind_int64(st, 6, rc_wall_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "ending an operation");
	else if (sqlite3_changes(cat->db) != 1)
		rc = rc_error_set(err, -ESTALE,
			"operation %lld is no longer running (another rowcat "
			"finished or recovered it)", (long long)op->id);
	sqlite3_reset(st);
	if (rc == 0) {
		op->state = state;
		op->finished_at = now;
		snprintf(op->error, sizeof(op->error), "%s", error ? error : "");
		assert(catalog_assert_op_state(op));
	}
	return rc;
}

int catalog_op_finish(struct catalog *cat, struct catalog_operation *op,
		      enum catalog_op_state state, const char *error, int64_t now,
		      struct rc_error *err)
{
	enum catalog_op_state state_before = op->state;
	int64_t finished_before = op->finished_at;
	char error_before[sizeof(op->error)];
	int rc;

	memcpy(error_before, op->error, sizeof(error_before));
	rc = catalog_settle(cat, catalog_op_end(cat, op, state, error, now, err),
			    err);
	/* a commit that failed (a full disk) leaves the operation running:
	 * so must the caller's copy, or its words would say it ended */
	if (rc < 0) {
		op->state = state_before;
		op->finished_at = finished_before;
		memcpy(op->error, error_before, sizeof(op->error));
	}
	return rc;
}

int catalog_op_write_target(struct catalog *cat,
			    const struct catalog_operation *op,
			    struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_SET_TARGET, err);
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op->id);
	bind_text(st, 2, op->target.pool);
	sqlite3_bind_text(st, 3, op->target.ns, -1, SQLITE_STATIC);
	bind_text(st, 4, op->target.name);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "recording an operation's target");
	sqlite3_reset(st);
	return rc;
}

int catalog_op_set_target(struct catalog *cat, struct catalog_operation *op,
			  struct rc_error *err)
{
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	return catalog_settle(cat, catalog_op_write_target(cat, op, err), err);
}

int catalog_op_set_consumer(struct catalog *cat, struct catalog_operation *op,
			    struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc = catalog_begin(cat, err);

	if (rc < 0)
		return rc;
	st = catalog_stmt(cat, Q_OP_SET_CONSUMER, err);
	if (!st) {
		rc = err->code;
		goto out;
	}
	sqlite3_bind_int64(st, 1, op->id);
	bind_text(st, 2, op->consumer.where);
	bind_text(st, 3, op->consumer.format_node);
	bind_text(st, 4, op->consumer.storage_node);
	sqlite3_bind_int(st, 5, op->consumer.resume);
	bind_text(st, 6, op->consumer.thaw);
	bind_text(st, 7, op->consumer.switch_cmd);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err,
				       "recording an operation's consumer");
	sqlite3_reset(st);
out:
	return catalog_settle(cat, rc, err);
}

int catalog_op_set_paused(struct catalog *cat, struct catalog_operation *op,
			  int64_t paused_ms, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_SET_PAUSED, err);
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op->id);
	sqlite3_bind_int64(st, 2, paused_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "recording how long a guest "
				       "was paused");
	sqlite3_reset(st);
	if (rc == 0)
		op->paused_ms = paused_ms;
	return rc;
}

/* Reads every row of a prepared operation query into a heap array. */
static int read_ops(struct catalog *cat, sqlite3_stmt *st,
		    struct catalog_operation **out, size_t *count,
		    struct rc_error *err)
{
	struct catalog_operation *ops = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (rc_grow((void **)&ops, &cap, n + 1, sizeof(*ops), 8) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		rc = catalog_read_op(st, &ops[n], err);
		if (rc < 0)
			goto out;
		n++;
	}
	if (step != SQLITE_DONE) {
		rc = catalog_sql_error(cat, err, "reading the journal");
		goto out;
	}
	*out = ops;
	*count = n;
	ops = NULL;
out:
	sqlite3_reset(st);
	free(ops);
	return rc;
}

int catalog_op_list_volume(struct catalog *cat, int64_t volume_id,
			   struct catalog_operation **out, size_t *count,
			   struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_LIST_VOLUME, err);

	*out = NULL;
	*count = 0;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, volume_id);
	return read_ops(cat, st, out, count, err);
}

int catalog_op_get(struct catalog *cat, int64_t id,
		   struct catalog_operation *out, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_GET, err);
	struct catalog_operation *ops = NULL;
	size_t n = 0;
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	rc = read_ops(cat, st, &ops, &n, err);
	if (rc == 0 && n == 0)
		rc = rc_error_set(err, -ENOENT, "no operation %lld in the journal",
				  (long long)id);
	if (rc == 0)
		*out = ops[0];
	free(ops);
	return rc;
}

int catalog_op_list_running(struct catalog *cat, struct catalog_operation **out,
			    size_t *count, struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_LIST_RUNNING, err);

	*out = NULL;
	*count = 0;
	if (!st)
		return err->code;
	return read_ops(cat, st, out, count, err);
}
