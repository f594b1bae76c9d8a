// Online backup of a running server (`npm run backup`), without stopping ingestion:
// 1. wait until the poller has indexed every export acknowledged before the backup started (so the
//    backup needs no WAL segments: whatever they still hold was acknowledged later);
// 2. SQLite (users, sessions, API keys, poller state) through SQLite's online backup API;
// 3. DuckDB through the server's own connection (db_duckdb/snapshot.ts: one committed state,
//    ingestion keeps writing meanwhile);
// 4. manifest.json last: a directory without it is an unfinished backup, which restore refuses.
// SQLite is copied before DuckDB so the restored poller position is never ahead of the spans.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { backup as backupSqlite } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sqlite } from '../../db_sqlite/connection.ts';
import { conflict, invalidInput } from '../../errors.ts';
import type { IngestionFacts } from '../../ingestion/ingestion_service.ts';
import type { Logger } from '../../logger.ts';
import type { SpanStoreMaintenance } from '../../spans/span_store.ts';

/** Where each file sits inside a backup directory (restore.ts reads the same names). */
export const BACKUP_FILES = {
  sqlite: 'sqlite/junjo.db',
  duckdb: 'duckdb/otel_data.duckdb',
  manifest: 'manifest.json',
} as const;

export interface BackupManifest {
  format: 1;
  createdAt: string;
  /** Every WAL record up to this key (acknowledged before the backup started) is in the copy. */
  indexedThroughWalKey: string | null;
  spans: number;
  statePatches: number;
}

export interface BackupDeps {
  store: Pick<SpanStoreMaintenance, 'snapshot'>;
  sqlite: Sqlite;
  poller: { readonly lastKey: bigint | null };
  /** The local WAL's facts; null in split mode, where the WAL lives in the ingestion process. */
  ingestion: (() => Promise<IngestionFacts>) | null;
  logger: Logger;
  /** Longest wait for the poller to catch up. */
  catchUpTimeoutMs?: number;
}

const HEARTBEAT_MS = 5_000;

export class BackupService {
  readonly #deps: BackupDeps;
  #running = false;

  constructor(deps: BackupDeps) {
    this.#deps = deps;
  }

  /** Checks `dir` (absolute; absent or empty) and refuses a second backup while one runs. */
  async prepare(dir: string): Promise<void> {
    if (!path.isAbsolute(dir)) throw invalidInput('dir must be an absolute path');
    const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw invalidInput(`cannot use ${dir}: ${error.code ?? error.message}`);
    });
    if (entries.length > 0) throw invalidInput(`${dir} is not empty; back up into a new directory`);
    if (this.#running) throw conflict('a backup is already running');
  }

  /** Runs a backup into `dir` (checked by prepare), reporting progress lines. */
  async run(dir: string, progress: (line: string) => void): Promise<BackupManifest> {
    if (this.#running) throw conflict('a backup is already running');
    this.#running = true;
    try {
      const { logger } = this.#deps;
      logger.info({ dir }, 'backup started');
      const indexedThrough = await this.#catchUp(progress);
      await mkdir(path.join(dir, path.dirname(BACKUP_FILES.sqlite)), { recursive: true, mode: 0o700 });
      await mkdir(path.join(dir, path.dirname(BACKUP_FILES.duckdb)), { recursive: true, mode: 0o700 });
      progress('copying SQLite (users, sessions, API keys, poller state)');
      await backupSqlite(this.#deps.sqlite, path.join(dir, BACKUP_FILES.sqlite));
      progress('copying DuckDB (spans, state patches); ingestion goes on meanwhile');
      const counts = await heartbeat(
        this.#deps.store.snapshot(path.join(dir, BACKUP_FILES.duckdb)),
        (seconds) => progress(`still copying DuckDB (${seconds} s)`),
      );
      const manifest: BackupManifest = {
        format: 1,
        createdAt: new Date().toISOString(),
        indexedThroughWalKey: indexedThrough === null ? null : String(indexedThrough),
        ...counts,
      };
      await writeFile(path.join(dir, BACKUP_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, {
        flag: 'wx',
        mode: 0o600,
      });
      logger.info({ dir, ...manifest }, 'backup finished');
      return manifest;
    } finally {
      this.#running = false;
    }
  }

  /** Waits until the poller has committed the newest record acknowledged now; returns its key. */
  async #catchUp(progress: (line: string) => void): Promise<bigint | null> {
    if (!this.#deps.ingestion) {
      progress('split mode: records still in the ingestion nodes’ WALs are not part of this backup');
      // Positions are per ingestion node (poller_state, in the SQLite copy): no single key says it.
      return null;
    }
    const { wal } = (await this.#deps.ingestion()).ingestion;
    const target = BigInt(wal.lastKey ?? 0);
    const deadline = Date.now() + (this.#deps.catchUpTimeoutMs ?? 30 * 60_000);
    let reportedAt = 0;
    while ((this.#deps.poller.lastKey ?? 0n) < target) {
      if (Date.now() > deadline) throw new Error('the poller did not index the acknowledged exports in time');
      if (Date.now() - reportedAt >= HEARTBEAT_MS) {
        reportedAt = Date.now();
        progress(
          `waiting for the poller to index WAL records up to ${target} (at ${this.#deps.poller.lastKey ?? 0})`,
        );
      }
      await sleep(100);
    }
    progress(`every export acknowledged before the backup started is indexed (WAL key ${target})`);
    return target;
  }
}

/** Resolves like `work`, calling `tick` every few seconds meanwhile (keeps the connection busy). */
async function heartbeat<T>(work: Promise<T>, tick: (seconds: number) => void): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => tick(Math.round((Date.now() - started) / 1000)), HEARTBEAT_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
