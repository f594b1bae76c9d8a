// Split-mode ReadSpans over loopback gRPC: GrpcWalSource (the backend's view) against
// addReadSpansService backed by a real write-ahead log. Records come back exactly as the local
// log hands them out, page by page within the record and byte limits, and a read starting after
// key K is what releases the log up to K — only a key the log has handed out, and only for a
// caller holding the internal secret. DescribeNode names the node, and a read meant for another
// node (its id in the request) is refused and releases nothing.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../../test/support/ports.ts';
import { waitFor } from '../../test/support/wait.ts';
import { requireInternalSecret } from '../grpc/internal_secret.ts';
import { addReadSpansService, GrpcWalSource } from './read_spans_service.ts';
import { capturingLogger, tempDir } from './wal/test_support.ts';
import { type WalFormat, WriteAheadLog } from './wal/wal.ts';
import { NodeChangedError, PositionAheadError, type WalSource } from './wal_source.ts';

let dir: string;
let remove: () => void;
let wal: WriteAheadLog;
let server: grpc.Server;
let source: GrpcWalSource;
let address: string;
const SECRET = 's'.repeat(40);
const NODE_ID = 'a1'.repeat(16);

beforeEach(async () => {
  ({ dir, remove } = tempDir());
  const { logger } = capturingLogger();
  // Small segments, so that releasing deletes files the test can count.
  wal = await WriteAheadLog.open(path.join(dir, 'wal'), { groupCommitMs: 0, logger, segmentBytes: 4096 });
  server = new grpc.Server({ interceptors: [requireInternalSecret(SECRET, logger)] });
  addReadSpansService(server, wal, NODE_ID, logger);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  address = `127.0.0.1:${port}`;
  source = new GrpcWalSource(address, SECRET);
});

afterEach(async () => {
  source.close();
  server.forceShutdown();
  await wal.close();
  remove();
});

async function appendRecords(count: number, payloadBytes = 1000): Promise<bigint[]> {
  const keys: bigint[] = [];
  for (let index = 0; index < count; index++) {
    const format: WalFormat = index % 3 === 0 ? 'json' : 'protobuf';
    const payload = Buffer.alloc(payloadBytes, index + 1);
    keys.push(
      await wal.append(payload, {
        receivedAtMs: 1_700_000_000_000 + index,
        apiKeyId: `key-${index}`,
        format,
        // Every kind of record crosses: traces and logs, each as protobuf and JSON.
        signal: index % 2 === 0 ? 'logs' : 'traces',
      }),
    );
  }
  return keys;
}

const segmentFiles = () => readdirSync(path.join(dir, 'wal')).filter((name) => name.endsWith('.wal'));
const everything = { maxRecords: 10_000, maxBytes: 1024 * 1024 * 1024 };

test('pages through the log with exactly the records, payloads and metadata the local log holds', async () => {
  const keys = await appendRecords(10);
  const local = await wal.readAfter(null, everything);
  const paged = [];
  for (let after: bigint | null = null; ; ) {
    const page = await source.read(after, { maxRecords: 4, maxBytes: 1024 * 1024 });
    if (page.length === 0) break;
    assert.ok(page.length <= 4);
    paged.push(...page);
    after = page.at(-1)!.key;
  }
  assert.deepEqual(
    paged.map((record) => record.key),
    keys,
  );
  assert.deepEqual(
    paged.map((record) => ({ ...record, payload: Buffer.from(record.payload) })),
    local.map((record) => ({ ...record, payload: Buffer.from(record.payload) })),
  );
});

test('a byte limit bounds a page, but a page always holds at least one record', async () => {
  const [first] = await appendRecords(6);
  const one = await source.read(null, { maxRecords: 100, maxBytes: 10 });
  assert.deepEqual(
    one.map((record) => record.key),
    [first],
  );
  const two = await source.read(null, { maxRecords: 100, maxBytes: 2500 });
  assert.equal(two.length, 2, 'records of ~1 KB under a 2.5 KB limit');
});

test('a payload of several megabytes crosses intact', async () => {
  const payload = Buffer.alloc(5 * 1024 * 1024);
  for (let index = 0; index < payload.length; index += 4096) payload[index] = index % 251;
  const key = await wal.append(payload, { receivedAtMs: 1, apiKeyId: 'big', format: 'protobuf' });
  const [record] = await source.read(null, everything);
  assert.equal(record?.key, key);
  assert.ok(Buffer.from(record.payload).equals(payload));
});

