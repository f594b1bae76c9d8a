// The ingestion poller's cursor: the key of the last write-ahead-log record committed to the span
// store, stored as 8 bytes big-endian so it survives restarts exactly (no float rounding of a 64-bit
// key). One row per WAL: row 1 for the single-process server's own WAL, one row per ingestion node
// (by the id the node reports) for a split backend.
import { inWriteTransaction, type Sqlite } from '../connection.ts';

const SELECT_LOCAL = 'SELECT last_key FROM poller_state WHERE id = 1';
const UPSERT_LOCAL = `INSERT INTO poller_state (id, last_key, updated_at) VALUES (1, ?, ?)
  ON CONFLICT (id) DO UPDATE SET last_key = excluded.last_key, updated_at = excluded.updated_at`;
const SELECT_NODE = 'SELECT last_key FROM poller_state WHERE node_id = ?';
const UPSERT_NODE = `INSERT INTO poller_state (node_id, last_key, updated_at) VALUES (?, ?, ?)
  ON CONFLICT (node_id) DO UPDATE SET last_key = excluded.last_key, updated_at = excluded.updated_at`;
const ADOPT_ROW_ONE = 'UPDATE poller_state SET node_id = ? WHERE id = 1 AND node_id IS NULL';

const MAX_KEY = (1n << 64n) - 1n;

export interface PollerStateRepository {
  /** null until the poller has committed its first batch. */
  getLastKey(): bigint | null;
  /** `key` must fit in an unsigned 64-bit integer. */
  setLastKey(key: bigint): void;
}

const keyFromBytes = (bytes: Uint8Array | undefined): bigint | null =>
  bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(0) : null;

function keyToBytes(key: bigint): Buffer {
  if (key < 0n || key > MAX_KEY) throw new RangeError(`poller key ${key} does not fit in 64 unsigned bits`);
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(key);
  return bytes;
}

/** Row 1: the position in this process's own WAL (single-process mode). */
export function createPollerStateRepository(db: Sqlite): PollerStateRepository {
  const select = db.prepare(SELECT_LOCAL);
  const upsert = db.prepare(UPSERT_LOCAL);
  return {
    getLastKey: () => keyFromBytes(select.get()?.last_key as Uint8Array | undefined),
    setLastKey: (key) => {
      upsert.run(keyToBytes(key), new Date().toISOString());
    },
  };
}

/**
 * The position in ingestion node `nodeId`'s WAL. With `adoptUnclaimedRow` a node without a row of
 * its own takes over row 1 while no node has: the position a backend kept before it read several
 * nodes, or before it was split from a single-process server, which belongs to its one node.
 */
export function createNodePollerStateRepository(
  db: Sqlite,
  nodeId: string,
  options: { adoptUnclaimedRow: boolean },
): PollerStateRepository {
  const select = db.prepare(SELECT_NODE);
  const upsert = db.prepare(UPSERT_NODE);
  if (options.adoptUnclaimedRow) {
    inWriteTransaction(db, () => {
      if (!select.get(nodeId)) db.prepare(ADOPT_ROW_ONE).run(nodeId);
    });
  }
  return {
    getLastKey: () => keyFromBytes(select.get(nodeId)?.last_key as Uint8Array | undefined),
    setLastKey: (key) => {
      upsert.run(nodeId, keyToBytes(key), new Date().toISOString());
    },
  };
}
