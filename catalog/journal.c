/*
 * The operations journal: the intent log that lets an interrupted operation
 * be finished or undone after a crash.
 */
#include <errno.h>
#include <stdio.h>

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

int catalog_op_begin(struct catalog *cat, struct catalog_operation *op,
		     struct rc_error *err)
{
	sqlite3_stmt *st;
	int rc;

	rc = catalog_begin(cat, err);
	if (rc < 0)
		return rc;
	st = catalog_stmt(cat, Q_OP_INSERT, err);
	if (!st) {
		rc = err->code;
		goto out;
	}
	bind_id(st, 1, op->volume_id);
	sqlite3_bind_text(st, 2, op->kind, -1, SQLITE_STATIC);
	bind_id(st, 3, op->image_id);
	bind_id(st, 4, op->snapshot_id);
	bind_text(st, 5, op->target.pool);
	sqlite3_bind_text(st, 6, op->target.ns, -1, SQLITE_STATIC);
	bind_text(st, 7, op->target.name);
	bind_text(st, 8, op->target_snapshot);
	if (op->size)
		sqlite3_bind_int64(st, 9, (int64_t)op->size);
	sqlite3_bind_int64(st, 10, op->started_at);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = catalog_sql_error(cat, err, "journalling an operation");
		goto out;
	}
	op->id = sqlite3_last_insert_rowid(cat->db);
	snprintf(op->state, sizeof(op->state), "running");
	snprintf(op->step, sizeof(op->step), "journalled");
	rc = catalog_commit(cat, err);
out:
	if (st)
		sqlite3_reset(st);
	if (rc < 0)
		catalog_rollback(cat);
	return rc;
}

int catalog_op_end(struct catalog *cat, struct catalog_operation *op,
		   const char *state, const char *error, int64_t now,
		   struct rc_error *err)
{
	sqlite3_stmt *st = catalog_stmt(cat, Q_OP_END, err);
	int rc = 0;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, op->id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, now);
	bind_id(st, 5, op->volume_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = catalog_sql_error(cat, err, "ending an operation");
	else if (sqlite3_changes(cat->db) != 1)
		rc = rc_error_set(err, -ESTALE,
			"operation %lld is no longer running (another rowcat "
			"finished or recovered it)", (long long)op->id);
	sqlite3_reset(st);
	if (rc == 0) {
		snprintf(op->state, sizeof(op->state), "%s", state);
		op->finished_at = now;
	}
	return rc;
}
