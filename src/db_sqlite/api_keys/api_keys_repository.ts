// SQL for the api_keys table. Only the SHA-256 of a key is stored; lookups go through that hash.
import type { Sqlite } from '../connection.ts';

export interface ApiKeyRow {
  id: string;
  name: string;
  key_prefix: string;
  created_at: string;
}

const INSERT_API_KEY =
  'INSERT INTO api_keys (id, key_hash, key_prefix, name, created_at) VALUES (?, ?, ?, ?, ?)';
const SELECT_API_KEYS = 'SELECT id, name, key_prefix, created_at FROM api_keys ORDER BY created_at DESC, id';
const SELECT_ID_BY_HASH = 'SELECT id FROM api_keys WHERE key_hash = ?';
const DELETE_API_KEY = 'DELETE FROM api_keys WHERE id = ?';

export interface ApiKeysRepository {
  /** Throws SQLite's UNIQUE violation on a duplicate id or hash (see isUniqueViolation). */
  insert(row: ApiKeyRow & { key_hash: string }): void;
  list(): ApiKeyRow[];
  findIdByHash(keyHash: string): string | undefined;
  /** False when no key has this id. */
  delete(id: string): boolean;
}

export function createApiKeysRepository(db: Sqlite): ApiKeysRepository {
  const insert = db.prepare(INSERT_API_KEY);
  const selectAll = db.prepare(SELECT_API_KEYS);
  const selectIdByHash = db.prepare(SELECT_ID_BY_HASH);
  const deleteOne = db.prepare(DELETE_API_KEY);
  return {
    insert: (row) => {
      insert.run(row.id, row.key_hash, row.key_prefix, row.name, row.created_at);
    },
    list: () => selectAll.all() as unknown as ApiKeyRow[],
    findIdByHash: (keyHash) => selectIdByHash.get(keyHash)?.id as string | undefined,
    delete: (id) => deleteOne.run(id).changes === 1,
  };
}
