-- rowcat catalog schema.
--
-- The file is a list of migrations, each starting with a line
-- "-- migration N". catalog/ embeds this file at build time and applies, in
-- one transaction each, every migration whose N is above the catalog's
-- PRAGMA user_version, then sets user_version to N. Migrations only ever go
-- forward: once released, a migration is never edited, only followed.
--
-- Times are whole seconds since the Unix epoch, UTC.
--
-- The lineage is a tree: an image is either a root (parent_snapshot_id NULL)
-- or a clone of a snapshot; a snapshot belongs to one image. A volume owns
-- a tree of images and names the one that writes go to now (its operating
-- image).

-- migration 1

CREATE TABLE volume (
  id                 INTEGER PRIMARY KEY,
  name               TEXT    NOT NULL UNIQUE,
  size               INTEGER NOT NULL CHECK (size > 0),
  -- NULL only inside the transaction that creates the volume
  operating_image_id INTEGER REFERENCES image (id) DEFERRABLE INITIALLY DEFERRED,
  created_at         INTEGER NOT NULL,
  -- set by "rowcat rm VOL": everything of the volume may be collected
  marked_at          INTEGER
);

CREATE TABLE image (
  id                 INTEGER PRIMARY KEY,
  volume_id          INTEGER NOT NULL REFERENCES volume (id),
  pool               TEXT    NOT NULL,
  namespace          TEXT    NOT NULL DEFAULT '',
  name               TEXT    NOT NULL,
  -- the snapshot this image was cloned from; kept after a flatten, as history
  parent_snapshot_id INTEGER REFERENCES snapshot (id),
  -- when set, the image no longer reads through its parent on the cluster
  flattened_at       INTEGER,
  created_at         INTEGER NOT NULL,
  -- set when gc has removed the image from the cluster
  removed_at         INTEGER,
  removed_why        TEXT,
  UNIQUE (pool, namespace, name)
);
CREATE INDEX image_by_volume ON image (volume_id);
CREATE INDEX image_by_parent ON image (parent_snapshot_id);

CREATE TABLE snapshot (
  id          INTEGER PRIMARY KEY,
  image_id    INTEGER NOT NULL REFERENCES image (id),
  name        TEXT    NOT NULL,
  protected   INTEGER NOT NULL DEFAULT 0 CHECK (protected IN (0, 1)),
  -- why it was taken: 'manual', 'pre-restore', 'policy:NAME'
  origin      TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  pinned      INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  marked_at   INTEGER,
  removed_at  INTEGER,
  removed_why TEXT,
  UNIQUE (image_id, name)
);

