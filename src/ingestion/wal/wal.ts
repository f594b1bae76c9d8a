// The write-ahead log that makes an export durable before it is acknowledged.
//
// Group commit: the first append of an idle log waits up to `groupCommitMs` (0: until the current
// event-loop turn ends) for company, then the whole group goes to disk with one writev and one
// fdatasync, and every append of the group resolves with its key. Appends that arrive while a group
// is being written form the next group, which starts as soon as the previous fsync returns — under
// load the fsync itself is the batching window. Readers only ever see fsynced records.
//
// A failed write or fsync rejects every append of its group with a retryable `unavailable` error
// and cuts the group's bytes off again, so the file keeps ending at the last acknowledged record.
// File layout: see record_format.ts; segment files and recovery: see segment.ts.
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { unavailable } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { readFullyIntoAt, syncDirectory, writeFullyAt } from './file_io.ts';
import {
  decodeRecord,
  encodeHeader,
  FIXED_HEADER_BYTES,
  MAX_API_KEY_ID_BYTES,
  MAX_KEY,
  MAX_RECORD_BYTES,
  type WalRecord,
  type WalRecordMeta,
} from './record_format.ts';
import {
  createSegment,
  parseSegmentFileName,
  type RecoveredSegment,
  recoverSegment,
  type Segment,
  segmentFileName,
} from './segment.ts';

export type { WalFormat, WalRecord, WalRecordMeta } from './record_format.ts';

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const RETRY_AFTER_SECONDS = 1;

export interface WriteAheadLogOptions {
  groupCommitMs: number;
  /** A segment is closed for appends once it reaches this size (default 64 MiB). */
  segmentBytes?: number;
  logger: Logger;
  /** Tests only: called before each write and fsync; an error it returns makes that operation fail. */
  faultInjector?: (operation: 'write' | 'sync') => Error | undefined;
}

export interface ReadLimits {
  maxRecords: number;
  /** Bytes of whole records (header included). At least one record is returned even if it is larger. */
  maxBytes: number;
}

export interface WalStats {
  /** Acknowledged appends. */
  appends: number;
  fsyncs: number;
  /** Bytes of acknowledged records. */
  bytes: number;
  failedAppends: number;
  segments: number;
  /** Acknowledged records the consumer has not released yet (the poller's backlog). */
  backlogRecords: number;
  /** Key of the newest acknowledged record (null: none yet); decimal, so it survives JSON. */
  lastKey: string | null;
}

interface PendingAppend {
  payload: Uint8Array;
  meta: WalRecordMeta;
  apiKeyId: Buffer;
  recordBytes: number;
  resolve: (key: bigint) => void;
  reject: (error: Error) => void;
}

export class WriteAheadLog {
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly groupCommitMs: number;
  private readonly segmentBytes: number;
  private readonly faultInjector: WriteAheadLogOptions['faultInjector'];
  /** Oldest first; the last one is the active segment that appends go to. */
  private readonly segments: Segment[];
  private nextKey: bigint;
  /** Highest key a consumer has declared committed. */
  private releasedKey = 0n;
  /** After a failed write that could not be cut off, the next group starts a fresh segment. */
  private mustRoll = false;
  private pending: PendingAppend[] = [];
  private unflushedBytes = 0;
  private isFlushing = false;
  private flushDone: Promise<void> = Promise.resolve();
  private cancelScheduledFlush: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private handlesClosed = false;
  /** Serialises reads, releases and close, so a segment is never deleted under a reader. */
  private fileLock: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  private readonly counters = { appends: 0, fsyncs: 0, bytes: 0, failedAppends: 0 };

  private constructor(
    dir: string,
    options: WriteAheadLogOptions,
    logger: Logger,
    segments: Segment[],
    nextKey: bigint,
  ) {
    this.dir = dir;
    this.logger = logger;
    this.groupCommitMs = options.groupCommitMs;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.faultInjector = options.faultInjector;
    this.segments = segments;
    this.nextKey = nextKey;
  }

