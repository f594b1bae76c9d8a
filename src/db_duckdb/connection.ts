// The one DuckDB instance of the process: a single writer connection behind a queue, a small pool of
// reader connections, the schema applied at open, and a checkpoint policy that keeps WAL
// checkpoints off the insert path. See README.md in this folder for the reasons.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance, listValue } from '@duckdb/node-api';
import { storeUnavailable } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CheckpointReason, ReopenReason, StoreUpkeep, UpkeepTotals } from '../spans/span_store.ts';

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
   * when nothing was written since the last one. Runs by itself once the writer has been idle for
   * `idleCheckpointMs`; call it directly only to force one.
   */
  checkpoint(): Promise<void>;
  /** What DuckDB's buffer manager holds now, and its cap (DuckDB's wording, e.g. `192.0 MiB`). */
  memory(): Promise<{ usedBytes: number; limit: string }>;
  /** DuckDB's memory by tag (`duckdb_memory()`), in MiB, the tags holding any: for logs. */
  memoryByTagMiB(): Promise<Record<string, number>>;
  /**
   * On the writer queue, between inserts: DuckDB's `ART_INDEX` bytes (as the last insert left
   * them) and its limit, then the memory check that otherwise runs at most once a second (a
   * checkpoint for held rows, the file opened again once loaded index nodes pass their share; with
   * `releaseIndexNodes`, once they are more than a sliver of the limit).
   */
  makeRoomForInsert(options?: { releaseIndexNodes?: boolean }): Promise<IndexMemory>;
  /** DuckDB's `ART_INDEX` bytes and its limit, on the writer queue (after an insert). */
  indexMemory(): Promise<IndexMemory>;
  /** Resolves once every write queued so far, checkpoints and reopens included, has settled. */
  writesQueued(): Promise<void>;
  /** The checkpoints and reopens so far, by reason (a copy; no query). */
  upkeep(): StoreUpkeep;
  /** Lets queued writes and running reads finish, checkpoints, then closes every connection. */
  close(): Promise<void>;
}

export interface IndexMemory {
  indexBytes: number;
  limitBytes: number;
}

export interface DuckDbOptions {
  /** Reader connections in the pool, at least 1 (default 2: sized for a 2-vCPU machine). */
  readers?: number;
  /** Checkpoint after this long without a write (default 10 s; 0: only checkpoint()/close()/1 GiB of WAL). */
  idleCheckpointMs?: number;
  /** DuckDB's `memory_limit` (e.g. `192MiB`; default: DuckDB's own, 80% of RAM). */
  memoryLimit?: string;
  /** DuckDB's `threads` (default: DuckDB's own, one per core). */
  threads?: number;
  /**
   * Block size of a file this open creates (default 64 KiB; an existing file keeps its own). For
   * benchmarks that compare formats: see README.md, File format and Memory and threads.
   */
  blockSize?: number;
  /** Rows per row group of the file (default ROW_GROUP_SIZE; see there). For benchmarks. */
  rowGroupSize?: number;
  /**
   * Share of the memory limit that rows waiting for a checkpoint may take before the writer
   * checkpoints (default HELD_MEMORY_CHECKPOINT_SHARE; `Infinity`: never, for tests of
   * what happens when the limit fills anyway).
   */
  heldMemoryCheckpointShare?: number;
  /**
   * After a checkpoint of c ms, the next one for held memory waits this many times c, unless held
   * memory reaches twice its share (default HELD_MEMORY_CHECKPOINT_SPACING; 0: no wait).
   */
  heldMemoryCheckpointSpacing?: number;
  /**
   * Share of the memory limit that loaded index nodes may take before the file is opened again to
   * release them (default INDEX_MEMORY_REOPEN_SHARE; `Infinity`: never).
   */
  indexMemoryReopenShare?: number;
  /**
   * Runs on a reader connection of its own each time the file has been opened again, while reads
   * and writes go on (DuckDbSpanStore reads its last traces and lists again: READ_AGAIN_AFTER_REOPEN
   * there); the next reopen and the close wait for it.
   */
  afterReopen?: (reader: DuckDBConnection) => Promise<void>;
}

const DEFAULT_IDLE_CHECKPOINT_MS = 10_000;

const SCHEMA_FILES = ['spans_schema.sql', 'state_patches_schema.sql', 'log_records.sql'];