-- The operations journal (the intent log). A row is written and committed
-- before anything is done on the cluster; `step` records the last step that
-- completed; the final catalog change sets state to 'done' in the same
-- transaction. Recovery finishes or undoes every row still 'running'.
-- A volume has at most one running operation: the transaction that
-- journals one refuses while another is running.
--
--   kind      image_id           snapshot_id       target_snapshot  target_*
--   create    -                  -                 -                the image
--   snap      operating image    -                 the new snapshot the clone
--   restore   operating image    snapshot restored the safety snap  the clone
--   flatten   operating image    -                 -                -
CREATE TABLE operation (
  id           INTEGER PRIMARY KEY,
  volume_id    INTEGER REFERENCES volume (id),
  kind         TEXT    NOT NULL,
  state        TEXT    NOT NULL DEFAULT 'running'
               CHECK (state IN ('running', 'done', 'failed', 'rolled-back')),
  step         TEXT    NOT NULL DEFAULT 'journalled',
  -- what the operation works on, chosen before the first cluster call so
  -- that every step can look first and recognise its own work
  image_id     INTEGER REFERENCES image (id),
  snapshot_id  INTEGER REFERENCES snapshot (id),
  target_pool  TEXT,
  target_namespace TEXT,
  target_image TEXT,
  target_snapshot TEXT,
  -- the origin the new snapshot will be recorded with
  origin       TEXT,
  size         INTEGER,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  -- real elapsed time, in milliseconds of the wall clock (started_at and
  -- finished_at follow rowcat's clock, which a policy run may replace)
  wall_started_ms  INTEGER,
  wall_finished_ms INTEGER,
  error        TEXT
);
CREATE INDEX operation_by_volume ON operation (volume_id, started_at);
CREATE INDEX operation_running ON operation (state) WHERE state = 'running';

-- migration 2
--
-- gc: an image leaves the lineage in two stages. Moved to the RBD trash, it
-- gets removed_at and trash_until (until then `rbd trash restore` brings it
-- back); purged from the trash, it gets purged_at. rbd_id is librbd's id of
-- the image, which names it in the trash, recorded before the move.
--
--   kind          image_id        snapshot_id
--   gc-trash      the image       -
--   gc-snapshot   its image       the snapshot unprotected and removed
--   gc-purge      the image       -
--
-- gc operations exclude snap, restore and flatten on their volume (and
-- these exclude them) but not each other: one gc runs many at once.

ALTER TABLE image ADD COLUMN rbd_id TEXT;
ALTER TABLE image ADD COLUMN trash_until INTEGER;
ALTER TABLE image ADD COLUMN purged_at INTEGER;

-- migration 3
--
-- Two clocks. Every *_at column above records the real time of what
-- happened: gc judges --min-age and --trash-delay by them on the real clock,
-- so a rehearsal must never write another time there. `policy run --now`
-- sets a policy clock that decides what a policy takes and expires; where a
-- row was made under it, policy_at keeps that time beside the real one
-- (NULL: the policy clock was the real clock). A snapshot's policy_at is
-- the time its schedule and retention count it as taken.

ALTER TABLE snapshot ADD COLUMN policy_at INTEGER;
ALTER TABLE operation ADD COLUMN policy_at INTEGER;

-- migration 4
--
-- Typed operations. The kinds and states of an operation are listed in
-- CHECK constraints, the same words as catalog/operation.c's name tables,
-- so that nothing else gets into the journal. gc's steps say why they
-- collect in a column of their own, reason (the words of
-- catalog_gc_reason_text); before, they kept it in origin, which is the
-- origin of the snapshot a snap or restore takes: gc rows move it across.
--
--   kind          origin                        reason
--   snap          'manual', 'policy:NAME'       -
--   restore       'pre-restore'                 -
--   gc-*          -                             'volume removed', ...
--
-- SQLite cannot add a CHECK to a table, so the table is rebuilt as its
-- documentation says ("Making Other Kinds Of Table Schema Changes"): a
-- new table, every row copied, the old one dropped, the new one renamed,
-- its indexes made again. No table refers to operation, and it has no
-- trigger or view. A row of a kind or state not listed makes the copy,
-- and so the whole step, fail: the catalog stays as it was.

CREATE TABLE operation_new (
  id           INTEGER PRIMARY KEY,
  volume_id    INTEGER REFERENCES volume (id),
  kind         TEXT    NOT NULL
               CHECK (kind IN ('create', 'snap', 'restore', 'flatten',
                               'gc-trash', 'gc-snapshot', 'gc-purge')),
  state        TEXT    NOT NULL DEFAULT 'running'
               CHECK (state IN ('running', 'done', 'failed', 'rolled-back')),
  step         TEXT    NOT NULL DEFAULT 'journalled',
  image_id     INTEGER REFERENCES image (id),
  snapshot_id  INTEGER REFERENCES snapshot (id),
  target_pool  TEXT,
  target_namespace TEXT,
  target_image TEXT,
  target_snapshot TEXT,
  -- snap and restore: the origin the new snapshot will be recorded with
  origin       TEXT,
  size         INTEGER,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  wall_started_ms  INTEGER,
  wall_finished_ms INTEGER,
  error        TEXT,
  policy_at    INTEGER,
  -- gc's kinds: why the step collects (also the row's removed_why)
  reason       TEXT
);

INSERT INTO operation_new
  (id, volume_id, kind, state, step, image_id, snapshot_id, target_pool,
   target_namespace, target_image, target_snapshot, origin, size,
   started_at, finished_at, wall_started_ms, wall_finished_ms, error,
   policy_at, reason)
SELECT id, volume_id, kind, state, step, image_id, snapshot_id, target_pool,
       target_namespace, target_image, target_snapshot,
       CASE WHEN kind IN ('gc-trash', 'gc-snapshot', 'gc-purge')
            THEN NULL ELSE origin END,
       size, started_at, finished_at, wall_started_ms, wall_finished_ms,
       error, policy_at,
       CASE WHEN kind IN ('gc-trash', 'gc-snapshot', 'gc-purge')
            THEN origin END
  FROM operation;

DROP TABLE operation;
ALTER TABLE operation_new RENAME TO operation;
CREATE INDEX operation_by_volume ON operation (volume_id, started_at);
CREATE INDEX operation_running ON operation (state) WHERE state = 'running';

-- migration 5
--
-- Attached volumes. snap and restore refuse while another client has the
-- operating image open, unless the operator says it only reads
-- (--ignore-clients); then the operation keeps whom it ignored, as the
-- refusal would have named them ("client.4449 at 127.0.0.1:0/1256915530,
-- ..."), and `rowcat log` shows it. NULL: no client was ignored.

ALTER TABLE operation ADD COLUMN clients_ignored TEXT;

-- migration 6
--
-- Live volumes. A volume may name its consumer: the running QEMU whose
-- guest disk is the volume's operating image, as where to reach its
-- monitor ('unix:PATH' of a QMP socket, or 'virsh:DOMAIN'). A snap of a
-- volume with a consumer pauses the guest, takes the snapshot, and
-- switches the guest's disk to the clone before it resumes it.
--
-- The operation records what it needs to finish or undo that after a
-- crash: where the consumer was reached, the guest's format node and the
-- storage node it read before, whether rowcat paused a running guest (and
-- so must resume it), and how long the guest was paused.
--
-- A snap whose consumer is the operator's hooks (--on-freeze/--on-thaw:
-- krbd or rbd-nbd under device-mapper, a script) records consumer
-- 'hooks', and the commands recovery must run without being given them:
-- the thaw hook, and the switch hook that repoints the consumer before it
-- is thawed (NULL: none was given).

