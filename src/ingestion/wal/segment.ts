// One segment file of the write-ahead log and its in-memory index (key → byte offset), plus the
// recovery that builds the index on open: a torn tail is cut off, corrupt bytes in the middle are
// moved to a side file. The record layout is described in record_format.ts.
import { type FileHandle, open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../../logger.ts';
import { readFullyAt, syncDirectory, writeFullyAt } from './file_io.ts';
import { announcedLength, decodeRecord, FIXED_HEADER_BYTES, MAGIC_BYTES } from './record_format.ts';

const NAME_PATTERN = /^(\d{20})\.wal$/;
const READ_AHEAD_BYTES = 1024 * 1024;
const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

export function segmentFileName(firstKey: bigint): string {
  return `${firstKey.toString().padStart(20, '0')}.wal`;
}

export function parseSegmentFileName(name: string): bigint | null {
  const match = NAME_PATTERN.exec(name);
  return match ? BigInt(match[1]!) : null;
}

/** A segment file with the keys and offsets of its durable records (contiguous, in key order). */
export class Segment {
  readonly firstKey: bigint;
  readonly path: string;
  readonly handle: FileHandle;
  /** Bytes of durable records; anything past it (a failed write) is never read. */
  size: number;
  readonly keys: bigint[] = [];
  readonly offsets: number[] = [];

  constructor(path: string, firstKey: bigint, handle: FileHandle, size: number) {
    this.path = path;
    this.firstKey = firstKey;
    this.handle = handle;
    this.size = size;
  }

  get name(): string {
    return basename(this.path);
  }

  get lastKey(): bigint | undefined {
    return this.keys[this.keys.length - 1];
  }

  recordEnd(index: number): number {
    return this.offsets[index + 1] ?? this.size;
  }

  /** Index of the first record with a key greater than `key` (keys.length when there is none). */
  indexAfter(key: bigint): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[mid]! <= key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  addRecord(key: bigint, offset: number): void {
    this.keys.push(key);
    this.offsets.push(offset);
  }
}

export async function createSegment(dir: string, firstKey: bigint): Promise<Segment> {
  const path = join(dir, segmentFileName(firstKey));
  // 'w+' rather than exclusive: a file with this name can only be the empty leftover of a failed roll,
  // because its name is above every key written so far.
  const handle = await open(path, 'w+');
  try {
    await syncDirectory(dir);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return new Segment(path, firstKey, handle, 0);
}

export interface RecoveredSegment {
  segment: Segment;
  /** Bytes cut from the end; the keys they held must never be handed out again. */
  tailDroppedBytes: number;
}

/**
 * Opens an existing segment and indexes its valid records. Records must carry keys in
 * [firstKey, keyLimit) and increasing; anything else counts as corrupt.
 */
export async function recoverSegment(
  path: string,
  firstKey: bigint,
  keyLimit: bigint | null,
  logger: Logger,
): Promise<RecoveredSegment> {
  let handle = await open(path, 'r+');
  const { size } = await handle.stat();
  const scan = await scanRecords(handle, size, firstKey, keyLimit);
  const tailDroppedBytes = size - scan.validEnd;
  let records = scan.records;
  if (scan.badRegions.length > 0) {
    await handle.close();
    records = await cutOutCorruptBytes(path, scan, size, logger);
    handle = await open(path, 'r+');
  } else if (tailDroppedBytes > 0) {
    await handle.truncate(scan.validEnd);
    await handle.sync();
    logger.warn(
      { segment: basename(path), droppedBytes: tailDroppedBytes, keptRecords: records.length },
      'WAL segment ended in a torn or corrupt record; cut it off',
    );
  }
  const segment = new Segment(path, firstKey, handle, scan.validEnd - sumLengths(scan.badRegions));
  for (const record of records) segment.addRecord(record.key, record.offset);
  return { segment, tailDroppedBytes };
}

interface ScannedRecord {
  key: bigint;
  offset: number;
  length: number;
}

interface ByteRange {
  start: number;
  end: number;
}

interface Scan {
  records: ScannedRecord[];
  /** Corrupt bytes followed by valid records. */
  badRegions: ByteRange[];
  /** End of the last valid record: everything after it is a torn or corrupt tail. */
  validEnd: number;
}

async function scanRecords(
  handle: FileHandle,
  size: number,
  firstKey: bigint,
  keyLimit: bigint | null,
): Promise<Scan> {
  const reader = new ReadAheadReader(handle, size);
  const records: ScannedRecord[] = [];
  const badRegions: ByteRange[] = [];
  let previousKey = firstKey - 1n;
  const validRecordAt = async (offset: number): Promise<ScannedRecord | null> => {
    const record = await recordAt(reader, offset, size);
    const inOrder = record && record.key > previousKey && (keyLimit === null || record.key < keyLimit);
    return inOrder ? record : null;
  };
  let offset = 0;
  while (offset < size) {
    let record = await validRecordAt(offset);
    if (!record) {
      // The length field of a bad record cannot be trusted: resynchronise on the next magic whose
      // record checks out.
      record = await findNextRecord(reader, offset + 1, size, validRecordAt);
      if (!record) return { records, badRegions, validEnd: offset };
      badRegions.push({ start: offset, end: record.offset });
    }
    records.push(record);
    previousKey = record.key;
    offset = record.offset + record.length;
  }
  return { records, badRegions, validEnd: size };
}

async function recordAt(
  reader: ReadAheadReader,
  offset: number,
  size: number,
): Promise<ScannedRecord | null> {
  if (size - offset < FIXED_HEADER_BYTES) return null;
  const length = announcedLength(await reader.read(offset, FIXED_HEADER_BYTES));
  if (length === null || length > size - offset) return null;
  const record = decodeRecord(await reader.read(offset, length));
  return record ? { key: record.key, offset, length } : null;
}

async function findNextRecord(
  reader: ReadAheadReader,
  from: number,
  size: number,
  validRecordAt: (offset: number) => Promise<ScannedRecord | null>,
): Promise<ScannedRecord | null> {
  let position = from;
  while (size - position >= FIXED_HEADER_BYTES) {
    const chunk = await reader.read(position, Math.min(READ_AHEAD_BYTES, size - position));
    const found = chunk.indexOf(MAGIC_BYTES);
    if (found < 0) {
      position += chunk.length - (MAGIC_BYTES.length - 1);
      continue;
    }
    const record = await validRecordAt(position + found);
    if (record) return record;
    position += found + 1;
  }
  return null;
}

/**
 * Rewrites the segment without its corrupt bytes (crash-safe: temp file + rename) and keeps those
 * bytes in `<segment>.corrupt`. Returns the records with their offsets in the rewritten file.
 */
async function cutOutCorruptBytes(
  path: string,
  scan: Scan,
  size: number,
  logger: Logger,
): Promise<ScannedRecord[]> {
  const cut = [...scan.badRegions];
  if (scan.validEnd < size) cut.push({ start: scan.validEnd, end: size });
  const kept = complement(cut, size);
  const source = await open(path, 'r');
  try {
    await copyRanges(source, kept, `${path}.tmp`);
    await copyRanges(source, cut, `${path}.corrupt`);
  } finally {
    await source.close();
  }
  await rename(`${path}.tmp`, path);
  await syncDirectory(dirname(path));
  logger.warn(
    {
      segment: basename(path),
      cutRegions: cut.map((range) => ({ offset: range.start, bytes: range.end - range.start })),
      cutBytes: sumLengths(cut),
      keptRecords: scan.records.length,
      sideFile: `${basename(path)}.corrupt`,
    },
    'WAL segment had corrupt bytes between valid records; moved them to the side file, kept the rest',
  );
  return scan.records.map((record) => ({
    ...record,
    offset: record.offset - sumLengths(scan.badRegions.filter((range) => range.end <= record.offset)),
  }));
}

function complement(ranges: ByteRange[], size: number): ByteRange[] {
  const result: ByteRange[] = [];
  let start = 0;
  for (const range of ranges) {
    if (range.start > start) result.push({ start, end: range.start });
    start = range.end;
  }
  if (start < size) result.push({ start, end: size });
  return result;
}

async function copyRanges(source: FileHandle, ranges: ByteRange[], targetPath: string): Promise<void> {
  const target = await open(targetPath, 'w');
  try {
    let written = 0;
    for (const range of ranges) {
      for (let at = range.start; at < range.end; at += COPY_CHUNK_BYTES) {
        const chunk = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, range.end - at));
        await readFullyAt(source, chunk, at);
        await writeFullyAt(target, [chunk], written);
        written += chunk.length;
      }
    }
    await target.sync();
  } finally {
    await target.close();
  }
}

function sumLengths(ranges: ByteRange[]): number {
  return ranges.reduce((total, range) => total + range.end - range.start, 0);
}

/** Sequential positional reads through a 1 MiB window, so scanning small records is not a syscall each. */
class ReadAheadReader {
  private readonly handle: FileHandle;
  private readonly size: number;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(handle: FileHandle, size: number) {
    this.handle = handle;
    this.size = size;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const offset = position - this.windowStart;
    if (offset >= 0 && offset + length <= this.window.length)
      return this.window.subarray(offset, offset + length);
    const window = Buffer.allocUnsafe(Math.min(Math.max(length, READ_AHEAD_BYTES), this.size - position));
    await readFullyAt(this.handle, window, position);
    this.window = window;
    this.windowStart = position;
    return window.subarray(0, length);
  }
}
