/*
 * Every SQL statement the catalog runs, by name. Each is prepared once per
 * connection, on first use, and takes user input only as bound parameters.
 */
#include "internal.h"

/*
 * The clone chain above an image, one row per image with its distance n
 * (0 for the image itself). ?2 = 1 stops where a flatten cut the chain, so
 * only the images whose data ?1 still reads are returned.
 */
#define ANCESTORS_CTE \
	"WITH RECURSIVE up(id, parent_snapshot_id, flattened_at, n) AS (" \
	"  SELECT id, parent_snapshot_id, flattened_at, 0" \
	"    FROM image WHERE id = ?1" \
	"  UNION ALL" \
	"  SELECT p.id, p.parent_snapshot_id, p.flattened_at, up.n + 1" \
	"    FROM up" \
	"    JOIN snapshot s ON s.id = up.parent_snapshot_id" \
	"    JOIN image p ON p.id = s.image_id" \
	"   WHERE ?2 = 0 OR up.flattened_at IS NULL" \
	") "

/*
 * The images a volume's own images read through on the cluster that are
 * not its own, as up(id, via): each such image, with the snapshot (via)
 * by which the chain reaches it. Only an adopted image can have a parent
 * that is not its volume's (rowcat clones a volume's own snapshots into
 * it), so the walk starts from the volume's adopted images alone, and a
 * volume rowcat created costs nothing here. An adopted image whose parent
 * is its own volume's walks up through its own images: they are left out
 * where the CTE is used (volume_id IS NOT ?1).
 */
#define FOREIGN_UP_CTE \
	"up(id, via) AS (" \
	"  SELECT s.image_id, s.id FROM image c" \
	"    JOIN snapshot s ON s.id = c.parent_snapshot_id" \
	"   WHERE c.volume_id = ?1 AND c.adopted_at IS NOT NULL" \
	"  UNION" \
	"  SELECT s.image_id, s.id FROM up" \
	"    JOIN image i ON i.id = up.id" \
	"    JOIN snapshot s ON s.id = i.parent_snapshot_id" \
	") "

#define GC_VOLUMES_SQL \
	"SELECT id, operating_image_id, marked_at FROM volume"
#define GC_IMAGE_COLUMNS(t) \
	t ".id, " t ".volume_id, " t ".parent_snapshot_id, " t ".created_at, " \
	t ".flattened_at IS NOT NULL, " t ".removed_at IS NOT NULL, " \
	t ".purged_at IS NOT NULL, " t ".trash_until"
#define GC_IMAGES_SQL "SELECT " GC_IMAGE_COLUMNS("image") " FROM image"
#define GC_SNAPSHOT_COLUMNS \
	"s.id, s.image_id, s.created_at, s.marked_at, s.pinned," \
	" s.removed_at IS NOT NULL"
#define GC_SNAPSHOTS_SQL \
	"SELECT " GC_SNAPSHOT_COLUMNS \
	"  FROM snapshot s JOIN image i ON i.id = s.image_id"

