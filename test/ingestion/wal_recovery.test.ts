// WAL recovery through the real server: an ingestion-only process acknowledges exports into its
// write-ahead log and is SIGKILLed before anything is indexed; the segment file is then damaged
// (torn last record, corrupt last record, corrupt middle record) and a server in `all` mode is
// started on the same data directory. Every undamaged record's spans end in DuckDB exactly once;
// the damaged record's spans are the only ones missing, and the recovery is logged.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { addValidateApiKeyService } from '../../src/features/internal_auth/grpc_validator.ts';
import { createLogger } from '../../src/logger.ts';
import { health } from '../support/health.ts';
import { startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { allAcknowledged, checkDurability, durabilityProblems } from './durability_check.ts';
import { postOtlp, RawGrpcClient } from './otlp_clients.ts';
import { type UniqueRequest, UniqueRequests } from './unique_requests.ts';

const API_KEY = 'k'.repeat(64);
const RECORDS = 5;
const root = mkdtempSync(path.join(os.tmpdir(), 'junjo-wal-recovery-'));
const acknowledgedDir = path.join(root, 'acknowledged');
const sent: UniqueRequest[] = [];

/** The backend's ValidateApiKey service, standing in for a backend process: one valid key. */
async function startAuthService(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  addValidateApiKeyService(
    server,
    { validate: async (key) => (key === API_KEY ? { valid: true, keyId: 'key-1' } : { valid: false }) },
    createLogger('silent'),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { server, port };
}

before(async () => {
  const auth = await startAuthService();
  const ingestion = await startServerProcess({
    dataDir: acknowledgedDir,
    env: { JUNJO_ROLE: 'ingestion', JUNJO_BACKEND_AUTH_ADDRESS: `127.0.0.1:${auth.port}` },
  });
  const client = new RawGrpcClient(ingestion.ports.otlpGrpc);
  try {
    const requests = new UniqueRequests();
    // One at a time, so the records sit in the segment in this order (keys 1..RECORDS).
    for (let index = 0; index < RECORDS; index++) {
      const request = requests.next(index % 2 === 0 ? 'protobuf' : 'json');
      if (request.format === 'protobuf') {
        const answer = await client.exportTraces(request.body, API_KEY);
        assert.equal(answer.code, grpc.status.OK, answer.details);
      } else {
        const answer = await postOtlp(ingestion.ports.otlpHttp, '/v1/traces', request.body, {
          apiKey: API_KEY,
          contentType: 'application/json',
        });
        assert.equal(answer.status, 200, answer.body.toString());
      }
      sent.push(request);
    }
  } finally {
    client.close();
    await ingestion.stop('SIGKILL');
    auth.server.forceShutdown();
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

interface RecordSpan {
  offset: number;
  length: number;
}

/** The only segment file of a WAL directory and its records' byte ranges (record_format.ts). */
function segmentRecords(walDir: string): { file: string; records: RecordSpan[] } {
  const segments = readdirSync(walDir).filter((name) => name.endsWith('.wal'));
  assert.equal(segments.length, 1);
  const file = path.join(walDir, segments[0]!);
  const bytes = readFileSync(file);
  const records: RecordSpan[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    assert.equal(bytes.readUInt32LE(offset), 0x4c574a4a, 'record magic');
    const length = bytes.readUInt32LE(offset + 8);
    records.push({ offset, length });
    offset += length;
  }
  return { file, records };
}

function flipByte(file: string, position: number): void {
  const bytes = readFileSync(file);
  bytes[position] = bytes[position]! ^ 0xff;
  writeFileSync(file, bytes);
}

/** Copies the acknowledged data dir, damages it, runs `all` mode on it until indexed, checks DuckDB. */
async function recoverAfter(
  damage: (file: string, records: RecordSpan[]) => void,
  damagedIndex: number,
  expectedLog: string,
): Promise<string> {
  const dataDir = mkdtempSync(path.join(root, 'case-'));
  cpSync(acknowledgedDir, dataDir, { recursive: true });
  const walDir = path.join(dataDir, 'wal');
  const { file, records } = segmentRecords(walDir);
  assert.equal(records.length, RECORDS, 'one record per acknowledged export');
  damage(file, records);

  const server = await startServerProcess({ dataDir });
  try {
    await waitFor(
      async () => (await health(server.baseUrl)).ingestion?.backlog_bytes === 0,
      'the recovered WAL to be indexed',
    );
    assert.equal((await server.stop('SIGTERM')).code, 0);
  } finally {
    await server.cleanup();
  }
  const output = server.output();
  assert.ok(output.includes(expectedLog), `recovery is logged ("${expectedLog}"):\n${output}`);
  assert.ok(!output.includes('dead-letter'), 'no record is dead-lettered');

  const kept = sent.filter((_, index) => index !== damagedIndex);
  const report = await checkDurability(path.join(dataDir, 'duckdb/otel_data.duckdb'), allAcknowledged(kept));
  assert.deepEqual(durabilityProblems(report), []);
  assert.equal(
    report.storedSpans,
    kept.reduce((sum, request) => sum + request.spans.length, 0),
  );
  return walDir;
}

test('a torn last record is cut off on start; every earlier acknowledged span reaches DuckDB', async () => {
  await recoverAfter(
    (file, records) => {
      const last = records.at(-1)!;
      truncateSync(file, last.offset + Math.floor(last.length / 2));
    },
    RECORDS - 1,
    'WAL segment ended in a torn or corrupt record; cut it off',
  );
});

test('a last record with a bad checksum is cut off on start; the earlier ones survive', async () => {
  await recoverAfter(
    (file, records) => {
      const last = records.at(-1)!;
      flipByte(file, last.offset + last.length - 7);
    },
    RECORDS - 1,
    'WAL segment ended in a torn or corrupt record; cut it off',
  );
});

test('a corrupt record in the middle is moved aside; the records before and after it are indexed', async () => {
  const middle = 2;
  const walDir = await recoverAfter(
    (file, records) => {
      const record = records[middle]!;
      flipByte(file, record.offset + Math.floor(record.length / 2));
    },
    middle,
    'WAL segment had corrupt bytes between valid records',
  );
  const sideFiles = readdirSync(walDir).filter((name) => name.endsWith('.wal.corrupt'));
  assert.equal(sideFiles.length, 1, 'the corrupt bytes are kept in a side file');
});