test('a read after key K releases the log up to K; release() and a read from the start release nothing', async () => {
  const keys = await appendRecords(20);
  const segments = segmentFiles().length;
  assert.ok(segments >= 4, `${segments} segments`);
  const backlog = wal.backlogBytes(null);

  await (source as WalSource).release(keys[15]!);
  await source.read(null, { maxRecords: 5, maxBytes: 1024 * 1024 });
  assert.equal(segmentFiles().length, segments, 'nothing deleted yet');
  assert.equal(wal.backlogBytes(null), backlog);

  const page = await source.read(keys[15]!, everything);
  assert.deepEqual(
    page.map((record) => record.key),
    keys.slice(16),
  );
  assert.ok(segmentFiles().length < segments, 'segments holding only keys <= K are deleted');
  assert.ok(wal.backlogBytes(null) < backlog / 3, 'the backlog now starts after K');
  const kept = await wal.readAfter(null, everything);
  assert.ok(kept[0]!.key > keys[0]!, 'the oldest records are gone');
  assert.ok(kept[0]!.key <= keys[16]!, 'every record after K is kept');
});

test('a closed log or an unreachable service rejects the read with a retryable status', async () => {
  await appendRecords(1);
  await wal.close();
  await assert.rejects(source.read(null, everything), (error: grpc.ServiceError) => {
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    return true;
  });
  const unreachable = new GrpcWalSource(`127.0.0.1:${await freePort()}`, SECRET);
  try {
    await assert.rejects(unreachable.read(null, everything), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      return true;
    });
  } finally {
    unreachable.close();
  }
});

test('a caller with another secret is refused with UNAUTHENTICATED and releases nothing', async () => {
  const keys = await appendRecords(20);
  const segments = segmentFiles().length;
  const intruder = new GrpcWalSource(address, 'x'.repeat(40));
  try {
    await assert.rejects(intruder.read(keys[15]!, everything), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAUTHENTICATED);
      return true;
    });
  } finally {
    intruder.close();
  }
  assert.equal(segmentFiles().length, segments);
  assert.equal((await wal.readAfter(null, everything)).length, 20);
});

test('a start key above the highest key handed out is refused, releases nothing and keeps keys in range', async () => {
  const keys = await appendRecords(20);
  const segments = segmentFiles().length;
  for (const beyond of [keys.at(-1)! + 1n, (1n << 64n) - 1n]) {
    await assert.rejects(source.read(beyond, everything), (error: unknown) => {
      assert.ok(error instanceof PositionAheadError, String(error));
      assert.match(error.message, /above the highest key/);
      return true;
    });
  }
  assert.equal(segmentFiles().length, segments);
  assert.equal((await wal.readAfter(null, everything)).length, 20);
  const [next] = await appendRecords(1);
  assert.equal(next, keys.at(-1)! + 1n, 'the next key follows on');
  assert.equal((await source.read(keys.at(-1)!, everything)).length, 1, 'the highest key itself is fine');
});

async function serveAs(nodeId: string, port = 0): Promise<{ server: grpc.Server; port: number }> {
  const { logger } = capturingLogger();
  const other = new grpc.Server({ interceptors: [requireInternalSecret(SECRET, logger)] });
  addReadSpansService(other, wal, nodeId, logger);
  const bound = await new Promise<number>((resolve, reject) =>
    other.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, result) =>
      error ? reject(error) : resolve(result),
    ),
  );
  return { server: other, port: bound };
}

test('DescribeNode names the node; a read meant for another node is refused and releases nothing', async () => {
  const keys = await appendRecords(20);
  const segments = segmentFiles().length;
  assert.equal(await source.identify(), NODE_ID);
  assert.equal((await source.read(keys[1]!, everything)).length, 18, 'reads name the identified node');

  // Node b2 answers at an address; then another node (NODE_ID) takes that address over.
  const first = await serveAs('b2'.repeat(16));
  const reader = new GrpcWalSource(`127.0.0.1:${first.port}`, SECRET);
  try {
    assert.equal(await reader.identify(), 'b2'.repeat(16));
    first.server.forceShutdown();
    const second = await serveAs(NODE_ID, first.port);
    try {
      // The first reads may find the channel reconnecting (UNAVAILABLE); none may succeed.
      await waitFor(
        async () =>
          (await reader.read(keys[15]!, everything).then(
            () => assert.fail('a read for another node was served'),
            (error: unknown) => error,
          )) instanceof NodeChangedError,
        'the node now at that address to refuse the read',
      );
      assert.equal(segmentFiles().length, segments, 'nothing released');
      assert.equal((await wal.readAfter(keys[1]!, everything)).length, 18);
      assert.equal(await reader.identify(), NODE_ID, 'identifying again names the new node');
      assert.equal((await reader.read(keys[15]!, everything)).length, 4);
    } finally {
      second.server.forceShutdown();
    }
  } finally {
    reader.close();
  }
});
