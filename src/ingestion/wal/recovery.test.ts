import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { WalRecordMeta } from './record_format.ts';
import { capturingLogger, type LogLine, tempDir, WARN } from './test_support.ts';
import { WriteAheadLog } from './wal.ts';

const META: WalRecordMeta = { receivedAtMs: 1_700_000_000_000, apiKeyId: 'key-1', format: 'json' };
const PAYLOAD_BYTES = 100;
const RECORD_BYTES = 31 + META.apiKeyId.length + PAYLOAD_BYTES;
const FIRST_SEGMENT = '00000000000000000001.wal';

let dir: string;
let remove: () => void;
const opened: WriteAheadLog[] = [];

beforeEach(() => {
  ({ dir, remove } = tempDir());
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((wal) => wal.close()));
  remove();
});

async function openWal(segmentBytes?: number): Promise<{ wal: WriteAheadLog; warnings: LogLine[] }> {
  const { logger, lines } = capturingLogger();
  const wal = await WriteAheadLog.open(dir, {
    groupCommitMs: 0,
    logger,
    ...(segmentBytes ? { segmentBytes } : {}),
  });
  opened.push(wal);
  return { wal, warnings: lines.filter((line) => line.level >= WARN) };
}

function payload(index: number): Buffer {
  return Buffer.from(`record ${index}`.padEnd(PAYLOAD_BYTES, '.'));
}

/** Writes `count` records (keys 1..count), one fsync each, and closes the log. */
async function writeRecords(count: number, segmentBytes?: number): Promise<void> {
  const { wal } = await openWal(segmentBytes);
  for (let index = 1; index <= count; index++) await wal.append(payload(index), META);
  await wal.close();
}

async function survivingRecords(wal: WriteAheadLog): Promise<{ key: bigint; text: string }[]> {
  const records = await wal.readAfter(null, { maxRecords: 1_000, maxBytes: 1_000_000 });
  for (const record of records) assert.deepEqual(record.apiKeyId, META.apiKeyId);
  return records.map((record) => ({
    key: record.key,
    text: Buffer.from(record.payload).toString().replace(/\.+$/, ''),
  }));
}

function expected(indexes: number[]): { key: bigint; text: string }[] {
  return indexes.map((index) => ({ key: BigInt(index), text: `record ${index}` }));
}

function overwrite(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(join(dir, file), 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('WAL recovery on open', () => {
  test('cuts a torn last record off and keeps appending after the keys it may have held', async () => {
    await writeRecords(10);
    truncateSync(join(dir, FIRST_SEGMENT), 10 * RECORD_BYTES - 50);

    const { wal, warnings } = await openWal();
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.droppedBytes, RECORD_BYTES - 50);
    assert.match(warnings[0]!.msg, /torn or corrupt/);
    assert.deepEqual(await survivingRecords(wal), expected(range(1, 9)));
    assert.equal(statSync(join(dir, FIRST_SEGMENT)).size, 9 * RECORD_BYTES);

    const key = await wal.append(payload(11), META);
    assert.ok(key > 10n, `key ${key} must not reuse the torn record's key 10`);
    await wal.close();
    const again = await openWal();
    assert.deepEqual(again.warnings, []);
    assert.equal((await survivingRecords(again.wal)).length, 10);
  });

  test('cuts a last record whose header was only partly written', async () => {
    await writeRecords(3);
    truncateSync(join(dir, FIRST_SEGMENT), 2 * RECORD_BYTES + 10);
    const { wal, warnings } = await openWal();
    assert.equal(warnings[0]!.droppedBytes, 10);
    assert.deepEqual(await survivingRecords(wal), expected([1, 2]));
  });

  test('cuts a last record whose checksum does not match', async () => {
    await writeRecords(10);
    overwrite(FIRST_SEGMENT, 10 * RECORD_BYTES - 20, Buffer.from('X'));
    const { wal, warnings } = await openWal();
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.droppedBytes, RECORD_BYTES);
    assert.deepEqual(await survivingRecords(wal), expected(range(1, 9)));
  });

  test('moves a corrupt record in the middle to a side file and keeps everything else', async () => {
    await writeRecords(10);
    const fifth = 4 * RECORD_BYTES;
    overwrite(FIRST_SEGMENT, fifth + 60, Buffer.from('X'));
    const originalFifth = readFileSync(join(dir, FIRST_SEGMENT)).subarray(fifth, fifth + RECORD_BYTES);

    const { wal, warnings } = await openWal();
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.cutBytes, RECORD_BYTES);
    assert.deepEqual(warnings[0]!.cutRegions, [{ offset: fifth, bytes: RECORD_BYTES }]);
    assert.deepEqual(readFileSync(join(dir, `${FIRST_SEGMENT}.corrupt`)), originalFifth);
    assert.deepEqual(await survivingRecords(wal), expected([1, 2, 3, 4, 6, 7, 8, 9, 10]));
    assert.equal(await wal.append(payload(11), META), 11n);

    await wal.close();
    const again = await openWal();
    assert.deepEqual(again.warnings, [], 'the repaired segment is clean');
    assert.deepEqual(await survivingRecords(again.wal), expected([1, 2, 3, 4, 6, 7, 8, 9, 10, 11]));
  });

  test('resynchronises after a middle record whose length field is garbage', async () => {
    await writeRecords(10);
    overwrite(FIRST_SEGMENT, 4 * RECORD_BYTES + 8, Buffer.from([0xf0, 0xff, 0xff, 0x0f]));
    const { wal, warnings } = await openWal();
    assert.equal(warnings[0]!.cutBytes, RECORD_BYTES);
    assert.deepEqual(await survivingRecords(wal), expected([1, 2, 3, 4, 6, 7, 8, 9, 10]));
  });

  test('keeps later segments when an earlier segment ends in a corrupt record', async () => {
    await writeRecords(9, 3 * RECORD_BYTES);
    overwrite(FIRST_SEGMENT, 3 * RECORD_BYTES - 10, Buffer.from('X'));
    const { wal, warnings } = await openWal(3 * RECORD_BYTES);
    assert.equal(warnings.length, 1);
    assert.deepEqual(await survivingRecords(wal), expected([1, 2, 4, 5, 6, 7, 8, 9]));
    assert.equal(await wal.append(payload(10), META), 10n);
  });

  test('removes a half-written repair file and starts keys at an empty segment name', async () => {
    writeFileSync(join(dir, '00000000000000000042.wal'), '');
    writeFileSync(join(dir, '00000000000000000001.wal.tmp'), 'half a repair');
    const { wal, warnings } = await openWal();
    assert.deepEqual(warnings, []);
    assert.equal(existsSync(join(dir, '00000000000000000001.wal.tmp')), false);
    assert.equal(await wal.append(payload(42), META), 42n);
  });

  test('removes empty segments named past the last key (key jumps that never got a record), up to one past 2^64 - 1', async () => {
    await writeRecords(3);
    const jumps = ['00000000000001000000.wal', '18446744073709551616.wal'];
    for (const name of jumps) writeFileSync(join(dir, name), '');
    const { wal, warnings } = await openWal();
    assert.deepEqual(
      warnings.map((line) => line.segment),
      [...jumps].reverse(),
    );
    for (const name of jumps) assert.equal(existsSync(join(dir, name)), false, name);
    assert.equal(wal.highestKey(), 3n);
    assert.equal(await wal.append(payload(4), META), 4n);
  });
});
