// Versioned schema: migrations/NNNN_name.sql, applied in order, each in its own transaction together with
// its row in schema_migrations — so a crash mid-migration leaves the previous version intact.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from '../logger.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;
const SELECT_NEWEST_VERSION = 'SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations';
const SELECT_APPLIED = 'SELECT 1 FROM schema_migrations WHERE version = ?';
const INSERT_APPLIED = 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)';

/** Reads the migration files; their numbers must run 1, 2, 3… without gaps or doubles. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`Migration file name ${file} does not match NNNN_name.sql`);
      return {
        version: Number(match[1]),
        name: match[2] ?? '',
        sql: readFileSync(path.join(dir, file), 'utf8'),
      };
    });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `Migration ${migration.version}_${migration.name} is out of sequence (expected ${index + 1})`,
      );
    }
  });
  return migrations;
}

/** Applies every migration the database has not seen yet; running it again changes nothing. */
export function applyMigrations(
  db: DatabaseSync,
  logger: Logger,
  migrations: Migration[] = loadMigrations(),
): void {
  db.exec(CREATE_MIGRATIONS_TABLE);
  const newest = Number(db.prepare(SELECT_NEWEST_VERSION).get()?.version ?? 0);
  if (newest > migrations.length) {
    throw new Error(
      `SQLite schema version ${newest} is newer than this server knows (${migrations.length}); upgrade the server`,
    );
  }
  for (const migration of migrations) {
    // Checked under the write lock, so two processes starting together apply each migration once.
    db.exec('BEGIN IMMEDIATE');
    try {
      if (db.prepare(SELECT_APPLIED).get(migration.version)) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(migration.sql);
      db.prepare(INSERT_APPLIED).run(migration.version, migration.name, new Date().toISOString());
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw new Error(
        `SQLite migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`,
      );
    }
    logger.info({ version: migration.version, name: migration.name }, 'applied SQLite migration');
  }
}