static const char *const query_sql[Q_COUNT] = {
	[Q_VOLUME_FIND] =
		"SELECT " CATALOG_VOLUME_COLUMNS("v") " FROM volume v"
		" WHERE v.name = ?1",
	[Q_VOLUME_INSERT] =
		"INSERT INTO volume (name, size, created_at) VALUES (?1, ?2, ?3)",
	[Q_VOLUME_SET_OPERATING] =
		"UPDATE volume SET operating_image_id = ?2 WHERE id = ?1",
	[Q_VOLUME_LIST] =
		"SELECT " CATALOG_VOLUME_COLUMNS("v") ", "
		CATALOG_IMAGE_COLUMNS("i")
		" FROM volume v JOIN image i ON i.id = v.operating_image_id"
		" ORDER BY v.name",
	[Q_VOLUME_GET] =
		"SELECT " CATALOG_VOLUME_COLUMNS("v") " FROM volume v WHERE v.id = ?1",
	[Q_SNAPSHOT_GET] =
		"SELECT " CATALOG_SNAPSHOT_COLUMNS("s") " FROM snapshot s"
		" WHERE s.id = ?1",
	[Q_SNAPSHOT_FIND] =
		"SELECT " CATALOG_SNAPSHOT_COLUMNS("s")
		" FROM snapshot s JOIN image i ON i.id = s.image_id"
		" WHERE i.volume_id = ?1 AND s.name = ?2 AND s.removed_at IS NULL"
		"   AND i.removed_at IS NULL",
	[Q_SNAPSHOT_SET_PROTECTED] =
		"UPDATE snapshot SET protected = ?2 WHERE id = ?1",
	[Q_SNAPSHOT_SET_POLICY_AT] =
		"UPDATE snapshot SET policy_at = ?2 WHERE id = ?1",
	[Q_OP_RUNNING_FOR_VOLUME] =
		"SELECT id, kind FROM operation"
		" WHERE volume_id = ?1 AND state = 'running'",
	[Q_OP_SET_TARGET] =
		"UPDATE operation SET target_pool = ?2, target_namespace = ?3,"
		"  target_image = ?4 WHERE id = ?1 AND state = 'running'",
	[Q_OP_SET_CONSUMER] =
		"UPDATE operation SET consumer = ?2, consumer_format_node = ?3,"
		"  consumer_storage_node = ?4, consumer_resume = ?5,"
		"  consumer_thaw = ?6, consumer_switch = ?7"
		" WHERE id = ?1 AND state = 'running'",
	[Q_OP_SET_PAUSED] =
		"UPDATE operation SET paused_ms = ?2 WHERE id = ?1",
	[Q_VOLUME_SET_CONSUMER] =
		"UPDATE volume SET consumer = ?2, consumer_host = ?3 WHERE id = ?1",
	[Q_OP_LIST_VOLUME] =
		"SELECT " CATALOG_OP_COLUMNS " FROM operation"
		" WHERE volume_id = ?1 ORDER BY id DESC",
	[Q_IMAGE_GET] =
		"SELECT " CATALOG_IMAGE_COLUMNS("i") " FROM image i WHERE i.id = ?1",
	[Q_IMAGE_FIND] =
		"SELECT " CATALOG_IMAGE_COLUMNS("i") " FROM image i"
		" WHERE i.pool = ?1 AND i.namespace = ?2 AND i.name = ?3",
	[Q_IMAGE_INSERT] =
		"INSERT INTO image (volume_id, pool, namespace, name,"
		"                   parent_snapshot_id, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_IMAGE_SET_FLATTENED] =
		"UPDATE image SET flattened_at = ?2 WHERE id = ?1",
	[Q_SNAPSHOT_INSERT] =
		"INSERT INTO snapshot (image_id, name, origin, protected, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_VOLUME_SNAPSHOT_COUNT] =
		"SELECT count(*) FROM snapshot s JOIN image i ON i.id = s.image_id"
		" WHERE i.volume_id = ?1 AND s.removed_at IS NULL",
	/*
	 * A volume's lineage: its own images, and the images its topmost own
	 * images read through that are not its own (foreign ancestors, other
	 * volumes' images), up to the root; depths are counted in C.
	 */
	[Q_LINEAGE_IMAGES] =
		"WITH RECURSIVE " FOREIGN_UP_CTE
		"SELECT " CATALOG_IMAGE_COLUMNS("i") " FROM image i"
		" WHERE i.volume_id = ?1"
		" UNION "
		"SELECT " CATALOG_IMAGE_COLUMNS("i")
		" FROM up CROSS JOIN image i ON i.id = up.id"
		" WHERE i.volume_id IS NOT ?1"
		" ORDER BY 1",
	/* Every snapshot of the volume's own images, and of the images
	 * above them only those the chain goes through. */
	[Q_LINEAGE_SNAPSHOTS] =
		"WITH RECURSIVE " FOREIGN_UP_CTE
		"SELECT " CATALOG_SNAPSHOT_COLUMNS("s")
		" FROM snapshot s JOIN image i ON i.id = s.image_id"
		" WHERE i.volume_id = ?1"
		" UNION "
		"SELECT " CATALOG_SNAPSHOT_COLUMNS("s")
		" FROM up CROSS JOIN snapshot s ON s.id = up.via"
		" JOIN image i ON i.id = s.image_id"
		" WHERE i.volume_id IS NOT ?1"
		" ORDER BY 6, 1",
	/* The snapshot called ?2 that volume ?1 reads through on an image
	 * not its own, with that image's volume (NULL: a foreign one). */
	[Q_SNAPSHOT_FIND_ABOVE] =
		"WITH RECURSIVE " FOREIGN_UP_CTE
		"SELECT " CATALOG_SNAPSHOT_COLUMNS("s") ", v.name"
		" FROM up CROSS JOIN snapshot s ON s.id = up.via"
		" JOIN image i ON i.id = s.image_id"
		" LEFT JOIN volume v ON v.id = i.volume_id"
		" WHERE i.volume_id IS NOT ?1 AND s.name = ?2"
		" ORDER BY s.id DESC LIMIT 1",
	[Q_IMAGE_ANCESTORS] =
		ANCESTORS_CTE
		"SELECT " CATALOG_IMAGE_COLUMNS("i")
		" FROM up CROSS JOIN image i ON i.id = up.id WHERE up.n > 0"
		" ORDER BY up.n",
	[Q_IMAGE_DEPTH] =
		ANCESTORS_CTE "SELECT max(n) FROM up",
	[Q_OP_INSERT] =
		"INSERT INTO operation (volume_id, kind, step, image_id,"
		"  snapshot_id, target_pool, target_namespace, target_image,"
		"  target_snapshot, size, started_at, wall_started_ms, origin,"
		"  policy_at, reason, clients_ignored, holder, host, user, pid)"
		" VALUES (?1, ?2, 'journalled', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		"         ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[Q_OP_GET] =
		"SELECT " CATALOG_OP_COLUMNS " FROM operation WHERE id = ?1",
	[Q_OP_HOLDER] =
		"SELECT holder FROM operation WHERE id = ?1",
	[Q_OP_SET_HOLDER] =
		"UPDATE operation SET holder = ?2 WHERE id = ?1",
	[Q_OP_SET_STEP] =
		"UPDATE operation SET step = ?2 WHERE id = ?1 AND state = 'running'",
	[Q_OP_LIST_RUNNING] =
		"SELECT " CATALOG_OP_COLUMNS " FROM operation"
		" WHERE state = 'running' ORDER BY id",
	[Q_OP_END] =
		"UPDATE operation SET state = ?2, error = ?3, finished_at = ?4,"
		"  volume_id = ?5, wall_finished_ms = ?6"
		" WHERE id = ?1 AND state = 'running'",
	/* What the gc planner sees, of every volume or (_ONE) of ?1 only:
	 * two statements, because "?1 = 0 OR volume_id = ?1" defeats the
	 * index and each gc step re-plans its volume inside its transaction. */
	[Q_GC_VOLUMES] = GC_VOLUMES_SQL " ORDER BY id",
	[Q_GC_VOLUMES_ONE] = GC_VOLUMES_SQL " WHERE id = ?1 ORDER BY id",
	[Q_GC_IMAGES] = GC_IMAGES_SQL " ORDER BY id",
	/* One volume's images, and what decides them that is not its own:
	 * the images of other volumes (or of none) cloned from its snapshots,
	 * and the images it reads through up to the root. Only adopted
	 * images can be either (see FOREIGN_UP_CTE). */
	[Q_GC_IMAGES_ONE] =
		"WITH RECURSIVE " FOREIGN_UP_CTE
		"SELECT " GC_IMAGE_COLUMNS("i") " FROM image i"
		" WHERE i.volume_id = ?1"
		" UNION "
		"SELECT " GC_IMAGE_COLUMNS("i")
		" FROM up CROSS JOIN image i ON i.id = up.id"
		" WHERE i.volume_id IS NOT ?1"
		" UNION "
		"SELECT " GC_IMAGE_COLUMNS("c")
		" FROM image o JOIN snapshot s ON s.image_id = o.id"
		" JOIN image c ON c.parent_snapshot_id = s.id"
		" WHERE o.volume_id = ?1 AND c.adopted_at IS NOT NULL"
		"   AND c.volume_id IS NOT ?1"
		" ORDER BY 1",
	[Q_GC_SNAPSHOTS] = GC_SNAPSHOTS_SQL " ORDER BY s.id",
	[Q_GC_SNAPSHOTS_ONE] =
		"WITH RECURSIVE " FOREIGN_UP_CTE
		"SELECT " GC_SNAPSHOT_COLUMNS
		" FROM snapshot s JOIN image i ON i.id = s.image_id"
		" WHERE i.volume_id = ?1"
		" UNION "
		"SELECT " GC_SNAPSHOT_COLUMNS
		" FROM up CROSS JOIN snapshot s ON s.id = up.via"
		" JOIN image i ON i.id = s.image_id"
		" WHERE i.volume_id IS NOT ?1"
		" ORDER BY 1",
	/* catalog_gc_plan_catalog's two cursors, read side by side: every
	 * image, newest first, with the image its parent snapshot is of;
	 * every snapshot, grouped by image in the same order. Ordered by
	 * image alone: the (image_id, name) index walks that order as it is,
	 * where "s.id DESC" too added a sorter for every image's run, over a
	 * quarter of the read at a million snapshots; gc_rows.c's next_image
	 * puts each image's few snapshots in id order. The parent snapshot's
	 * image is its image_id: one primary-key search a link, not a
	 * second one for that image, which the foreign key (checked after
	 * every migration) already guarantees is there. */
	[Q_GC_IMAGES_NEWEST_FIRST] =
		"SELECT " GC_IMAGE_COLUMNS("i") ", p.image_id"
		" FROM image i LEFT JOIN snapshot p ON p.id = i.parent_snapshot_id"
		" ORDER BY i.id DESC",
	[Q_GC_SNAPSHOTS_NEWEST_IMAGE_FIRST] =
		"SELECT " GC_SNAPSHOT_COLUMNS " FROM snapshot s"
		" ORDER BY s.image_id DESC",
	[Q_SNAPSHOT_MARK] =
		"UPDATE snapshot SET marked_at = coalesce(marked_at, ?2)"
		" WHERE id = ?1",
	[Q_VOLUME_MARK] =
		"UPDATE volume SET marked_at = coalesce(marked_at, ?2) WHERE id = ?1",
	[Q_SNAPSHOT_EXPIRE] =
		"UPDATE snapshot SET marked_at = ?2"
		" WHERE id = ?1 AND origin = ?3 AND marked_at IS NULL"
		" AND pinned = 0 AND removed_at IS NULL"
		" AND image_id IN (SELECT id FROM image WHERE volume_id = ?4)",
	[Q_SNAPSHOT_SET_PINNED] =
		"UPDATE snapshot SET pinned = ?2 WHERE id = ?1",
	[Q_IMAGE_IDENTIFY] =
		"UPDATE image SET rbd_id = ?2 WHERE id = ?1",
	[Q_IMAGE_SET_TRASH_UNTIL] =
		"UPDATE image SET trash_until = ?2 WHERE id = ?1",
	[Q_IMAGE_TRASHED] =
		"UPDATE image SET removed_at = ?2, removed_why = ?3"
		" WHERE id = ?1 AND removed_at IS NULL",
	[Q_IMAGE_PURGED] =
		"UPDATE image SET purged_at = ?2 WHERE id = ?1 AND purged_at IS NULL",
	[Q_SNAPSHOT_REMOVED] =
		"UPDATE snapshot SET removed_at = ?2, removed_why = ?3, protected = 0"
		" WHERE id = ?1 AND removed_at IS NULL",
	/* unrm: the live snapshot of that name first, else the newest gc
	 * removed, whatever became of its image */
	[Q_SNAPSHOT_FIND_ANY] =
		"SELECT " CATALOG_SNAPSHOT_COLUMNS("s")
		" FROM snapshot s JOIN image i ON i.id = s.image_id"
		" WHERE i.volume_id = ?1 AND s.name = ?2"
		" ORDER BY s.removed_at IS NOT NULL, s.id DESC LIMIT 1",
	[Q_IMAGE_UNTRASHED] =
		"UPDATE image SET removed_at = NULL, removed_why = NULL,"
		" trash_until = NULL WHERE id = ?1 AND purged_at IS NULL",
	[Q_SNAPSHOT_UNMARK] =
		"UPDATE snapshot SET marked_at = NULL WHERE id = ?1",
	[Q_VOLUME_UNMARK] =
		"UPDATE volume SET marked_at = NULL WHERE id = ?1",
	/* adopt: an image found on the cluster (volume ?1 NULL: a foreign
	 * ancestor), with Ceph's creation time and librbd's id */
	[Q_ADOPT_IMAGE_INSERT] =
		"INSERT INTO image (volume_id, pool, namespace, name,"
		"                   parent_snapshot_id, created_at, rbd_id,"
		"                   adopted_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_ADOPT_IMAGE_OWN] =
		"UPDATE image SET volume_id = ?2 WHERE id = ?1 AND volume_id IS NULL",
	/* whatever gc did to it: the name is taken on that image either way */
	[Q_ADOPT_SNAPSHOT_FIND] =
		"SELECT " CATALOG_SNAPSHOT_COLUMNS("s") " FROM snapshot s"
		" WHERE s.image_id = ?1 AND s.name = ?2",
	[Q_ADOPT_SNAPSHOT_INSERT] =
		"INSERT INTO snapshot (image_id, name, origin, protected, created_at,"
		"                      pinned)"
		" VALUES (?1, ?2, 'adopted', ?3, ?4, ?5)",
	/* an adopt is journalled done: it changed the catalog alone, in the
	 * transaction that writes this row */
	[Q_ADOPT_OP_INSERT] =
		"INSERT INTO operation (volume_id, kind, state, step, image_id,"
		"  target_pool, target_namespace, target_image, size, started_at,"
		"  finished_at, wall_started_ms, wall_finished_ms, holder, host,"
		"  user, pid)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?11,"
		"         ?12, ?13, ?14, ?15)",
};

sqlite3_stmt *catalog_stmt(struct catalog *cat, enum catalog_query q,
			   struct rc_error *err)
{
	sqlite3_stmt *st = cat->stmts[q];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(cat->db, query_sql[q], -1,
			       SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		catalog_sql_error(cat, err, "preparing a catalog query");
		return NULL;
	}
	cat->stmts[q] = st;
	return st;
}
