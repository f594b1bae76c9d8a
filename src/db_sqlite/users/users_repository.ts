// SQL for the users table. Callers pass timestamps in, so tests can control the clock.
import { inWriteTransaction, type Sqlite } from '../connection.ts';

export interface UserRow {
  id: number;
  email: string;
  created_at: string;
}

export interface UserCredentials {
  id: number;
  email: string;
  password_hash: string;
}

const COUNT_USERS = 'SELECT COUNT(*) AS count FROM users';
const SELECT_USERS = 'SELECT id, email, created_at FROM users ORDER BY created_at DESC, id DESC';
const SELECT_USER_BY_ID = 'SELECT id, email, created_at FROM users WHERE id = ?';
const SELECT_CREDENTIALS_BY_EMAIL = 'SELECT id, email, password_hash FROM users WHERE email = ?';
const INSERT_USER = 'INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)';
// One statement: the existence check and the insert cannot be separated by another writer.
const INSERT_FIRST_USER = `INSERT INTO users (email, password_hash, created_at)
  SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)`;
const DELETE_USER = 'DELETE FROM users WHERE id = ?';

export type DeleteUserResult = 'deleted' | 'not_found' | 'last_user';

export interface UsersRepository {
  hasUsers(): boolean;
  list(): UserRow[];
  findCredentialsByEmail(email: string): UserCredentials | undefined;
  /** Throws SQLite's UNIQUE violation when the email is taken (see isUniqueViolation). */
  insert(email: string, passwordHash: string, createdAt: string): UserRow;
  /** Inserts only when the table is empty; undefined when some user already exists. */
  insertFirst(email: string, passwordHash: string, createdAt: string): UserRow | undefined;
  /** Refuses to delete the only remaining user, atomically with the delete. */
  delete(id: number): DeleteUserResult;
}

export function createUsersRepository(db: Sqlite): UsersRepository {
  const count = db.prepare(COUNT_USERS);
  const selectAll = db.prepare(SELECT_USERS);
  const selectById = db.prepare(SELECT_USER_BY_ID);
  const selectCredentials = db.prepare(SELECT_CREDENTIALS_BY_EMAIL);
  const insertUser = db.prepare(INSERT_USER);
  const insertFirstUser = db.prepare(INSERT_FIRST_USER);
  const deleteUser = db.prepare(DELETE_USER);

  const userCount = () => Number(count.get()?.count ?? 0);
  const byId = (id: number | bigint) => selectById.get(id) as UserRow | undefined;

  return {
    hasUsers: () => userCount() > 0,
    list: () => selectAll.all() as unknown as UserRow[],
    findCredentialsByEmail: (email) => selectCredentials.get(email) as UserCredentials | undefined,
    insert(email, passwordHash, createdAt) {
      const { lastInsertRowid } = insertUser.run(email, passwordHash, createdAt);
      return byId(lastInsertRowid)!;
    },
    insertFirst(email, passwordHash, createdAt) {
      return inWriteTransaction(db, () => {
        const { changes, lastInsertRowid } = insertFirstUser.run(email, passwordHash, createdAt);
        return changes === 1 ? byId(lastInsertRowid) : undefined;
      });
    },
    delete(id) {
      return inWriteTransaction(db, () => {
        if (!byId(id)) return 'not_found';
        if (userCount() <= 1) return 'last_user';
        deleteUser.run(id);
        return 'deleted';
      });
    },
  };
}