// A checkpoint costs seconds once the tables are large, mostly regardless of how much was written
// since the last one (measured at 1M spans: ~5 s after 2,000 new spans), and DuckDB's default
// threshold (16 MiB of WAL, ~10k spans) runs one inside a commit. 1 GiB (~600k spans) leaves
// checkpoints to idle moments; it only triggers under sustained load. Replaying that much WAL at
// startup takes ~6 s.
//
// The file format applies to files created by this instance (an existing file keeps the one it was
// created with): a trace lookup fetches its few rows from one block per column, and every block
// missing from the buffer pool is read, checksummed and allocated whole. With 256 KiB blocks that
// cost grew with the share of the table that no longer fits in memory (measured on a synthetic
// 1M-span table with a 40 MB buffer pool: 17 ms CPU per lookup, 8 ms with 16 KiB blocks). 64 KiB
// blocks look traces up as fast as 16 KiB ones, and halve the objects DuckDB keeps outside its
// limit for the blocks a query has touched (58 against 125 MiB once all of a 1M-span store was
// read: README.md, File format). The current storage version adds the newer string compression
// (DICT_FSST) over the v0.10.2 default.
//
// DuckDB allocates through the jemalloc built into libduckdb (symbols `duckdb_je_*`; it is not listed
// as an extension). It hands a thread's cached memory back only after a task whose allocations
// peaked above allocator_flush_threshold (default 128 MiB) or a bulk free above the bulk threshold
// (512 MiB); under steady ingestion every insert stays below them. Freed pages then stay resident
// until jemalloc's decay purges them, which without background threads happens only when that
// arena allocates again. Background threads purge on time (the decay is set by
// DUCKDB_JE_MALLOC_CONF in src/launch.ts): `bench/memory_profile.ts`, 138k spans, 3 December
// (load 1.1–2.1), DuckDB's anonymous mappings at the peak 221–227 MB instead of 249–267.
//
// No vacuum at checkpoints: each commit that fills a row group writes its rows as row groups of
// their own, the last one partly filled, and DuckDB's checkpoint merged those partial groups,
// compressing their strings (FSST) again; that was ~70% of a checkpoint's CPU. Without it, 138k
// spans of the benchmark's mix checkpoint in 2.3 s of CPU instead of 7.9–9.3, into a file of 213 MB
// instead of 261, with 84 row groups instead of 75 (README.md, Checkpoints). The vacuum did nothing
// for retention: with indexes on the table DuckDB neither merges nor drops row groups that deletes
// emptied (their row ids must stay), with or without it.
//
// No late materialization by DuckDB: for an ORDER BY … LIMIT of at most 50 rows it joins the top-N's
// row ids back to a scan of the whole table's row ids, which our pick-then-fetch queries (list
// pages, searches, workflow runs) already do within their time window. The 50-row root page at 10M
// spans took 10–12 ms in DuckDB with it, 6–7 without (docs/memory.md, The list page's late
// materialization).
const INSTANCE_SETTINGS = {
  allocator_flush_threshold: '16MiB',
  allocator_background_threads: 'true',
  allocator_bulk_deallocation_flush_threshold: '64MiB',
  wal_autocheckpoint: '1GiB',
  max_vacuum_tasks: '0',
  default_block_size: '65536',
  storage_compatibility_version: 'v1.5.0',
  late_materialization_max_rows: '0',
};

const ALIAS = 'junjo';

// A table's first query after the file is opened loads the metadata of all its row groups: at 10M
// generated spans 55 ms for `spans`, 33 for `state_patches`, and the first trace lookup after a
// reopen took ~70 ms instead of ~5. reopenFile loads them while reads wait anyway, so a reopen
// costs one slow call, not two. span_attributes (112 ms) is left to the first search.
const TABLES_LOADED_ON_REOPEN = ['spans', 'state_patches', 'span_list_entries'];

const READ_RETRY_AFTER_OOM_MS = 250;

// What only a checkpoint releases: rows committed in batches smaller than a row group (they wait
// in memory, uncompressed, ~4–5 KB per span). Left to fill the memory limit, they spilled one
// temporary file per block and the insert that finally ran out of memory checkpointed for ~40 s
// (the soak at 500 spans/s: README.md, Memory and threads; docs/memory.md). Once they pass this
// share of the limit the writer checkpoints between writes instead, while that is cheap: a
// checkpoint's cost grows with the rows it writes (~60 µs of CPU per span held, ~0.6 s at a quarter
// of 128 MiB: bench/duckdb_held_checkpoint.ts). Looked at once per second of reading or writing.
// Index nodes are not counted here: INDEX_MEMORY_REOPEN_SHARE bounds all of them, changed or only
// loaded, and its reopen checkpoints first. Counting the ones inserts changed as held too (until
// 5 December) had the writer checkpoint about once a second under a steady load into a few hundred
// thousand spans: every checkpoint released nodes that the next inserts loaded again, and the
// reopen followed anyway. Rows only, at the same offered load (`bench/ingestion.ts --rates-of 4400`,
// two rounds alternated): ack → queryable p99 at 50 % 1,960 and 1,303 ms against 2,094 and 1,598, at
// 75 % 4.6 and 5.4 s against 7.7 and 7.2, peak RSS 410–417 against 422–441 MiB (docs/memory.md,
// "Checkpoints for rows only").
const HELD_MEMORY_CHECKPOINT_SHARE = 1 / 4;
const MEMORY_CHECK_MS = 1000;