  /** Opens (creating if needed) the log in `dir`, recovering from whatever a crash left behind. */
  static async open(dir: string, options: WriteAheadLogOptions): Promise<WriteAheadLog> {
    if (!(options.groupCommitMs >= 0)) throw new RangeError('groupCommitMs must be >= 0');
    if (options.segmentBytes !== undefined && !(options.segmentBytes > 0)) {
      throw new RangeError('segmentBytes must be > 0');
    }
    const logger = options.logger.child({ component: 'wal' });
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    for (const name of names.filter((entry) => entry.endsWith('.wal.tmp'))) {
      await rm(join(dir, name), { force: true });
    }
    const firstKeys = names
      .map(parseSegmentFileName)
      .filter((key) => key !== null)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const recovered: RecoveredSegment[] = [];
    try {
      for (const [index, firstKey] of firstKeys.entries()) {
        const keyLimit = firstKeys[index + 1] ?? null;
        recovered.push(
          await recoverSegment(join(dir, segmentFileName(firstKey)), firstKey, keyLimit, logger),
        );
      }
      await dropEmptyJumps(dir, recovered, logger);
      const last = recovered.at(-1);
      const nextKey = last ? nextKeyAfter(last) : 1n;
      const segments = recovered.map(({ segment }) => segment);
      if (!last) segments.push(await createSegment(dir, nextKey));
      const wal = new WriteAheadLog(dir, options, logger, segments, nextKey);
      logger.info(
        {
          dir,
          segments: segments.length,
          records: segments.reduce((total, segment) => total + segment.keys.length, 0),
          backlogBytes: wal.backlogBytes(null),
          nextKey: String(nextKey),
        },
        'WAL opened',
      );
      return wal;
    } catch (err) {
      await Promise.allSettled(recovered.map(({ segment }) => segment.handle.close()));
      throw err;
    }
  }

