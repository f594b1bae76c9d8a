// Split mode's internal services against callers they must not trust, through two real processes
// whose public listeners bind to every interface (JUNJO_HOST=0.0.0.0): the internal listeners stay
// on loopback, calls without JUNJO_INTERNAL_SECRET get UNAUTHENTICATED and nothing else, a ReadSpans
// start key the WAL never handed out is refused without changing anything (also across restarts),
// an empty key-jump segment left by an older version is repaired at start, a backend whose position
// is ahead of an ingestion node whose WAL segments were lost says so and loses nothing, a wiped node
// (a new node id) is read from its start, and a role without the secret does not start.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { internalProtoTypes } from '../../src/grpc/internal_proto.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { health } from '../support/health.ts';
import { freePort } from '../support/ports.ts';
import { type ServerProcess, startServerProcess, TEST_INTERNAL_SECRET } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { allAcknowledged, checkDurability, durabilityProblems } from './durability_check.ts';
import { RawGrpcClient } from './otlp_clients.ts';
import { type UniqueRequest, UniqueRequests } from './unique_requests.ts';

const READ_SPANS = '/ingestion.InternalIngestionService/ReadSpans';
const VALIDATE = '/ingestion.InternalAuthService/ValidateApiKey';
const MAX_KEY = Buffer.from('ffffffffffffffff', 'hex');

const ingestionDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-split-ingestion-'));
const walDir = path.join(ingestionDir, 'wal');
let ingestionPorts: ServerProcess['ports'];
let backendAuthAddress: string;
let ingestion: ServerProcess;
let backend: ServerProcess;
let apiKey: { id: string; key: string };
let otlp: RawGrpcClient;
const requests = new UniqueRequests();
const acked: UniqueRequest[] = [];

/** The ingestion role on its fixed ports and data directory, so a restart finds both again. */
function startIngestion(): Promise<ServerProcess> {
  return startServerProcess({
    dataDir: ingestionDir,
    ports: ingestionPorts,
    env: { JUNJO_ROLE: 'ingestion', JUNJO_HOST: '0.0.0.0', JUNJO_BACKEND_AUTH_ADDRESS: backendAuthAddress },
  });
}

before(async () => {
  const internalAuth = await freePort();
  backendAuthAddress = `127.0.0.1:${internalAuth}`;
  ingestionPorts = {
    http: await freePort(),
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
    readSpans: await freePort(),
    internalAuth: await freePort(),
  };
  ingestion = await startIngestion();
  backend = await startServerProcess({
    ports: { internalAuth },
    env: {
      JUNJO_ROLE: 'backend',
      JUNJO_HOST: '0.0.0.0',
      JUNJO_INGESTION_ADDRESS: `127.0.0.1:${ingestionPorts.readSpans}`,
      JUNJO_POLL_INTERVAL_MS: '100',
    },
  });
  apiKey = await createApiKey(await signIn(backend.baseUrl));
  otlp = new RawGrpcClient(ingestionPorts.otlpGrpc);
});
after(async () => {
  otlp.close();
  await Promise.all([ingestion.cleanup(), backend.cleanup()]);
  rmSync(ingestionDir, { recursive: true, force: true });
});

