// The ingestion poller's cursor: the key of the last write-ahead-log record committed to DuckDB,
// stored as 8 bytes big-endian so it survives restarts exactly (no float rounding of a 64-bit key).
import type { Sqlite } from '../connection.ts';

const SELECT_LAST_KEY = 'SELECT last_key FROM poller_state WHERE id = 1';
const UPSERT_LAST_KEY = `INSERT INTO poller_state (id, last_key, updated_at) VALUES (1, ?, ?)
  ON CONFLICT (id) DO UPDATE SET last_key = excluded.last_key, updated_at = excluded.updated_at`;

const MAX_KEY = (1n << 64n) - 1n;

export interface PollerStateRepository {
  /** null until the poller has committed its first batch. */
  getLastKey(): bigint | null;
  /** `key` must fit in an unsigned 64-bit integer. */
  setLastKey(key: bigint): void;
}

export function createPollerStateRepository(db: Sqlite): PollerStateRepository {
  const select = db.prepare(SELECT_LAST_KEY);
  const upsert = db.prepare(UPSERT_LAST_KEY);
  return {
    getLastKey() {
      const bytes = select.get()?.last_key as Uint8Array | undefined;
      if (!bytes) return null;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(0);
    },
    setLastKey(key) {
      if (key < 0n || key > MAX_KEY)
        throw new RangeError(`poller key ${key} does not fit in 64 unsigned bits`);
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64BE(key);
      upsert.run(bytes, new Date().toISOString());
    },
  };
}