// After a checkpoint of c ms the next one for held rows waits 10 c (at most ~1/11 of the writer's
// time), unless they pass twice their share: a steady load that passes the share again right after
// a checkpoint would otherwise have the writer checkpointing most of the time.
const HELD_MEMORY_CHECKPOINT_SPACING = 10;

// DuckDB never evicts an index node it has loaded: reading one from the file copies its block into
// a buffer that stays pinned (FixedSizeBuffer::Pin) until a checkpoint writes it out, which it does
// only for changed ones. Trace lookups on a large store load more of the trace_id indexes with
// every trace not read before, so their memory grows until the limit is full and every query fails
// ("failed to pin block": the generated 10M-span store at 128 MiB after ~2,000 lookups; at 1M
// spans the two lookup indexes alone take ~22 MiB). Closing the file releases them; past this
// share of the limit the writer checkpoints and opens the file again (~0.3 s at 1M spans), between
// two queries.
const INDEX_MEMORY_REOPEN_SHARE = 1 / 2;
// makeRoomForInsert's `releaseIndexNodes` after an insert ran out of memory: a reopen is worth its
// time only when the nodes loaded are more than a sliver of the limit (a database invalidated by
// the failure was opened again already).
const FORCED_INDEX_RELEASE_SHARE = 1 / 16;
// Reopening more often than this means the indexes a load needs do not fit in the limit.
const INDEX_REOPEN_TOO_OFTEN_MS = 30_000;
const HELD_MEMORY_SQL = `SELECT
  coalesce(sum(memory_usage_bytes) FILTER (WHERE tag IN ('IN_MEMORY_TABLE', 'OVERFLOW_STRINGS')), 0)::BIGINT,
  coalesce(sum(memory_usage_bytes) FILTER (WHERE tag = 'ART_INDEX'), 0)::BIGINT
FROM duckdb_memory()`;

/** DuckDB's `ART_INDEX` bytes (for a measurement inside a transaction). */
export async function indexMemoryBytes(conn: DuckDBConnection): Promise<number> {
  return (await heldMemory(conn)).indexBytes;
}

/** Bytes of rows waiting for a checkpoint, and of the indexes, by DuckDB's memory tags. */
async function heldMemory(conn: DuckDBConnection): Promise<{ rowBytes: number; indexBytes: number }> {
  const [rowBytes, indexBytes] = (await conn.runAndReadAll(HELD_MEMORY_SQL)).getRows()[0] as [bigint, bigint];
  return { rowBytes: Number(rowBytes), indexBytes: Number(indexBytes) };
}

/**
 * The memory check's decision: open the file again once index nodes (loaded or changed) pass their
 * share, else checkpoint once rows waiting for a checkpoint pass theirs (and the last checkpoint is
 * long enough ago, or they passed twice their share).
 */
export function memoryAction(
  held: { rowBytes: number; indexBytes: number; limitBytes: number },
  rules: {
    heldRowsShare: number;
    indexReopenShare: number;
    written: boolean;
    lastCheckpointLongAgo: boolean;
  },
): 'reopen' | 'checkpoint' | null {
  if (held.indexBytes >= held.limitBytes * rules.indexReopenShare) return 'reopen';
  const rowsShare = held.rowBytes / held.limitBytes;
  if (!rules.written || rowsShare < rules.heldRowsShare) return null;
  return rules.lastCheckpointLongAgo || rowsShare >= 2 * rules.heldRowsShare ? 'checkpoint' : null;
}

function noUpkeep(): StoreUpkeep {
  const none = () => ({ count: 0, seconds: 0 });
  return {
    checkpoints: { rows_held: none(), idle: none(), requested: none() },
    reopens: { index_memory: none(), failed_commit: none(), fatal_error: none() },
  };
}

function addUpkeep(totals: UpkeepTotals, ms: number): void {
  totals.count++;
  totals.seconds += ms / 1000;
}

/** DuckDB could not get memory under its limit (its message is the only sign). */
export function isDuckDbOutOfMemory(error: unknown): boolean {
  return /Out of Memory|failed to pin block|could not allocate block/i.test(String(error));
}

// Rows per row group: DuckDB writes a transaction's rows straight to the file, compressed, when
// they fill at least one row group ("optimistic writes"); fewer stay in memory, uncompressed, until
// a checkpoint. With DuckDB's default (122,880 rows) none of the poller's batches (~3,600 spans at
// full load) qualified: a full load's rows piled up in memory at ~7 KB per span (16 KiB blocks)
// and, under the memory limit, were spilled one temporary file per block. With 2,048 (DuckDB's
// smallest) a full batch goes to the file at commit: `bench/duckdb_spill.ts`, 138k spans at
// 192 MiB, one thread, 3 December (load 1.4–2.4): no spill instead of 385 MB in 17,693 files, insert
// CPU 183 against 168 ms per 1k spans plus the checkpoint after it 65 against 114; at 552k spans a
// checkpoint after 3,000 new spans cost 0.6 s of CPU instead of 4.8 (a checkpoint rewrote the
// whole last row group). README.md, Memory and threads.
const ROW_GROUP_SIZE = 2048;