const bearer = (secret: string) => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${secret}`);
  return metadata;
};
const callerMetadata: Record<string, () => grpc.Metadata> = {
  'no metadata': () => new grpc.Metadata(),
  'another secret': () => bearer('x'.repeat(TEST_INTERNAL_SECRET.length)),
  'the secret plus one character': () => bearer(`${TEST_INTERNAL_SECRET}x`),
  'the secret without Bearer': () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', TEST_INTERNAL_SECRET);
    return metadata;
  },
};

interface ReadAnswer {
  code: grpc.status;
  details: string;
  records: number;
}

/** One raw ReadSpans call: how many records came back and the final status. */
async function readSpans(startKey: Buffer, metadata: grpc.Metadata): Promise<ReadAnswer> {
  const client = new grpc.Client(`127.0.0.1:${ingestionPorts.readSpans}`, grpc.credentials.createInsecure());
  const request = internalProtoTypes().readSpansRequest;
  try {
    return await new Promise((resolve) => {
      let records = 0;
      const stream = client.makeServerStreamRequest(
        READ_SPANS,
        (value: object) => Buffer.from(request.encode(value).finish()),
        (bytes: Buffer) => bytes,
        { start_key: startKey, batch_size: 1000, max_bytes: 0 },
        metadata,
        { deadline: Date.now() + 10_000 },
      );
      stream.on('data', () => records++);
      stream.on('error', () => undefined);
      stream.on('status', (status) => resolve({ code: status.code, details: status.details, records }));
    });
  } finally {
    client.close();
  }
}

async function validateApiKey(
  key: string,
  metadata: grpc.Metadata,
): Promise<{ code: grpc.status; valid?: boolean }> {
  const client = new grpc.Client(backendAuthAddress, grpc.credentials.createInsecure());
  const types = internalProtoTypes();
  try {
    return await new Promise((resolve) =>
      client.makeUnaryRequest(
        VALIDATE,
        (value: object) => Buffer.from(types.validateApiKeyRequest.encode(value).finish()),
        (bytes: Buffer) => types.validateApiKeyResponse.toObject(types.validateApiKeyResponse.decode(bytes)),
        { api_key: key },
        metadata,
        { deadline: Date.now() + 10_000 },
        (error, response) =>
          resolve(
            error ? { code: error.code } : { code: grpc.status.OK, valid: Boolean(response?.is_valid) },
          ),
      ),
    );
  } finally {
    client.close();
  }
}

const spansOf = (list: UniqueRequest[]) => list.reduce((sum, request) => sum + request.spans.length, 0);

/** Exports one request (must be acknowledged) and waits for the backend to index everything acked. */
async function exportAndIndex(): Promise<void> {
  const request = requests.next('protobuf');
  const answer = await otlp.exportTraces(request.body, apiKey.key);
  assert.equal(answer.code, grpc.status.OK, answer.details);
  acked.push(request);
  await waitFor(
    async () => ((await health(backend.baseUrl)).poller?.spans_indexed ?? 0) >= spansOf(acked),
    'the backend to index every acknowledged export',
  );
}

const walSegments = () => readdirSync(walDir).filter((name) => name.endsWith('.wal'));

/** Local addresses listening on `port`, from the kernel's socket tables. */
function listeningAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue;
      const [hex, portHex] = local.split(':') as [string, string];
      if (Number.parseInt(portHex, 16) !== port) continue;
      // IPv4 is one little-endian word; IPv6 stays in the table's hex.
      addresses.push(hex.length === 8 ? Buffer.from(hex, 'hex').reverse().join('.') : `ipv6:${hex}`);
    }
  }
  return addresses;
}

test('the internal listeners bind to loopback while the public ones follow JUNJO_HOST=0.0.0.0', () => {
  assert.deepEqual(listeningAddresses(ingestionPorts.otlpGrpc), ['0.0.0.0']);
  assert.deepEqual(listeningAddresses(ingestionPorts.readSpans), ['127.0.0.1']);
  assert.deepEqual(listeningAddresses(backend.ports.internalAuth), ['127.0.0.1']);
});

test('ReadSpans and ValidateApiKey answer UNAUTHENTICATED, and nothing else, without the secret', async () => {
  await exportAndIndex();
  const allowed = await readSpans(Buffer.alloc(0), bearer(TEST_INTERNAL_SECRET));
  assert.equal(allowed.code, grpc.status.OK, allowed.details);
  assert.ok(allowed.records > 0, 'with the secret the WAL streams its records');
  assert.deepEqual(await validateApiKey(apiKey.key, bearer(TEST_INTERNAL_SECRET)), {
    code: grpc.status.OK,
    valid: true,
  });

  for (const [caller, metadata] of Object.entries(callerMetadata)) {
    const read = await readSpans(Buffer.alloc(0), metadata());
    assert.deepEqual(
      { code: read.code, records: read.records },
      { code: grpc.status.UNAUTHENTICATED, records: 0 },
      caller,
    );
    assert.deepEqual(
      await validateApiKey(apiKey.key, metadata()),
      { code: grpc.status.UNAUTHENTICATED },
      caller,
    );
  }
  await ingestion.waitForOutput(/internal call refused: missing or wrong JUNJO_INTERNAL_SECRET/);
  assert.ok(!ingestion.output().includes(TEST_INTERNAL_SECRET), 'the secret is never logged');
  assert.ok(!backend.output().includes(TEST_INTERNAL_SECRET), 'the secret is never logged');
});

test('a start key the WAL never handed out is refused with INVALID_ARGUMENT and changes nothing, also after a restart', async () => {
  await exportAndIndex();
  const segments = walSegments();
  for (const startKey of [MAX_KEY, Buffer.from('8000000000000000', 'hex')]) {
    const refused = await readSpans(startKey, bearer(TEST_INTERNAL_SECRET));
    assert.deepEqual(
      { code: refused.code, records: refused.records },
      { code: grpc.status.INVALID_ARGUMENT, records: 0 },
    );
    assert.match(refused.details, /above the highest key/);
  }
  assert.deepEqual(walSegments(), segments, 'no segment released or created');
  await exportAndIndex();

  assert.equal((await ingestion.stop('SIGTERM')).code, 0);
  ingestion = await startIngestion();
  await exportAndIndex();
});

test('an empty key-jump segment left by an older version is removed at start, and exports work', async () => {
  assert.equal((await ingestion.stop('SIGTERM')).code, 0);
  // What a ReadSpans call with start key 2^64 - 1 left behind before the start-key check.
  writeFileSync(path.join(walDir, '18446744073709551616.wal'), '');
  ingestion = await startIngestion();
  assert.match(ingestion.output(), /started past the last key handed out/);
  assert.ok(!walSegments().includes('18446744073709551616.wal'));
  await exportAndIndex();
});

test('a backend ahead of an ingestion node that lost its WAL logs it and indexes that node’s exports; nothing is lost', async () => {
  // The segments lost but the node id kept (e.g. an old copy of the WAL put back): same node, keys
  // restarted below the backend's position.
  assert.equal((await ingestion.stop('SIGTERM')).code, 0);
  for (const segment of walSegments()) rmSync(path.join(walDir, segment));
  ingestion = await startIngestion();
  await exportAndIndex();
  await exportAndIndex();
  await backend.waitForOutput(/the WAL source is behind this poller's position/);

  // The whole directory wiped: a new node id, read from its start without that detour.
  assert.equal((await ingestion.stop('SIGTERM')).code, 0);
  rmSync(walDir, { recursive: true, force: true });
  ingestion = await startIngestion();
  await exportAndIndex();
  await backend.waitForOutput(/another ingestion node answers at this address/);

  assert.equal((await backend.stop('SIGTERM')).code, 0);
  const report = await checkDurability(
    path.join(backend.dataDir, 'duckdb/otel_data.duckdb'),
    allAcknowledged(acked),
  );
  assert.deepEqual(durabilityProblems(report), []);
});

test('a split-mode role without JUNJO_INTERNAL_SECRET, or with a short one, refuses to start and does not echo it', async () => {
  for (const [role, secret] of [
    ['ingestion', ''],
    ['backend', ''],
    ['backend', 'short-secret-value'],
  ] as const) {
    const failure = await startServerProcess({
      env: { JUNJO_ROLE: role, JUNJO_INTERNAL_SECRET: secret },
    }).then(
      async (started) => {
        await started.cleanup();
        return 'started';
      },
      (error: Error) => error.message,
    );
    assert.match(failure, /exited \(code 2/, `${role} ${secret}`);
    assert.match(failure, /JUNJO_INTERNAL_SECRET/);
    assert.match(failure, /at least 32 characters/);
    if (secret) assert.ok(!failure.includes(secret), 'the value is not echoed');
  }
});