ALTER TABLE volume ADD COLUMN consumer TEXT;
ALTER TABLE operation ADD COLUMN consumer TEXT;
ALTER TABLE operation ADD COLUMN consumer_format_node TEXT;
ALTER TABLE operation ADD COLUMN consumer_storage_node TEXT;
ALTER TABLE operation ADD COLUMN consumer_resume INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operation ADD COLUMN paused_ms INTEGER;
ALTER TABLE operation ADD COLUMN consumer_thaw TEXT;
ALTER TABLE operation ADD COLUMN consumer_switch TEXT;

-- migration 7
--
-- Undo of `rowcat rm`. An unrm operation clears the mark of a volume (or
-- of one snapshot) and restores from the RBD trash every image that gc
-- moved there and that the volume needs again once the mark is gone; the
-- images' removed_at, removed_why and trash_until are cleared, and the
-- mark, in the transaction that ends it.
--
--   kind      image_id               snapshot_id
--   unrm      the operating image    the snapshot unmarked (unrm VOL@SNAP)
--
-- The kind is added to the CHECK of operation.kind: the table is rebuilt
-- as migration 4 rebuilt it, with every column since, in the same order.

CREATE TABLE operation_new (
  id           INTEGER PRIMARY KEY,
  volume_id    INTEGER REFERENCES volume (id),
  kind         TEXT    NOT NULL
               CHECK (kind IN ('create', 'snap', 'restore', 'flatten',
                               'gc-trash', 'gc-snapshot', 'gc-purge',
                               'unrm')),
  state        TEXT    NOT NULL DEFAULT 'running'
               CHECK (state IN ('running', 'done', 'failed', 'rolled-back')),
  step         TEXT    NOT NULL DEFAULT 'journalled',
  image_id     INTEGER REFERENCES image (id),
  snapshot_id  INTEGER REFERENCES snapshot (id),
  target_pool  TEXT,
  target_namespace TEXT,
  target_image TEXT,
  target_snapshot TEXT,
  origin       TEXT,
  size         INTEGER,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  wall_started_ms  INTEGER,
  wall_finished_ms INTEGER,
  error        TEXT,
  policy_at    INTEGER,
  reason       TEXT,
  clients_ignored TEXT,
  consumer     TEXT,
  consumer_format_node TEXT,
  consumer_storage_node TEXT,
  consumer_resume INTEGER NOT NULL DEFAULT 0,
  paused_ms    INTEGER,
  consumer_thaw TEXT,
  consumer_switch TEXT
);

INSERT INTO operation_new
  (id, volume_id, kind, state, step, image_id, snapshot_id, target_pool,
   target_namespace, target_image, target_snapshot, origin, size,
   started_at, finished_at, wall_started_ms, wall_finished_ms, error,
   policy_at, reason, clients_ignored, consumer, consumer_format_node,
   consumer_storage_node, consumer_resume, paused_ms, consumer_thaw,
   consumer_switch)
SELECT id, volume_id, kind, state, step, image_id, snapshot_id, target_pool,
       target_namespace, target_image, target_snapshot, origin, size,
       started_at, finished_at, wall_started_ms, wall_finished_ms, error,
       policy_at, reason, clients_ignored, consumer, consumer_format_node,
       consumer_storage_node, consumer_resume, paused_ms, consumer_thaw,
       consumer_switch
  FROM operation;

DROP TABLE operation;
ALTER TABLE operation_new RENAME TO operation;
CREATE INDEX operation_by_volume ON operation (volume_id, started_at);
CREATE INDEX operation_running ON operation (state) WHERE state = 'running';

-- migration 8
-- A catalog that many hosts share (in RADOS): which process journalled an
-- operation, so that a host taking it over can fence that process first,
-- and on which host a volume's consumer runs, so that another host does not
-- try to reach it.
ALTER TABLE operation ADD COLUMN holder TEXT;
ALTER TABLE volume ADD COLUMN consumer_host TEXT;