// Two DuckDB instances on one file in one process corrupt it, and closing either releases the
// other's file lock (POSIX locks are per process), so a second open in this process is refused.
const openInThisProcess = new Set<string>();

export async function openDuckDb(file: string, logger: Logger, options: DuckDbOptions = {}): Promise<DuckDb> {
  const key = file === ':memory:' ? null : path.resolve(file);
  if (key !== null) {
    if (openInThisProcess.has(key)) {
      throw new Error(`DuckDB file ${key} is already open in this process; share the DuckDb object instead`);
    }
    openInThisProcess.add(key);
  }
  const forget = () => {
    if (key !== null) openInThisProcess.delete(key);
  };
  try {
    const open = () => openSession(key, options);
    const db = new DuckDbHandle({
      file,
      session: await open(),
      open,
      logger,
      idleCheckpointMs: options.idleCheckpointMs ?? DEFAULT_IDLE_CHECKPOINT_MS,
      heldMemoryCheckpointShare: options.heldMemoryCheckpointShare ?? HELD_MEMORY_CHECKPOINT_SHARE,
      heldMemoryCheckpointSpacing: options.heldMemoryCheckpointSpacing ?? HELD_MEMORY_CHECKPOINT_SPACING,
      indexMemoryReopenShare: options.indexMemoryReopenShare ?? INDEX_MEMORY_REOPEN_SHARE,
      afterReopen: options.afterReopen,
      onClosed: forget,
    });
    try {
      await db.write((conn) => conn.run(readSchema()));
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
    logger.info({ path: file }, 'DuckDB opened, schema applied');
    return db;
  } catch (err) {
    forget();
    throw err;
  }
}

/** One DuckDB instance on the file and its connections: the writer first, then the readers. */
interface Session {
  instance: DuckDBInstance;
  writer: DuckDBConnection;
  readers: DuckDBConnection[];
  /** `memory_limit` in bytes, for the held-memory checkpoint (HELD_MEMORY_CHECKPOINT_SHARE). */
  memoryLimitBytes: number;
}

async function openSession(key: string | null, options: DuckDbOptions): Promise<Session> {
  const connections: DuckDBConnection[] = [];
  let instance: DuckDBInstance | null = null;
  try {
    // The instance is in memory and the file attached (attachFile), so the spill directory is named
    // as DuckDB names it for a file it opens itself.
    instance = await DuckDBInstance.create(':memory:', {
      ...INSTANCE_SETTINGS,
      ...(key !== null && { temp_directory: `${key}.tmp` }),
      ...(options.memoryLimit !== undefined && { memory_limit: options.memoryLimit }),
      ...(options.threads !== undefined && { threads: String(options.threads) }),
      ...(options.blockSize !== undefined && { default_block_size: String(options.blockSize) }),
    });
    const readerCount = Math.max(1, options.readers ?? 2);
    for (let i = 0; i <= readerCount; i++) connections.push(await instance.connect());
    if (key !== null) await attachFile(connections, key, options.rowGroupSize ?? ROW_GROUP_SIZE);
    const [writer, ...readers] = connections as [DuckDBConnection, ...DuckDBConnection[]];
    const limit = await writer.runAndReadAll("SELECT current_setting('memory_limit')");
    return { instance, writer, readers, memoryLimitBytes: parseDuckDbBytes(String(limit.getRows()[0]?.[0])) };
  } catch (err) {
    for (const conn of connections) conn.closeSync();
    instance?.closeSync();
    throw err;
  }
}

const BYTE_UNITS: Record<string, number> = {
  bytes: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
};

/** A size as DuckDB prints a setting (`192.0 MiB`, `1.5 GiB`, `0 bytes`) in bytes. */
export function parseDuckDbBytes(text: string): number {
  const match = /^([\d.]+)\s*([A-Za-z]+)$/.exec(text.trim());
  const unit = match ? BYTE_UNITS[match[2]!] : undefined;
  if (!match || unit === undefined) throw new Error(`unexpected DuckDB size: ${text}`);
  return Number(match[1]) * unit;
}

function closeSession(session: Session): void {
  for (const conn of [session.writer, ...session.readers]) conn.closeSync();
  session.instance.closeSync();
}

/**
 * Opens the file as the database every connection uses. Through ATTACH, because the row group
 * size is an ATTACH option only (ROW_GROUP_SIZE says why it matters).
 */
async function attachFile(
  connections: DuckDBConnection[],
  file: string,
  rowGroupSize: number,
): Promise<void> {
  const literal = `'${file.replaceAll("'", "''")}'`;
  try {
    await connections[0]!.run(`ATTACH ${literal} AS ${ALIAS} (ROW_GROUP_SIZE ${Math.trunc(rowGroupSize)})`);
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
  for (const conn of connections) await conn.run(`USE ${ALIAS}`);
}

/** Loads TABLES_LOADED_ON_REOPEN's row group metadata (those that exist: tests open bare files). */
async function loadTableMetadata(conn: DuckDBConnection | undefined): Promise<void> {
  if (!conn) return;
  const existing = await conn.runAndReadAll(
    'SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND table_name IN (SELECT unnest($names::VARCHAR[]))',
    { names: listValue(TABLES_LOADED_ON_REOPEN) },
  );
  for (const [name] of existing.getRows()) await conn.run(`SELECT count(*) FROM ${name} WHERE rowid = 0`);
}

function readSchema(): string {
  return SCHEMA_FILES.map((name) => readFileSync(new URL(`./schemas/${name}`, import.meta.url), 'utf8')).join(
    '\n',
  );
}

interface HandleParts {
  file: string;
  session: Session;
  /** A new session on the same file (DuckDB replays its own WAL): after a fatal error. */
  open: () => Promise<Session>;
  logger: Logger;
  idleCheckpointMs: number;
  heldMemoryCheckpointShare: number;
  heldMemoryCheckpointSpacing: number;
  indexMemoryReopenShare: number;
  afterReopen: ((reader: DuckDBConnection) => Promise<void>) | undefined;
  onClosed: () => void;
}

/**
 * DuckDB's message once a fatal error (e.g. a rollback that ran out of memory after a failed commit)
 * has invalidated the instance: every later statement fails until the database is opened again.
 */
export function isDuckDbInvalidated(error: unknown): boolean {
  return /^(?:\w*Error: )?FATAL Error:|database has been invalidated because of a previous fatal error/.test(
    String(error),
  );
}

/**
 * DuckDB refused a CHECKPOINT because a committed transaction still holds its checkpoint lock: one
 * that updated rows (the insert path updates the summary tables) keeps it until every read that
 * started before its commit has finished. Trying again a little later succeeds.
 */
function isCheckpointHeldUpByReads(error: unknown): boolean {
  return /Cannot CHECKPOINT: there are other write transactions active/.test(String(error));
}

class DuckDbHandle implements DuckDb {
  readonly path: string;
  private readonly parts: HandleParts;
  private readonly logger: Logger;
  /** The open instance and its connections; null while a failed one is not yet replaced. */
  private session: Session | null;
  private writeTail: Promise<unknown> = Promise.resolve();
  private writesInQueue = 0;
  private writtenSinceCheckpoint = false;
  private lastMemoryCheck = 0;
  private lastIndexReopen = Number.NEGATIVE_INFINITY;
  private lastFrequentReopenWarning = Number.NEGATIVE_INFINITY;
  private readonly upkeepTotals = noUpkeep();
  /** When the last checkpoint ended and how long it took (HELD_MEMORY_CHECKPOINT_SPACING). */
  private lastCheckpoint = { endedAt: Number.NEGATIVE_INFINITY, ms: 0 };
  private idleTimer: NodeJS.Timeout | undefined;
  private idleReaders: DuckDBConnection[];
  private readonly readerWaiters: ((conn: DuckDBConnection) => void)[] = [];
  private readersDrained: (() => void) | null = null;
  /** Set while a session is being replaced: reads wait for it instead of taking a connection. */
  private reopening: Promise<void> | null = null;
  /** Set while afterReopen runs on a reader: the next reopen and the close wait for it, reads do not. */
  private readingAgain: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(parts: HandleParts) {
    this.parts = parts;
    this.path = parts.file;
    this.logger = parts.logger;
    this.session = parts.session;
    this.idleReaders = [...parts.session.readers];
  }

  write<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closing) return this.rejectClosed();
    clearTimeout(this.idleTimer);
    this.writesInQueue++;
    const run = this.enqueueWrite(async () => {
      const { writer } = await this.openSession();
      this.writtenSinceCheckpoint = true;
      let committing = false;
      try {
        await writer.run('BEGIN TRANSACTION');
        const result = await fn(writer);
        committing = true;
        await writer.run('COMMIT');
        return result;
      } catch (err) {
        if (isDuckDbInvalidated(err)) throw await this.replaceSession(err);
        if (committing) {
          // A COMMIT that failed (out of memory while it appended to the table and its indexes)
          // reverts its rows but can leave their keys in the primary-key index: the same rows then
          // fail as duplicates of themselves, and a checkpoint would write those keys to the file.
          // The file and its WAL hold only what was committed; the caller gets the error as it was.
          this.logger.warn(
            { err, path: this.path },
            'DuckDB COMMIT failed: opening the file again to drop what it left in the indexes',
          );
          await this.reopenFile({ checkpointFirst: false, reason: 'failed_commit' });
          throw err;
        }
        await this.rollback(writer);
        throw err;
      }
    });
    const settled = () => {
      if (--this.writesInQueue === 0) this.armIdleCheckpoint();
    };
    run.then(() => {
      settled();
      this.checkMemorySoon();
    }, settled);
    return run;
  }

  async read<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    try {
      const result = await this.readOnce(fn);
      this.checkMemorySoon();
      return result;
    } catch (err) {
      if (!isDuckDbOutOfMemory(err)) throw err;
      // The memory limit is full for now (an insert's rows and index entries pinned until its
      // commit, or until a checkpoint): once more a moment later, then a retryable 503, not a 500.
      this.logger.warn({ err }, 'DuckDB out of memory while reading: trying once more');
      await new Promise((resolve) => setTimeout(resolve, READ_RETRY_AFTER_OOM_MS));
      return await this.readOnce(fn).catch((again: unknown) => {
        throw isDuckDbOutOfMemory(again)
          ? storeUnavailable('out of memory (JUNJO_DUCKDB_MEMORY_LIMIT); try again shortly', again)
          : again;
      });
    }
  }

  private async readOnce<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closing) return this.rejectClosed();
    await this.reopening;
    const session = this.session ?? (await this.enqueueWrite(() => this.openSession()));
    const conn =
      this.idleReaders.pop() ?? (await new Promise<DuckDBConnection>((r) => this.readerWaiters.push(r)));
    try {
      return await fn(conn);
    } catch (err) {
      if (!isDuckDbInvalidated(err)) throw err;
      // Replaced between writes, once every reader is back (this one included, below).
      void this.enqueueWrite(async () => {
        if (this.session === session) await this.replaceSession(err);
      }).catch(() => {});
      throw storeUnavailable('DuckDB is reopening after a fatal error; try again shortly', err);
    } finally {
      this.releaseReader(conn);
    }
  }

  checkpoint(): Promise<void> {
    return this.queueCheckpoint('requested');
  }

  private queueCheckpoint(reason: CheckpointReason): Promise<void> {
    if (this.closing) return this.rejectClosed();
    return this.enqueueWrite(() => this.checkpointNow(reason));
  }

  memory(): Promise<{ usedBytes: number; limit: string }> {
    return this.read(async (conn) => {
      const reader = await conn.runAndReadAll(
        "SELECT (SELECT sum(memory_usage_bytes) FROM duckdb_memory())::BIGINT, current_setting('memory_limit')",
      );
      const [used, limit] = reader.getRows()[0] as [bigint | null, string];
      return { usedBytes: Number(used ?? 0n), limit };
    });
  }

  memoryByTagMiB(): Promise<Record<string, number>> {
    return this.read(async (conn) => {
      const reader = await conn.runAndReadAll(
        'SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0',
      );
      return Object.fromEntries(
        reader.getRows().map(([tag, bytes]) => [String(tag), Math.round(Number(bytes) / 2 ** 20)]),
      );
    });
  }

  async writesQueued(): Promise<void> {
    await this.writeTail;
  }

  upkeep(): StoreUpkeep {
    return structuredClone(this.upkeepTotals);
  }

  close(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.writeTail;
    await this.reopenDone();
    await this.readersIdle();
    try {
      if (this.session) await this.checkpointNow('requested');
    } finally {
      if (this.session) closeSession(this.session);
      this.session = null;
      this.parts.onClosed();
      this.logger.info({ path: this.path }, 'DuckDB closed');
    }
  }

  /** The open session; after a failed replacement, tries to open one again (rejects while it cannot). */
  private async openSession(): Promise<Session> {
    if (this.session) return this.session;
    try {
      this.session = await this.parts.open();
    } catch (err) {
      throw storeUnavailable(`DuckDB ${this.path} could not be opened again: ${String(err)}`, err);
    }
    this.idleReaders = [...this.session.readers];
    this.logger.debug({ path: this.path }, 'DuckDB opened its file again');
    return this.session;
  }

  /**
   * DuckDB invalidated the instance after a fatal error; what was committed is in its file and WAL,
   * and what was not is still in ours, so closing it and opening the file again loses nothing.
   * Runs on the writer queue; reads wait until it is done. Resolves to the error for the caller.
   */
  private async replaceSession(cause: unknown): Promise<Error> {
    if (this.session && !this.closing) {
      this.logger.error(
        { err: cause, path: this.path },
        'DuckDB invalidated its database after a fatal error: closing it and opening the file again',
      );
      await this.reopenFile({ checkpointFirst: false, reason: 'fatal_error' });
    }
    return storeUnavailable('DuckDB reopened after a fatal error; try again', cause);
  }

  /**
   * Closes the instance and opens the file again; reads wait meanwhile. Without `checkpointFirst`
   * it skips the checkpoint DuckDB makes on close (which would write out what it holds in memory,
   * right or wrong), so the new instance starts from what was committed: the file and its WAL.
   */
  private async reopenFile({
    checkpointFirst,
    reason,
  }: {
    checkpointFirst: boolean;
    reason: ReopenReason;
  }): Promise<void> {
    // One afterReopen at a time (readingAgain), and its reader back before readersIdle below.
    await this.reopenDone();
    const old = this.session;
    if (!old || this.closing) return;
    const reopened = Promise.withResolvers<void>();
    this.reopening = reopened.promise;
    const started = performance.now();
    try {
      await this.readersIdle();
      if (checkpointFirst) await this.checkpointNow(null);
      this.session = null;
      await old.writer.run('PRAGMA disable_checkpoint_on_shutdown').catch(() => {});
      closeSession(old);
      // Unless checkpointed, the replayed WAL puts rows back in memory: the next checkpoint has work.
      this.writtenSinceCheckpoint = !checkpointFirst;
      const session = await this.openSession().catch((err: unknown) => {
        this.logger.error({ err }, 'DuckDB could not be opened again; retrying with the next write');
      });
      await loadTableMetadata(session?.writer).catch((err: unknown) => {
        this.logger.warn({ err }, 'DuckDB could not load the tables’ metadata after opening its file again');
      });
      // Before the reads that waited go on: afterReopen takes its reader while every one is idle.
      this.readingAgain = this.runAfterReopen().finally(() => {
        this.readingAgain = null;
      });
    } finally {
      addUpkeep(this.upkeepTotals.reopens[reason], performance.now() - started);
      this.reopening = null;
      reopened.resolve();
    }
  }

  /** Until no reopen is under way, nor the reads after one (afterReopen). */
  private async reopenDone(): Promise<void> {
    while (this.reopening || this.readingAgain) await (this.reopening ?? this.readingAgain);
  }

  /**
   * The afterReopen option, on a reader of its own, beside the writes and the reads that waited for
   * the reopen: a user's read waits for the reopen alone (~0.3–0.5 s), not also for ~0.2 s of reading
   * again; whichever read meets DuckDB's stall after an open takes ~15 ms more (docs/memory.md).
   */
  private async runAfterReopen(): Promise<void> {
    const afterReopen = this.parts.afterReopen;
    const conn = afterReopen && this.session ? this.idleReaders.pop() : undefined;
    if (!afterReopen || !conn) return;
    try {
      await afterReopen(conn);
    } catch (err) {
      this.logger.warn({ err }, 'DuckDB: the reads after opening its file again failed');
    } finally {
      this.releaseReader(conn);
    }
  }

  private armIdleCheckpoint(): void {
    if (this.parts.idleCheckpointMs <= 0 || this.closing || !this.writtenSinceCheckpoint) return;
    this.idleTimer = setTimeout(() => {
      this.queueCheckpoint('idle').catch((err: unknown) => {
        if (isCheckpointHeldUpByReads(err)) this.armIdleCheckpoint();
        else this.logger.warn({ err }, 'DuckDB idle checkpoint failed');
      });
    }, this.parts.idleCheckpointMs);
    this.idleTimer.unref();
  }

  /**
   * At most once a second, after a read or a write, on the writer queue: checkpoints when what only
   * a checkpoint releases has passed its share of the limit, and opens the file again when loaded
   * index nodes have passed theirs (INDEX_MEMORY_REOPEN_SHARE).
   */
  private checkMemorySoon(): void {
    const now = performance.now();
    if (this.closing || now - this.lastMemoryCheck < MEMORY_CHECK_MS) return;
    this.lastMemoryCheck = now;
    this.enqueueWrite(() => this.releaseMemory({ releaseIndexNodes: false })).catch((err: unknown) => {
      if (!isCheckpointHeldUpByReads(err)) {
        this.logger.warn(
          { err },
          'DuckDB memory check failed (its checkpoint, or opening the file again to release index nodes)',
        );
        return;
      }
      this.lastMemoryCheck = 0; // again after the next read or write
      this.logger.debug('DuckDB checkpoint waits for reads older than the last commit');
    });
  }

  makeRoomForInsert({ releaseIndexNodes = false } = {}): Promise<IndexMemory> {
    if (this.closing) return this.rejectClosed();
    this.lastMemoryCheck = performance.now();
    return this.enqueueWrite(async () => {
      const { writer, memoryLimitBytes } = await this.openSession();
      const indexBytes = await this.releaseMemory({ releaseIndexNodes }).catch(async (err: unknown) => {
        // As in checkMemorySoon: the insert goes on, and the next check checkpoints.
        if (!isCheckpointHeldUpByReads(err)) throw err;
        this.logger.debug('DuckDB checkpoint waits for reads older than the last commit');
        return indexMemoryBytes(writer);
      });
      return { indexBytes, limitBytes: memoryLimitBytes };
    });
  }

  indexMemory(): Promise<IndexMemory> {
    if (this.closing) return this.rejectClosed();
    return this.enqueueWrite(async () => {
      const { writer, memoryLimitBytes } = await this.openSession();
      return { indexBytes: await indexMemoryBytes(writer), limitBytes: memoryLimitBytes };
    });
  }

  /**
   * On the writer queue: checkpoints or opens the file again as checkMemorySoon says. Returns the
   * `ART_INDEX` bytes it found, before releasing any.
   */
  private async releaseMemory({ releaseIndexNodes }: { releaseIndexNodes: boolean }): Promise<number> {
    const { writer, memoryLimitBytes } = await this.openSession();
    const held = { ...(await heldMemory(writer)), limitBytes: memoryLimitBytes };
    const action = memoryAction(held, {
      heldRowsShare: this.parts.heldMemoryCheckpointShare,
      indexReopenShare: releaseIndexNodes ? FORCED_INDEX_RELEASE_SHARE : this.parts.indexMemoryReopenShare,
      written: this.writtenSinceCheckpoint,
      lastCheckpointLongAgo: this.lastCheckpointLongAgo(),
    });
    if (action === 'reopen') {
      await this.reopenToReleaseIndexes(held.indexBytes);
    } else if (action === 'checkpoint') {
      this.logger.debug(
        { heldBytes: held.rowBytes, indexBytes: held.indexBytes },
        'DuckDB checkpoint: rows held in memory passed their share',
      );
      await this.checkpointNow('rows_held');
    }
    return held.indexBytes;
  }

  /** Whether the last checkpoint ended at least HELD_MEMORY_CHECKPOINT_SPACING times its length ago. */
  private lastCheckpointLongAgo(): boolean {
    const { endedAt, ms } = this.lastCheckpoint;
    return performance.now() - endedAt >= ms * this.parts.heldMemoryCheckpointSpacing;
  }

  private async reopenToReleaseIndexes(indexBytes: number): Promise<void> {
    const started = performance.now();
    const sinceLast = started - this.lastIndexReopen;
    this.lastIndexReopen = started;
    await this.reopenFile({ checkpointFirst: true, reason: 'index_memory' });
    const fields = {
      indexMiB: Math.round(indexBytes / 2 ** 20),
      ms: Math.round(performance.now() - started),
    };
    if (sinceLast >= INDEX_REOPEN_TOO_OFTEN_MS) {
      this.logger.info(fields, 'DuckDB opened its file again to release loaded index nodes');
    } else if (started - this.lastFrequentReopenWarning >= INDEX_REOPEN_TOO_OFTEN_MS) {
      // Into a big store a load reopens every second or so: one warning per period, not per reopen.
      this.lastFrequentReopenWarning = started;
      this.logger.warn(
        { ...fields, secondsSinceLast: Math.round(sinceLast / 1000) },
        'DuckDB opened its file again to release loaded index nodes, soon after the last time: the indexes this load reads need more memory; raise JUNJO_DUCKDB_MEMORY_LIMIT',
      );
    } else {
      this.logger.debug(fields, 'DuckDB opened its file again to release loaded index nodes (again)');
    }
  }

  /** A checkpoint if anything was written since the last; counted under `reason` (null: a reopen's). */
  private async checkpointNow(reason: CheckpointReason | null): Promise<void> {
    if (!this.writtenSinceCheckpoint) return;
    const started = performance.now();
    const { writer } = await this.openSession();
    try {
      await writer.run('CHECKPOINT');
    } catch (err) {
      throw isDuckDbInvalidated(err) ? await this.replaceSession(err) : err;
    }
    this.writtenSinceCheckpoint = false;
    const endedAt = performance.now();
    this.lastCheckpoint = { endedAt, ms: endedAt - started };
    if (reason) addUpkeep(this.upkeepTotals.checkpoints[reason], endedAt - started);
    const ms = Math.round(endedAt - started);
    // Seconds-long checkpoints are worth seeing in the log: they hold up the writer queue.
    this.logger[ms >= 1000 ? 'info' : 'debug']({ ms }, 'DuckDB checkpoint');
  }

  // The queue survives a failed write: the next one starts once the previous has settled either way.
  private enqueueWrite<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writeTail.then(task);
    this.writeTail = run.catch(() => {});
    return run;
  }

  private async rollback(writer: DuckDBConnection): Promise<void> {
    try {
      await writer.run('ROLLBACK');
    } catch (err) {
      // A failed COMMIT has already rolled back; there is nothing left to undo.
      this.logger.debug({ err }, 'DuckDB rollback after a failed write');
    }
  }

  private releaseReader(conn: DuckDBConnection): void {
    if (!this.session?.readers.includes(conn)) return; // of a session closed since
    const waiter = this.readerWaiters.shift();
    if (waiter) {
      waiter(conn);
      return;
    }
    this.idleReaders.push(conn);
    if (this.idleReaders.length === this.session.readers.length) this.readersDrained?.();
  }

  private readersIdle(): Promise<void> {
    if (!this.session || this.idleReaders.length === this.session.readers.length) return Promise.resolve();
    return new Promise((resolve) => {
      this.readersDrained = resolve;
    });
  }

  private rejectClosed(): Promise<never> {
    return Promise.reject(new Error(`DuckDB ${this.path} is closed`));
  }
}
