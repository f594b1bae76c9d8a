// SQL for the sessions table. Rows are keyed by the SHA-256 of the session id, never the id itself.
import type { Sqlite } from '../connection.ts';

export interface SessionOwner {
  user_id: number;
  email: string;
}

const INSERT_SESSION = 'INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)';
const SELECT_LIVE_SESSION = `SELECT s.user_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id_hash = ? AND s.expires_at > ?`;
const DELETE_SESSION = 'DELETE FROM sessions WHERE id_hash = ?';
const DELETE_EXPIRED_SESSIONS = 'DELETE FROM sessions WHERE expires_at <= ?';

export interface SessionsRepository {
  insert(idHash: string, userId: number, createdAt: string, expiresAt: string): void;
  /** The owner of a session that exists and has not expired at `now`. */
  findLive(idHash: string, now: string): SessionOwner | undefined;
  delete(idHash: string): void;
  deleteExpired(now: string): number;
}

export function createSessionsRepository(db: Sqlite): SessionsRepository {
  const insert = db.prepare(INSERT_SESSION);
  const selectLive = db.prepare(SELECT_LIVE_SESSION);
  const deleteOne = db.prepare(DELETE_SESSION);
  const deleteExpired = db.prepare(DELETE_EXPIRED_SESSIONS);
  return {
    insert: (idHash, userId, createdAt, expiresAt) => {
      insert.run(idHash, userId, createdAt, expiresAt);
    },
    findLive: (idHash, now) => selectLive.get(idHash, now) as SessionOwner | undefined,
    delete: (idHash) => {
      deleteOne.run(idHash);
    },
    deleteExpired: (now) => Number(deleteExpired.run(now).changes),
  };
}
