/*
 * Counting the catalog's transactions.
 *
 * A catalog in RADOS (Ceph's SQLite VFS) pays a lock round trip for every
 * transaction, including the read transaction that SQLite opens on its own
 * for a statement run outside BEGIN; so the count is of transactions, not
 * of commits. A statement that starts while the connection is in
 * autocommit mode and holds no transaction begins one: a BEGIN (its
 * transaction runs to COMMIT or ROLLBACK), or a statement that is its own
 * transaction. A statement that starts while another one of the
 * connection is still stepping shares that one's transaction, and SQLite
 * says so (sqlite3_txn_state is not NONE). Write commits are counted
 * apart, by the commit hook, which SQLite calls only for a transaction
 * that took the write lock.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The sums of every connection this process has closed: the gc and
 * policy workers each open their own. */
static _Atomic uint64_t closed_transactions;
static _Atomic uint64_t closed_writes;

static int on_trace(unsigned type, void *ctx, void *stmt, void *sql)
{
	struct catalog *cat = ctx;
	const char *text = sql;

	(void)stmt;
	/* a trigger's program starts inside its statement's transaction */
	if (type != SQLITE_TRACE_STMT || (text && strncmp(text, "--", 2) == 0))
		return 0;
	if (!sqlite3_get_autocommit(cat->db) ||
	    sqlite3_txn_state(cat->db, NULL) != SQLITE_TXN_NONE)
		return 0;
	cat->txns.transactions++;
	if (cat->txns_traced)
		fprintf(stderr, "rowcat: catalog transaction %llu: %.120s\n",
			(unsigned long long)cat->txns.transactions,
			text ? text : "?");
	return 0;
}

static int on_commit(void *ctx)
{
	struct catalog *cat = ctx;

	cat->txns.writes++;
	return 0; /* 0: the commit goes ahead */
}

void catalog_txn_count_start(struct catalog *cat)
{
	const char *debug = getenv("ROWCAT_DEBUG_TXNS");

	/* ROWCAT_DEBUG_TXNS=sql: each transaction's first statement, as it
	 * begins, for whoever cuts them (the README's Benchmarks) */
	cat->txns_traced = debug && strcmp(debug, "sql") == 0;
	sqlite3_trace_v2(cat->db, SQLITE_TRACE_STMT, on_trace, cat);
	sqlite3_commit_hook(cat->db, on_commit, cat);
}

void catalog_txn_count_stop(struct catalog *cat)
{
	atomic_fetch_add(&closed_transactions, cat->txns.transactions);
	atomic_fetch_add(&closed_writes, cat->txns.writes);
}

void catalog_txn_counts(const struct catalog *cat,
			struct catalog_txn_counts *out)
{
	if (cat) {
		*out = cat->txns;
		return;
	}
	out->transactions = atomic_load(&closed_transactions);
	out->writes = atomic_load(&closed_writes);
}