  /** Resolves with the record's key once it is fsynced; rejects with a retryable error otherwise. */
  append(payload: Uint8Array, meta: WalRecordMeta): Promise<bigint> {
    if (this.closing)
      return Promise.reject(unavailable('the write-ahead log is closed; retry', RETRY_AFTER_SECONDS));
    const apiKeyId = Buffer.from(meta.apiKeyId, 'utf8');
    if (apiKeyId.length > MAX_API_KEY_ID_BYTES) {
      return Promise.reject(new RangeError(`apiKeyId is longer than ${MAX_API_KEY_ID_BYTES} bytes`));
    }
    const recordBytes = FIXED_HEADER_BYTES + apiKeyId.length + payload.length;
    if (recordBytes > MAX_RECORD_BYTES) {
      return Promise.reject(new RangeError(`a WAL record cannot exceed ${MAX_RECORD_BYTES} bytes`));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ payload, meta, apiKeyId, recordBytes, resolve, reject });
      this.unflushedBytes += recordBytes;
      this.scheduleFlush();
    });
  }

  /**
   * Acknowledged records with keys above `afterKey` (null: from the oldest kept record), in key
   * order. Payloads are views into one buffer per call.
   */
  readAfter(afterKey: bigint | null, limits: ReadLimits): Promise<WalRecord[]> {
    return this.withFiles(() => this.readRecords(afterKey ?? 0n, limits));
  }

  /** The highest key this log has handed out (0 before the first append). */
  highestKey(): bigint {
    return this.nextKey - 1n;
  }

  /**
   * The consumer has durably committed every record up to `key`: segments holding nothing newer are
   * deleted (never the active one). Keys handed out from now on are above `key`, which protects a
   * consumer whose position is ahead of this log (e.g. after the WAL directory was lost).
   */
  releaseUpTo(key: bigint): Promise<void> {
    return this.withFiles(async () => {
      if (key > this.releasedKey) this.releasedKey = key;
      const released: Segment[] = [];
      while (this.segments.length > 1 && (this.segments[0]!.lastKey ?? 0n) <= key) {
        released.push(this.segments.shift()!);
      }
      if (released.length === 0) return;
      for (const segment of released) {
        await segment.handle.close();
        await unlink(segment.path);
      }
      await syncDirectory(this.dir);
      this.logger.info(
        {
          segments: released.map((segment) => segment.name),
          bytes: released.reduce((total, segment) => total + segment.size, 0),
          releasedKey: String(key),
        },
        'WAL segments released',
      );
    });
  }

  /** Bytes of records after `afterKey` and after the released position, including appends in flight. */
  backlogBytes(afterKey: bigint | null): number {
    const from = afterKey !== null && afterKey > this.releasedKey ? afterKey : this.releasedKey;
    let total = this.unflushedBytes;
    for (let index = this.segments.length - 1; index >= 0; index--) {
      const segment = this.segments[index]!;
      const first = segment.indexAfter(from);
      if (first < segment.keys.length) total += segment.size - segment.offsets[first]!;
      else if (segment.keys.length > 0) break;
    }
    return total;
  }

  /** Calls `listener` after every group of appends becomes durable. Returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): WalStats {
    let backlogRecords = 0;
    let lastKey: bigint | undefined;
    for (const segment of this.segments) {
      backlogRecords += segment.keys.length - segment.indexAfter(this.releasedKey);
      lastKey = segment.lastKey ?? lastKey;
    }
    return {
      ...this.counters,
      segments: this.segments.length,
      backlogRecords,
      lastKey: lastKey === undefined ? null : String(lastKey),
    };
  }

  /** Writes the appends already accepted (they resolve as usual), then closes the files. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.cancelScheduledFlush) {
        this.cancelScheduledFlush();
        this.flushAll();
      }
      await this.flushDone;
      await this.withFiles(async () => {
        this.handlesClosed = true;
        await Promise.all(this.segments.map((segment) => segment.handle.close()));
      });
    })();
    return this.closing;
  }

  private scheduleFlush(): void {
    if (this.isFlushing || this.cancelScheduledFlush) return;
    const run = () => this.flushAll();
    if (this.groupCommitMs === 0) {
      const immediate = setImmediate(run);
      this.cancelScheduledFlush = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(run, this.groupCommitMs);
      this.cancelScheduledFlush = () => clearTimeout(timer);
    }
  }

  private flushAll(): void {
    this.cancelScheduledFlush = undefined;
    this.flushDone = this.writeGroupsWhilePending();
  }

  private async writeGroupsWhilePending(): Promise<void> {
    // The flag is cleared in the same synchronous step that sees an empty queue, so an append can
    // never land in the queue unnoticed.
    this.isFlushing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        await this.writeGroup(group);
      }
    } finally {
      this.isFlushing = false;
    }
  }

  private async writeGroup(group: PendingAppend[]): Promise<void> {
    const groupBytes = group.reduce((total, append) => total + append.recordBytes, 0);
    if (this.nextKey <= this.releasedKey) this.skipKeysUpTo(this.releasedKey);
    const firstKey = this.nextKey;
    let written: Segment | undefined;
    try {
      if (firstKey + BigInt(group.length) - 1n > MAX_KEY) {
        throw new RangeError(`WAL keys exhausted: the next key ${firstKey} leaves no room below 2^64`);
      }
      const segment = await this.segmentForNextGroup(firstKey);
      const buffers: Uint8Array[] = [];
      for (const [index, append] of group.entries()) {
        buffers.push(encodeHeader(firstKey + BigInt(index), append.meta, append.apiKeyId, append.payload));
        buffers.push(append.payload);
      }
      this.nextKey = firstKey + BigInt(group.length);
      written = segment;
      this.injectFault('write');
      await writeFullyAt(segment.handle, buffers, segment.size);
      this.injectFault('sync');
      await segment.handle.datasync();
      this.counters.fsyncs++;
      for (const [index, append] of group.entries()) {
        segment.addRecord(firstKey + BigInt(index), segment.size);
        segment.size += append.recordBytes;
      }
    } catch (err) {
      await this.abandonGroup(group, groupBytes, firstKey, written, err);
      return;
    } finally {
      this.unflushedBytes -= groupBytes;
    }
    this.counters.appends += group.length;
    this.counters.bytes += groupBytes;
    for (const [index, append] of group.entries()) append.resolve(firstKey + BigInt(index));
    this.notifyListeners();
  }

  private async segmentForNextGroup(firstKey: bigint): Promise<Segment> {
    const active = this.segments.at(-1)!;
    if (active.size < this.segmentBytes && !this.mustRoll) return active;
    const segment = await createSegment(this.dir, firstKey);
    this.segments.push(segment);
    this.mustRoll = false;
    this.logger.info(
      { segment: segment.name, previous: active.name, previousBytes: active.size },
      'WAL rolled to a new segment',
    );
    return segment;
  }

  private skipKeysUpTo(key: bigint): void {
    this.logger.warn(
      { nextKey: String(this.nextKey), releasedKey: String(key) },
      'a consumer has committed keys this WAL has not handed out yet (WAL directory lost?); skipping past them',
    );
    this.nextKey = key + 1n;
    // Keys inside a segment go up in steps of one (recovery relies on it), so the jump starts a new one.
    this.mustRoll = true;
  }

  private async abandonGroup(
    group: PendingAppend[],
    groupBytes: number,
    firstKey: bigint,
    written: Segment | undefined,
    cause: unknown,
  ): Promise<void> {
    let bytesCutOff = true;
    if (written) {
      try {
        await written.handle.truncate(written.size);
      } catch (truncateError) {
        // The failed group's bytes may stay behind the last good record: never reuse their keys, and
        // continue in a new segment so the leftovers stay at this segment's end.
        bytesCutOff = false;
        this.mustRoll = true;
        this.logger.error(
          { err: truncateError, segment: written.name },
          'could not cut off a failed WAL write',
        );
      }
    }
    if (bytesCutOff) this.nextKey = firstKey;
    this.counters.failedAppends += group.length;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'error';
    this.logger.error(
      { err: cause, records: group.length, bytes: groupBytes },
      'WAL group write failed; its appends are refused as retryable',
    );
    const error = unavailable(
      `the request could not be made durable in the write-ahead log (${code}); retry later`,
      RETRY_AFTER_SECONDS,
    );
    error.cause = cause;
    for (const append of group) append.reject(error);
  }

  private injectFault(operation: 'write' | 'sync'): void {
    const fault = this.faultInjector?.(operation);
    if (fault) throw fault;
  }

  private notifyListeners(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'WAL append listener threw');
      }
    }
  }

  private withFiles<T>(task: () => Promise<T>): Promise<T> {
    const run = this.fileLock.then(() => {
      if (this.handlesClosed) throw unavailable('the write-ahead log is closed', RETRY_AFTER_SECONDS);
      return task();
    });
    this.fileLock = run.catch(() => undefined);
    return run;
  }

  private async readRecords(afterKey: bigint, limits: ReadLimits): Promise<WalRecord[]> {
    const records: WalRecord[] = [];
    let bytes = 0;
    for (const segment of this.segments) {
      if (segment.lastKey === undefined || segment.lastKey <= afterKey) continue;
      const first = segment.indexAfter(afterKey);
      let end = first;
      while (end < segment.keys.length && records.length + (end - first) < limits.maxRecords) {
        const length = segment.recordEnd(end) - segment.offsets[end]!;
        const isFirstRecord = records.length === 0 && end === first;
        if (bytes + length > limits.maxBytes && !isFirstRecord) break;
        bytes += length;
        end++;
      }
      if (end > first) records.push(...(await this.readRange(segment, first, end)));
      if (end < segment.keys.length || records.length >= limits.maxRecords) break;
    }
    return records;
  }

  /**
   * Reads records [first, end) of `segment` in one vectored read, each into a buffer of its own:
   * a payload can then be handed on (the ingestion thread transfers it to the main thread) without
   * a copy, and without keeping alive one large buffer that only a full collection would free.
   */
  private async readRange(segment: Segment, first: number, end: number): Promise<WalRecord[]> {
    const buffers: Buffer[] = [];
    for (let index = first; index < end; index++) {
      buffers.push(Buffer.allocUnsafeSlow(segment.recordEnd(index) - segment.offsets[index]!));
    }
    await readFullyIntoAt(segment.handle, buffers, segment.offsets[first]!);
    const records: WalRecord[] = [];
    for (let index = first; index < end; index++) {
      const record = decodeRecord(buffers[index - first]!);
      if (record && record.key === segment.keys[index]) {
        records.push(record);
      } else {
        this.logger.error(
          { segment: segment.name, offset: segment.offsets[index]!, walKey: String(segment.keys[index]) },
          'WAL record no longer matches its checksum (disk corruption?); skipped',
        );
      }
    }
    return records;
  }
}

