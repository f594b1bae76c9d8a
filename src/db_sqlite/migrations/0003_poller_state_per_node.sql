-- One poller position per ingestion node (a backend may read several). Row 1 keeps its id, key and
-- time: it stays the single-process server's position, and the single node of an upgraded split
-- backend adopts it (node_id set on first contact), so an upgrade neither re-reads nor skips.
-- SQLite cannot drop the old CHECK (id = 1) in place, hence the copy.
CREATE TABLE poller_state_per_node (
  id INTEGER PRIMARY KEY,
  last_key BLOB NOT NULL CHECK (length(last_key) = 8),
  updated_at TEXT NOT NULL,
  -- The id the ingestion node reports (DescribeNode); NULL for row 1 until a node adopts it.
  node_id TEXT UNIQUE CHECK (node_id IS NULL OR length(node_id) = 32)
);
INSERT INTO poller_state_per_node (id, last_key, updated_at) SELECT id, last_key, updated_at FROM poller_state;
DROP TABLE poller_state;
ALTER TABLE poller_state_per_node RENAME TO poller_state;
