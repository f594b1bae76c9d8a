import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AppError } from '../../errors.ts';
import { MAX_KEY, type WalRecordMeta } from './record_format.ts';
import { capturingLogger, tempDir, WARN } from './test_support.ts';
import { WriteAheadLog, type WriteAheadLogOptions } from './wal.ts';

const META: WalRecordMeta = { receivedAtMs: 1_700_000_000_123, apiKeyId: 'key-1', format: 'protobuf' };

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

async function openWal(options: Partial<WriteAheadLogOptions> = {}) {
  const { logger, lines } = capturingLogger();
  const wal = await WriteAheadLog.open(dir, { groupCommitMs: 1, logger, ...options });
  opened.push(wal);
  return { wal, lines };
}

async function reopen(wal: WriteAheadLog, options: Partial<WriteAheadLogOptions> = {}) {
  await wal.close();
  return openWal(options);
}

function payloadOf(text: string, size = text.length): Uint8Array {
  return Buffer.from(text.padEnd(size, '.'));
}

async function readAll(wal: WriteAheadLog) {
  return wal.readAfter(null, { maxRecords: 1_000_000, maxBytes: Number.MAX_SAFE_INTEGER });
}

function segmentFiles(): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.wal'))
    .sort();
}

describe('WriteAheadLog', () => {
  test('returns appended payloads with their metadata and increasing keys', async () => {
    const { wal } = await openWal();
    const metas: WalRecordMeta[] = [
      META,
      { receivedAtMs: 1_700_000_000_456.5, apiKeyId: 'ключ-2', format: 'json' },
      { receivedAtMs: 0, apiKeyId: '', format: 'protobuf' },
      { receivedAtMs: 1, apiKeyId: 'key-1', format: 'json', signal: 'logs' },
      { receivedAtMs: 2, apiKeyId: 'key-1', format: 'protobuf', signal: 'logs' },
    ];
    const payloads = [
      payloadOf('first'),
      payloadOf('{"resourceSpans":[]}'),
      new Uint8Array(0),
      payloadOf('{"resourceLogs":[]}'),
      payloadOf('logs'),
    ];
    const keys = await Promise.all(payloads.map((payload, index) => wal.append(payload, metas[index]!)));
    assert.deepEqual(keys, [1n, 2n, 3n, 4n, 5n]);

    const records = await readAll(wal);
    assert.deepEqual(
      records.map((record) => ({ ...record, payload: Buffer.from(record.payload) })),
      // A record appended without a signal is a traces export.
      keys.map((key, index) => ({
        key,
        signal: 'traces',
        ...metas[index]!,
        payload: Buffer.from(payloads[index]!),
      })),
    );
  });

  test('continues keys after a reopen', async () => {
    const first = await openWal();
    for (let index = 0; index < 5; index++) await first.wal.append(payloadOf(`r${index}`), META);
    const second = await reopen(first.wal);
    assert.equal(await second.wal.append(payloadOf('after'), META), 6n);
    assert.deepEqual(
      (await readAll(second.wal)).map((record) => record.key),
      [1n, 2n, 3n, 4n, 5n, 6n],
    );
    assert.equal(second.lines.filter((line) => line.level >= WARN).length, 0);
  });

  test('writes concurrent appends as a group with one fsync', async () => {
    const { wal } = await openWal({ groupCommitMs: 2 });
    const keys = await Promise.all(
      Array.from({ length: 200 }, (_, index) => wal.append(payloadOf(`p${index}`), META)),
    );
    assert.equal(new Set(keys).size, 200);
    const stats = wal.stats();
    assert.equal(stats.appends, 200);
    assert.ok(stats.fsyncs <= 3, `expected ~1 fsync for 200 concurrent appends, got ${stats.fsyncs}`);
    assert.equal(stats.bytes, statSync(join(dir, segmentFiles()[0]!)).size);
  });

  test('groups appends of the same event-loop turn when groupCommitMs is 0', async () => {
    const { wal } = await openWal({ groupCommitMs: 0 });
    await Promise.all(Array.from({ length: 50 }, (_, index) => wal.append(payloadOf(`p${index}`), META)));
    assert.equal(wal.stats().fsyncs, 1);
  });

  test('appends that arrive during an fsync wait for it and then share the next one', async () => {
    let during: Promise<bigint>[] = [];
    const { wal } = await openWal({
      groupCommitMs: 0,
      faultInjector: (operation) => {
        if (operation === 'sync' && during.length === 0) {
          during = Array.from({ length: 10 }, (_, index) => wal.append(payloadOf(`during${index}`), META));
        }
        return undefined;
      },
    });
    assert.equal(await wal.append(payloadOf('first'), META), 1n);
    assert.deepEqual(
      await Promise.all(during),
      Array.from({ length: 10 }, (_, index) => BigInt(index + 2)),
    );
    assert.equal(wal.stats().fsyncs, 2);
    const { wal: reopened, lines } = await reopen(wal);
    assert.deepEqual(
      (await readAll(reopened)).map((record) => Buffer.from(record.payload).toString()),
      ['first', ...Array.from({ length: 10 }, (_, index) => `during${index}`)],
    );
    assert.equal(lines.filter((line) => line.level >= WARN).length, 0);
  });

  test('sequential writers share fsyncs', async () => {
    const { wal } = await openWal({ groupCommitMs: 0 });
    const writers = Array.from({ length: 8 }, async (_, writer) => {
      for (let index = 0; index < 25; index++) await wal.append(payloadOf(`w${writer}-${index}`), META);
    });
    await Promise.all(writers);
    const { appends, fsyncs } = wal.stats();
    assert.equal(appends, 200);
    assert.ok(fsyncs <= 50, `8 sequential writers should share fsyncs, got ${fsyncs} for 200 appends`);
    const { wal: reopened, lines } = await reopen(wal);
    const texts = (await readAll(reopened)).map((record) => Buffer.from(record.payload).toString());
    assert.equal(new Set(texts).size, 200);
    assert.equal(lines.filter((line) => line.level >= WARN).length, 0);
  });

  test('never returns a record before its fsync has completed', async () => {
    const { wal } = await openWal({ groupCommitMs: 50 });
    let woken = 0;
    wal.onAppend(() => woken++);
    const appended = wal.append(payloadOf('slow'), META);
    assert.deepEqual(await readAll(wal), []);
    assert.equal(wal.backlogBytes(null) > 0, true, 'an append in flight counts toward the backlog');
    assert.equal(woken, 0);
    const key = await appended;
    assert.equal(woken, 1);
    assert.deepEqual(
      (await readAll(wal)).map((record) => record.key),
      [key],
    );
  });

  test('pages through a backlog across segments without gaps or repeats', async () => {
    const { wal } = await openWal({ segmentBytes: 2_000 });
    for (let index = 0; index < 100; index++)
      await wal.append(payloadOf(`r${index}`, 20 + (index % 7) * 40), META);
    assert.ok(segmentFiles().length > 3);

    for (const limits of [
      { maxRecords: 7, maxBytes: Number.MAX_SAFE_INTEGER },
      { maxRecords: 1_000, maxBytes: 500 },
      { maxRecords: 3, maxBytes: 250 },
    ]) {
      const seen: bigint[] = [];
      let after: bigint | null = null;
      for (;;) {
        const page = await wal.readAfter(after, limits);
        if (page.length === 0) break;
        assert.ok(page.length <= limits.maxRecords);
        seen.push(...page.map((record) => record.key));
        after = page.at(-1)!.key;
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 100 }, (_, index) => BigInt(index + 1)),
      );
    }
  });

  test('returns one record even when it alone is larger than maxBytes', async () => {
    const { wal } = await openWal();
    await wal.append(payloadOf('big', 10_000), META);
    await wal.append(payloadOf('next'), META);
    const page = await wal.readAfter(null, { maxRecords: 10, maxBytes: 100 });
    assert.deepEqual(
      page.map((record) => record.key),
      [1n],
    );
  });

  test('each record read comes in a buffer of its own that holds only that record', async () => {
    // The ingestion thread transfers each payload's buffer to the main thread: a buffer shared by
    // a batch could not be transferred per record, and one holding more would move more bytes.
    const { wal } = await openWal();
    for (let index = 0; index < 3; index++) await wal.append(payloadOf(`record ${index}`, 5_000), META);
    const page = await readAll(wal);
    assert.equal(page.length, 3);
    assert.equal(new Set(page.map((record) => record.payload.buffer)).size, 3, 'one buffer per record');
    for (const [index, record] of page.entries()) {
      assert.equal(Buffer.from(record.payload).toString().slice(0, 8), `record ${index}`);
      assert.ok(record.payload.buffer.byteLength < 5_000 + 100, `${record.payload.buffer.byteLength} bytes`);
    }
  });

  test('stats report the newest acknowledged key and the records not yet released', async () => {
    const { wal } = await openWal();
    assert.deepEqual([wal.stats().lastKey, wal.stats().backlogRecords], [null, 0]);
    for (let i = 0; i < 5; i++) await wal.append(payloadOf(`p${i}`), META);
    assert.deepEqual([wal.stats().lastKey, wal.stats().backlogRecords], ['5', 5]);
    await wal.releaseUpTo(3n);
    assert.deepEqual([wal.stats().lastKey, wal.stats().backlogRecords], ['5', 2]);
  });

  test('releaseUpTo deletes only segments whose every record is released, never the active one', async () => {
    const { wal } = await openWal({ segmentBytes: 1_000 });
    const keys: bigint[] = [];
    for (let index = 0; index < 12; index++) keys.push(await wal.append(payloadOf(`r${index}`, 300), META));
    // Records are 336 bytes, so a segment rolls after three of them.
    assert.deepEqual(segmentFiles(), [
      '00000000000000000001.wal',
      '00000000000000000004.wal',
      '00000000000000000007.wal',
      '00000000000000000010.wal',
    ]);
    const backlogBefore = wal.backlogBytes(null);

    await wal.releaseUpTo(5n);
    assert.deepEqual(segmentFiles(), [
      '00000000000000000004.wal',
      '00000000000000000007.wal',
      '00000000000000000010.wal',
    ]);
    assert.equal(wal.backlogBytes(null), backlogBefore - 5 * 336);
    assert.equal(wal.backlogBytes(8n), 4 * 336);
    assert.equal((await wal.readAfter(null, { maxRecords: 1, maxBytes: 1_000 }))[0]!.key, 4n);

    await wal.releaseUpTo(12n);
    assert.deepEqual(segmentFiles(), ['00000000000000000010.wal']);
    assert.equal(wal.backlogBytes(null), 0);

    const reopened = await reopen(wal);
    assert.equal(await reopened.wal.append(payloadOf('after'), META), 13n);
  });

  test('keeps keys above a released key the log never handed out (WAL directory lost)', async () => {
    const { wal } = await openWal();
    await wal.releaseUpTo(1_000n);
    assert.equal(await wal.append(payloadOf('first'), META), 1_001n);
    const reopened = await reopen(wal);
    assert.equal(await reopened.wal.append(payloadOf('second'), META), 1_002n);
  });

  test('never hands out a key above 2^64 - 1, and refuses the append as retryable instead', async () => {
    const { wal } = await openWal();
    await wal.releaseUpTo(MAX_KEY - 1n);
    assert.equal(await wal.append(payloadOf('last'), META), MAX_KEY);
    await assert.rejects(
      wal.append(payloadOf('one too many'), META),
      (error: unknown) => error instanceof AppError && error.kind === 'unavailable',
    );
    assert.equal(wal.highestKey(), MAX_KEY);
  });

  for (const failing of ['write', 'sync'] as const) {
    test(`a failed ${failing} rejects its whole group as retryable and later appends succeed`, async () => {
      let fail = false;
      const { wal } = await openWal({
        groupCommitMs: 5,
        faultInjector: (operation) =>
          fail && operation === failing
            ? Object.assign(new Error('no space left'), { code: 'ENOSPC' })
            : undefined,
      });
      await wal.append(payloadOf('before'), META);
      const sizeBefore = statSync(join(dir, segmentFiles()[0]!)).size;

      fail = true;
      const group = await Promise.allSettled(
        Array.from({ length: 20 }, (_, index) => wal.append(payloadOf(`lost${index}`), META)),
      );
      for (const outcome of group) {
        assert.equal(outcome.status, 'rejected');
        const error = outcome.reason as AppError;
        assert.ok(error instanceof AppError);
        assert.equal(error.kind, 'unavailable');
        assert.match(error.message, /ENOSPC.*retry/);
        assert.ok(error.retryAfterSeconds! > 0);
      }
      assert.equal(statSync(join(dir, segmentFiles()[0]!)).size, sizeBefore, 'partial bytes are cut off');
      assert.equal(wal.stats().failedAppends, 20);
      assert.equal(wal.backlogBytes(null), sizeBefore);

      fail = false;
      assert.equal(await wal.append(payloadOf('after'), META), 2n);
      const { wal: reopened, lines } = await reopen(wal);
      assert.deepEqual(
        (await readAll(reopened)).map((record) => Buffer.from(record.payload).toString()),
        ['before', 'after'],
      );
      assert.equal(lines.filter((line) => line.level >= WARN).length, 0);
    });
  }

  test('close writes the appends still waiting for their group', async () => {
    const { wal } = await openWal({ groupCommitMs: 10_000 });
    const pending = wal.append(payloadOf('late'), META);
    await wal.close();
    assert.equal(await pending, 1n);
    await assert.rejects(wal.append(payloadOf('too late'), META), /closed/);
    const { wal: reopened } = await openWal();
    assert.equal((await readAll(reopened)).length, 1);
  });
});