-- migration 9
--
-- Adopted images, and who made each change.
--
-- `rowcat adopt` records images rowcat did not create: a volume's
-- operating image with its snapshots, and the images its chain reads
-- through on the cluster up to the root. adopted_at is when rowcat
-- recorded an image it found (NULL: rowcat created it; created_at is then
-- Ceph's creation time). An image of that chain that is no volume's own (a
-- Glance image a Cinder volume was cloned from) has no volume: volume_id
-- NULL. rowcat reads through such a foreign ancestor and never collects,
-- protects, unprotects or removes it or its snapshots. An adopted image's
-- parent may also be another volume's image: adoption shares ancestors as
-- the cluster shares them. Adopted snapshots have origin 'adopted'.
--
-- Each operation records who journalled it: the host (rowcat's host name,
-- $ROWCAT_HOST), the user (the login name of the process's real uid) and
-- the pid. An adopt is an operation too: it changes only the catalog, in
-- one transaction, and is journalled done.
--
-- Both tables are rebuilt as SQLite's documentation says, with foreign
-- keys off for this migration (the runner turns them off around it and
-- runs foreign_key_check before it commits): image, because a column
-- cannot drop NOT NULL; operation, to add the kind to its CHECK.

CREATE TABLE image_new (
  id                 INTEGER PRIMARY KEY,
  -- NULL: a foreign ancestor, no volume's own
  volume_id          INTEGER REFERENCES volume (id),
  pool               TEXT    NOT NULL,
  namespace          TEXT    NOT NULL DEFAULT '',
  name               TEXT    NOT NULL,
  parent_snapshot_id INTEGER REFERENCES snapshot (id),
  flattened_at       INTEGER,
  created_at         INTEGER NOT NULL,
  removed_at         INTEGER,
  removed_why        TEXT,
  rbd_id             TEXT,
  trash_until        INTEGER,
  purged_at          INTEGER,
  adopted_at         INTEGER,
  UNIQUE (pool, namespace, name)
);

INSERT INTO image_new
  (id, volume_id, pool, namespace, name, parent_snapshot_id, flattened_at,
   created_at, removed_at, removed_why, rbd_id, trash_until, purged_at)
SELECT id, volume_id, pool, namespace, name, parent_snapshot_id, flattened_at,
       created_at, removed_at, removed_why, rbd_id, trash_until, purged_at
  FROM image;

DROP TABLE image;
ALTER TABLE image_new RENAME TO image;
CREATE INDEX image_by_volume ON image (volume_id);
CREATE INDEX image_by_parent ON image (parent_snapshot_id);

CREATE TABLE operation_new (
  id           INTEGER PRIMARY KEY,
  volume_id    INTEGER REFERENCES volume (id),
  kind         TEXT    NOT NULL
               CHECK (kind IN ('create', 'snap', 'restore', 'flatten',
                               'gc-trash', 'gc-snapshot', 'gc-purge',
                               'unrm', 'adopt')),
  state        TEXT    NOT NULL DEFAULT 'running'
               CHECK (state IN ('running', 'done', 'failed', 'rolled-back')),
  step         TEXT    NOT NULL DEFAULT 'journalled',
  image_id     INTEGER REFERENCES image (id),
  snapshot_id  INTEGER REFERENCES snapshot (id),
  target_pool  TEXT,
  target_namespace TEXT,
  target_image TEXT,
  target_snapshot TEXT,
  origin       TEXT,
  size         INTEGER,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  wall_started_ms  INTEGER,
  wall_finished_ms INTEGER,
  error        TEXT,
  policy_at    INTEGER,
  reason       TEXT,
  clients_ignored TEXT,
  consumer     TEXT,
  consumer_format_node TEXT,
  consumer_storage_node TEXT,
  consumer_resume INTEGER NOT NULL DEFAULT 0,
  paused_ms    INTEGER,
  consumer_thaw TEXT,
  consumer_switch TEXT,
  holder       TEXT,
  host         TEXT,
  user         TEXT,
  pid          INTEGER
);

INSERT INTO operation_new
  (id, volume_id, kind, state, step, image_id, snapshot_id, target_pool,
   target_namespace, target_image, target_snapshot, origin, size,
   started_at, finished_at, wall_started_ms, wall_finished_ms, error,
   policy_at, reason, clients_ignored, consumer, consumer_format_node,
   consumer_storage_node, consumer_resume, paused_ms, consumer_thaw,
   consumer_switch, holder)
SELECT id, volume_id, kind, state, step, image_id, snapshot_id, target_pool,
       target_namespace, target_image, target_snapshot, origin, size,
       started_at, finished_at, wall_started_ms, wall_finished_ms, error,
       policy_at, reason, clients_ignored, consumer, consumer_format_node,
       consumer_storage_node, consumer_resume, paused_ms, consumer_thaw,
       consumer_switch, holder
  FROM operation;

DROP TABLE operation;
ALTER TABLE operation_new RENAME TO operation;
CREATE INDEX operation_by_volume ON operation (volume_id, started_at);
CREATE INDEX operation_running ON operation (state) WHERE state = 'running';
