// Online backup and restore through real processes: `npm run backup` against a server under export
// load, `npm run restore` into a fresh data directory, a new server on it — every span and state
// patch acknowledged before the backup started is there, users and API keys too; and the refusals
// (admin token, backup directory, non-empty restore target).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, type Session, signIn } from '../support/accounts.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'junjo-backup-test-'));
let server: ServerProcess;
let session: Session;
let apiKey: string;

before(async () => {
  server = await startServerProcess();
  session = await signIn(server.baseUrl);
  apiKey = (await createApiKey(session)).key;
});
after(async () => {
  await server?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs one of the scripts/ commands to its end. */
function runScript(script: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', script), ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

const backupAdmin = (headers: Record<string, string>, body: unknown) =>
  fetch(`${server.baseUrl}/admin/backup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

test('the admin token lives in <data>/admin_token (0600) and /admin/backup refuses bad calls', async () => {
  const tokenFile = path.join(server.dataDir, 'admin_token');
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  const token = readFileSync(tokenFile, 'utf8').trim();
  const full = path.join(scratch, 'not-empty');
  rmSync(full, { recursive: true, force: true });
  mkdirSync(full);
  writeFileSync(path.join(full, 'x'), 'x');
  const cases: Array<[Record<string, string>, unknown, number]> = [
    [{}, { dir: path.join(scratch, 'a') }, 401],
    [{ authorization: 'Bearer wrong' }, { dir: path.join(scratch, 'a') }, 401],
    [{ authorization: `Bearer ${token}` }, { dir: 'relative/dir' }, 400],
    [{ authorization: `Bearer ${token}` }, { dir: full }, 400],
    [{ authorization: `Bearer ${token}` }, {}, 400],
  ];
  for (const [headers, body, status] of cases) {
    const response = await backupAdmin(headers, body);
    assert.equal(response.status, status, JSON.stringify(body));
    assert.ok(((await response.json()) as { message: string }).message);
  }
});

test('a backup under export load restores every acknowledged span into a fresh server', {
  timeout: 300_000,
}, async (t) => {
  // Export load: two senders posting distinct workflow traces until told to stop.
  const acked: Array<ReturnType<typeof legacyWorkflowTrace>> = [];
  const failures: string[] = [];
  let stop = false;
  let seed = 1000;
  const sender = async () => {
    while (!stop) {
      const trace = legacyWorkflowTrace({ seed: seed++ });
      const answer = await postOtlp(
        server.ports.otlpHttp,
        '/v1/traces',
        encodeTraceRequestProtobuf(toExportRequest(trace.spans)),
        { apiKey, contentType: 'application/x-protobuf', timeoutMs: 60_000 },
      );
      if (answer.status === 200) acked.push(trace);
      else failures.push(`${answer.status} ${answer.body.toString()}`);
    }
  };
  const senders = [sender(), sender()];
  t.after(async () => {
    stop = true;
    await Promise.all(senders);
  });
  await waitFor(() => acked.length >= 20, 'twenty acknowledged exports', 120_000);

  const ackedBeforeBackup = [...acked];
  const out = path.join(scratch, 'backup');
  const backup = await runScript('backup.ts', ['--out', out], {
    JUNJO_DATA_DIR: server.dataDir,
    JUNJO_HTTP_PORT: String(server.ports.http),
  });
  assert.equal(backup.code, 0, `backup: ${backup.stdout}${backup.stderr}`);
  assert.match(backup.stdout, /every export acknowledged before the backup started is indexed/);
  assert.match(backup.stdout, /backup complete/);
  stop = true;
  await Promise.all(senders);
  assert.deepEqual(failures, [], 'ingestion went on during the backup');
  assert.deepEqual(readdirSync(out).sort(), ['duckdb', 'manifest.json', 'sqlite']);

  const restored = path.join(scratch, 'restored');
  const restore = await runScript('restore.ts', ['--from', out], { JUNJO_DATA_DIR: restored });
  assert.equal(restore.code, 0, `restore: ${restore.stdout}${restore.stderr}`);
  const again = await runScript('restore.ts', ['--from', out], { JUNJO_DATA_DIR: restored });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not empty|already exists/);

  const fresh = await startServerProcess({ dataDir: restored });
  t.after(() => fresh.cleanup());
  const hasUsers = (await (await fetch(`${fresh.baseUrl}/users/db-has-users`)).json()) as {
    usersExist: boolean;
  };
  assert.equal(hasUsers.usersExist, true, 'users came back');
  const freshSession = await signIn(fresh.baseUrl);
  const keys = (await (await freshSession.request('GET', '/api_keys')).json()) as unknown[];
  assert.equal(keys.length, 1, 'the API key came back');
  const withOldKey = await postOtlp(
    fresh.ports.otlpHttp,
    '/v1/traces',
    encodeTraceRequestProtobuf(toExportRequest(legacyWorkflowTrace({ seed: 1 }).spans)),
    { apiKey, contentType: 'application/x-protobuf' },
  );
  assert.equal(withOldKey.status, 200, 'the API key still works');

  for (const trace of ackedBeforeBackup) {
    const path = `/otel/trace/${trace.traceId}`;
    const spans = (await (await freshSession.request('GET', `${path}/nested_spans`)).json()) as Array<{
      span_id: string;
    }>;
    assert.deepEqual(
      spans.map((span) => span.span_id).sort(),
      trace.spans.map(({ span }) => Buffer.from(span.spanId).toString('hex')).sort(),
      `every span of ${trace.traceId}`,
    );
    const [original, copy] = await Promise.all([
      (await session.request('GET', `${path}/state_patches`)).json(),
      (await freshSession.request('GET', `${path}/state_patches`)).json(),
    ]);
    assert.ok((copy as unknown[]).length > 0);
    assert.deepEqual(copy, original, `state patches of ${trace.traceId}`);
  }
});
