// The one DuckDB instance of the process: a single writer connection behind a queue, a small pool of
// reader connections, the schema applied at open, and a checkpoint policy that keeps WAL
// checkpoints off the insert path. See README.md in this folder for the reasons.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Logger } from '../logger.ts';

export interface DuckDb {
  readonly path: string;
  /**
   * Runs `fn` on THE writer connection inside BEGIN … COMMIT, after every earlier write has finished.
   * A throw rolls the transaction back and rejects with the same error. INSERT OR IGNORE does not
   * protect overlapping transactions on two connections, so every write must come through here.
   */
  write<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T>;
  /** Runs `fn` on an idle reader connection; reads never wait for the writer. */
  read<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T>;
  /**
   * Moves the WAL into the database file (through the writer queue, between two writes). A no-op
   * when nothing was written since the last one. Call it when the writer is idle.
   */
  checkpoint(): Promise<void>;
  /** Lets queued writes and running reads finish, checkpoints, then closes every connection. */
  close(): Promise<void>;
}

export interface DuckDbOptions {
  /** Reader connections in the pool (default 2: this is sized for a 2-vCPU machine). */
  readers?: number;
}

const SCHEMA_FILES = ['spans_schema.sql', 'state_patches_schema.sql'];

// The default (16 MiB) checkpoints every few thousand spans and stalls inserts for 1–3 s once
// the ART indexes are large; 1 GiB leaves checkpoints to checkpoint()/close() in practice.
const INSTANCE_SETTINGS = { wal_autocheckpoint: '1GiB' };

// Two DuckDB instances on one file in one process corrupt it, and closing either releases the
// other's file lock (POSIX locks are per process), so a second open in this process is refused.
const openInThisProcess = new Set<string>();

export async function openDuckDb(file: string, logger: Logger, options: DuckDbOptions = {}): Promise<DuckDb> {
  const key = file === ':memory:' ? null : path.resolve(file);
  if (key !== null && openInThisProcess.has(key)) {
    throw new Error(`DuckDB file ${key} is already open in this process; share the DuckDb object instead`);
  }
  const instance = await createInstance(file);
  if (key !== null) openInThisProcess.add(key);
  const forget = () => {
    if (key !== null) openInThisProcess.delete(key);
  };
  const connections: DuckDBConnection[] = [];
  try {
    for (let i = 0; i <= (options.readers ?? 2); i++) connections.push(await instance.connect());
    const [writer, ...readers] = connections as [DuckDBConnection, ...DuckDBConnection[]];
    const db = new DuckDbHandle(file, instance, writer, readers, logger, forget);
    await db.write((conn) => conn.run(readSchema()));
    logger.info({ path: file }, 'DuckDB opened, schema applied');
    return db;
  } catch (err) {
    for (const conn of connections) conn.closeSync();
    instance.closeSync();
    forget();
    throw err;
  }
}

async function createInstance(file: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(file, INSTANCE_SETTINGS);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Could not set lock on file/.test(message)) {
      throw new Error(
        `DuckDB file ${path.resolve(file)} is locked by another process (DuckDB allows one process per ` +
          `file): stop the other junjo-server or point JUNJO_DUCKDB_PATH elsewhere. ${message}`,
        { cause: err },
      );
    }
    throw err;
  }
}

function readSchema(): string {
  return SCHEMA_FILES.map((name) => readFileSync(new URL(`./schemas/${name}`, import.meta.url), 'utf8')).join(
    '\n',
  );
}

class DuckDbHandle implements DuckDb {
  readonly path: string;
  private readonly instance: DuckDBInstance;
  private readonly writer: DuckDBConnection;
  private readonly logger: Logger;
  private readonly onClosed: () => void;
  private writeTail: Promise<unknown> = Promise.resolve();
  private writtenSinceCheckpoint = false;
  private readonly idleReaders: DuckDBConnection[];
  private readonly readerWaiters: ((conn: DuckDBConnection) => void)[] = [];
  private readonly readerCount: number;
  private readersDrained: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    file: string,
    instance: DuckDBInstance,
    writer: DuckDBConnection,
    readers: DuckDBConnection[],
    logger: Logger,
    onClosed: () => void,
  ) {
    this.path = file;
    this.instance = instance;
    this.writer = writer;
    this.idleReaders = [...readers];
    this.readerCount = readers.length;
    this.logger = logger;
    this.onClosed = onClosed;
  }

  write<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closing) return this.rejectClosed();
    return this.enqueueWrite(async () => {
      this.writtenSinceCheckpoint = true;
      await this.writer.run('BEGIN TRANSACTION');
      try {
        const result = await fn(this.writer);
        await this.writer.run('COMMIT');
        return result;
      } catch (err) {
        await this.rollback();
        throw err;
      }
    });
  }

  async read<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closing) return this.rejectClosed();
    const conn =
      this.idleReaders.pop() ?? (await new Promise<DuckDBConnection>((r) => this.readerWaiters.push(r)));
    try {
      return await fn(conn);
    } finally {
      this.releaseReader(conn);
    }
  }

  checkpoint(): Promise<void> {
    if (this.closing) return this.rejectClosed();
    return this.enqueueWrite(() => this.checkpointNow());
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.writeTail;
    await this.readersIdle();
    try {
      await this.checkpointNow();
    } finally {
      for (const conn of [this.writer, ...this.idleReaders]) conn.closeSync();
      this.instance.closeSync();
      this.onClosed();
      this.logger.info({ path: this.path }, 'DuckDB closed');
    }
  }

  private async checkpointNow(): Promise<void> {
    if (!this.writtenSinceCheckpoint) return;
    const started = performance.now();
    await this.writer.run('CHECKPOINT');
    this.writtenSinceCheckpoint = false;
    this.logger.debug({ ms: Math.round(performance.now() - started) }, 'DuckDB checkpoint');
  }

  // The queue survives a failed write: the next one starts once the previous has settled either way.
  private enqueueWrite<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writeTail.then(task);
    this.writeTail = run.catch(() => {});
    return run;
  }

  private async rollback(): Promise<void> {
    try {
      await this.writer.run('ROLLBACK');
    } catch (err) {
      // A failed COMMIT has already rolled back; there is nothing left to undo.
      this.logger.debug({ err }, 'DuckDB rollback after a failed write');
    }
  }

  private releaseReader(conn: DuckDBConnection): void {
    const waiter = this.readerWaiters.shift();
    if (waiter) {
      waiter(conn);
      return;
    }
    this.idleReaders.push(conn);
    if (this.idleReaders.length === this.readerCount) this.readersDrained?.();
  }

  private readersIdle(): Promise<void> {
    if (this.idleReaders.length === this.readerCount) return Promise.resolve();
    return new Promise((resolve) => {
      this.readersDrained = resolve;
    });
  }

  private rejectClosed(): Promise<never> {
    return Promise.reject(new Error(`DuckDB ${this.path} is closed`));
  }
}