/**
 * The key after a recovered segment's records. Keys in a cut-off tail might have been read by a
 * consumer before the damage (media errors, not a mere crash). Each record takes at least
 * FIXED_HEADER_BYTES, so skipping this many keys guarantees none of them is handed out again.
 */
function nextKeyAfter({ segment, tailDroppedBytes }: RecoveredSegment): bigint {
  const skipped = BigInt(Math.ceil(tailDroppedBytes / FIXED_HEADER_BYTES));
  return (segment.lastKey ?? segment.firstKey - 1n) + 1n + skipped;
}

/**
 * Drops trailing segment files that are empty and start past the key the previous segment leads
 * to (or past 2^64 - 1): a jump of the key sequence that never received a record. Versions without
 * the ReadSpans start-key check let any caller cause one, up to a segment named 2^64 that made
 * every later append fail, also after restarts. An empty jump holds nothing; a legitimate one
 * (the local poller's position ahead of a lost WAL) is re-applied when the poller starts.
 */
async function dropEmptyJumps(dir: string, recovered: RecoveredSegment[], logger: Logger): Promise<void> {
  let dropped = false;
  for (;;) {
    const last = recovered.at(-1);
    const previous = recovered.at(-2);
    if (!last || last.segment.size > 0 || last.tailDroppedBytes > 0) break;
    const expected = previous ? nextKeyAfter(previous) : 1n;
    if (!(last.segment.firstKey > MAX_KEY || (previous && last.segment.firstKey > expected))) break;
    recovered.pop();
    await last.segment.handle.close();
    await unlink(last.segment.path);
    dropped = true;
    logger.warn(
      { segment: last.segment.name, expectedNextKey: String(expected) },
      'WAL segment was empty and started past the last key handed out (a key jump left by an earlier version); removed it',
    );
  }
  if (dropped) await syncDirectory(dir);
}
