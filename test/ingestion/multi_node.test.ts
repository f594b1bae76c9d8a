// One backend reading two ingestion nodes, all real processes over loopback: a node that is down
// holds up only its own poller; a node killed with SIGKILL in the middle of exports and restarted
// loses nothing it acknowledged and duplicates nothing (counted per trace and span id through the
// REST API); a node moved to another address keeps its position (same node id), and a node whose
// WAL was wiped gets a new id and is read from its start.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createApiKey, type Session, signIn } from '../support/accounts.ts';
import { health, type PollerHealth } from '../support/health.ts';
import { freePort } from '../support/ports.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';
import { postOtlp } from './otlp_clients.ts';
import { type UniqueRequest, UniqueRequests } from './unique_requests.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

interface Node {
  name: string;
  dataDir: string;
  readSpans: number;
  otlpHttp: number;
  process?: ServerProcess;
}

const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-multi-node-'));
  dirs.push(dir);
  return dir;
};

let internalAuth: number;
let backendHttp: number;
let backendDir: string;
let backend: ServerProcess;
let session: Session;
let apiKey: string;
let a: Node;
let b: Node;
const requests = new UniqueRequests({ templates: 8, minSpans: 10, maxSpans: 40 });
const acked: UniqueRequest[] = [];
const unacked: UniqueRequest[] = [];

const address = (node: Node) => `127.0.0.1:${node.readSpans}`;

async function startNode(node: Node): Promise<void> {
  node.process = await startServerProcess({
    dataDir: node.dataDir,
    ports: { readSpans: node.readSpans, otlpHttp: node.otlpHttp },
    env: { JUNJO_ROLE: 'ingestion', JUNJO_BACKEND_AUTH_ADDRESS: `127.0.0.1:${internalAuth}` },
  });
}

async function startBackend(nodes: Node[]): Promise<void> {
  backend = await startServerProcess({
    dataDir: backendDir,
    ports: { http: backendHttp, internalAuth },
    env: {
      JUNJO_ROLE: 'backend',
      JUNJO_INGESTION_ADDRESS: nodes.map(address).join(','),
      JUNJO_POLL_INTERVAL_MS: '100',
      JUNJO_METRICS_TOKEN: METRICS_TOKEN,
    },
  });
  session = await signIn(backend.baseUrl);
}

async function pollerOf(node: Node): Promise<PollerHealth> {
  const entry = (await health(backend.baseUrl)).pollers?.find((poller) => poller.node === address(node));
  assert.ok(entry, `a poller entry for ${node.name} at ${address(node)}`);
  return entry;
}

/** One export over OTLP/HTTP; acknowledged only on a 200 (a dead node's refused connection is not). */
async function exportTo(node: Node, format: 'protobuf' | 'json'): Promise<boolean> {
  const request = requests.next(format);
  const answer = await postOtlp(node.otlpHttp, '/v1/traces', request.body, {
    apiKey,
    contentType: format === 'json' ? 'application/json' : 'application/x-protobuf',
  }).catch(() => null);
  const ok = answer?.status === 200;
  (ok ? acked : unacked).push(request);
  return ok;
}

const spansOf = (list: UniqueRequest[]) => list.reduce((sum, request) => sum + request.spans.length, 0);

/** How often the REST API lists each `<trace_id>:<span_id>` in the traces of `list`. */
async function storedThroughApi(list: UniqueRequest[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const traceIds = new Set(list.flatMap((request) => request.spans.map((span) => span.slice(0, 32))));
  for (const traceId of traceIds) {
    const response = await session.request('GET', `/otel/trace/${traceId}/nested_spans`);
    assert.equal(response.status, 200, `GET nested_spans of ${traceId}`);
    for (const span of (await response.json()) as Array<{ trace_id: string; span_id: string }>) {
      const key = `${span.trace_id}:${span.span_id}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** Every acknowledged span stored exactly once, an unacknowledged one at most once, nothing else. */
async function checkStoredOnce(): Promise<void> {
  const missing = (counts: Map<string, number>) =>
    acked.flatMap((request) => request.spans).filter((span) => !counts.has(span));
  const counts = await waitFor(
    async () => {
      const stored = await storedThroughApi([...acked, ...unacked]);
      return missing(stored).length === 0 ? stored : null;
    },
    'every acknowledged span to be listed by the API',
    120_000,
  );
  const sent = new Set([...acked, ...unacked].flatMap((request) => request.spans));
  for (const span of acked.flatMap((request) => request.spans)) {
    assert.equal(counts.get(span), 1, `acknowledged span ${span} stored once`);
  }
  for (const [span, count] of counts) {
    assert.ok(sent.has(span), `stored span ${span} was sent`);
    assert.equal(count, 1, `span ${span} listed once`);
  }
}

before(async () => {
  internalAuth = await freePort();
  backendHttp = await freePort();
  backendDir = newDir();
  a = { name: 'node A', dataDir: newDir(), readSpans: await freePort(), otlpHttp: await freePort() };
  b = { name: 'node B', dataDir: newDir(), readSpans: await freePort(), otlpHttp: await freePort() };
  // Node B is not started yet: the backend must serve node A regardless.
  await startNode(a);
  await startBackend([a, b]);
  apiKey = (await createApiKey(session)).key;
});

after(async () => {
  await Promise.all([a?.process?.cleanup(), b?.process?.cleanup(), backend?.cleanup()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('a node that is down holds up only its own poller; health and metrics show each node', async () => {
  for (let index = 0; index < 5; index++) assert.ok(await exportTo(a, index % 2 ? 'json' : 'protobuf'));
  await waitFor(
    async () => (await pollerOf(a)).spans_indexed >= spansOf(acked),
    "node A's exports to be indexed while node B is down",
  );
  const down = await waitFor(async () => {
    const poller = await pollerOf(b);
    return poller.consecutive_failures > 0 && poller.last_error ? poller : null;
  }, "node B's poller to report its failing reads");
  assert.equal(down.node_id, null, 'a node that never answered has no id yet');
  assert.equal(down.lag_seconds, null);
  const up = await pollerOf(a);
  assert.match(up.node_id ?? '', /^[0-9a-f]{32}$/);
  assert.equal(up.consecutive_failures, 0);
  assert.equal(up.last_key, '5');

  const metrics = await (
    await fetch(`${backend.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const sample = (series: string) => {
    const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `metrics contain ${series}`);
    return Number(line.slice(series.length + 1));
  };
  assert.equal(sample(`junjo_poller_up{node="${address(a)}"}`), 1);
  assert.equal(sample(`junjo_poller_up{node="${address(b)}"}`), 0);
  assert.equal(sample(`junjo_spans_indexed_total{node="${address(a)}"}`), spansOf(acked));
  assert.equal(sample(`junjo_spans_indexed_total{node="${address(b)}"}`), 0);
  assert.ok(sample(`junjo_poller_failures_total{node="${address(b)}"}`) > 0);
});

test('a node killed with SIGKILL mid-export and restarted: every acknowledged span indexed exactly once', async () => {
  await startNode(b);
  await waitFor(async () => (await pollerOf(b)).node_id, "node B's poller to identify it");
  const idA = (await pollerOf(a)).node_id;

  // Node B takes exports the whole time; node A is killed while several of its exports are in flight.
  let aDone = false;
  const toB = (async () => {
    for (let index = 0; !aDone || index < 10; index++) {
      assert.ok(await exportTo(b, index % 2 ? 'json' : 'protobuf'), 'node B stays up');
    }
  })();
  for (let index = 0; index < 6; index++) assert.ok(await exportTo(a, 'protobuf'));
  const inFlight = Array.from({ length: 4 }, (_, index) => exportTo(a, index % 2 ? 'json' : 'protobuf'));
  assert.equal((await a.process!.stop('SIGKILL')).signal, 'SIGKILL');
  await Promise.all(inFlight);
  await startNode(a);
  for (let index = 0; index < 6; index++) assert.ok(await exportTo(a, 'json'), 'node A is back');
  aDone = true;
  await toB;

  await checkStoredOnce();
  assert.equal((await pollerOf(a)).node_id, idA, 'the restarted node kept its id');
});

test('a node moved to another address keeps its position; a wiped node gets a new id and is read from its start', async () => {
  const before = await waitFor(async () => {
    const poller = await pollerOf(b);
    return poller.lag_seconds === 0 ? poller : null;
  }, 'node B to be caught up');
  await b.process!.stop('SIGTERM');
  await backend.stop('SIGTERM');

  // The same node (same WAL directory) on a new port; the backend is told the new address.
  b.readSpans = await freePort();
  await startNode(b);
  await startBackend([a, b]);
  const moved = await waitFor(async () => {
    const poller = await pollerOf(b);
    return poller.node_id && poller.lag_seconds === 0 ? poller : null;
  }, 'the moved node to be identified and read');
  assert.equal(moved.node_id, before.node_id, 'the same node id at the new address');
  assert.equal(moved.last_key, before.last_key, 'its position carried over');
  assert.equal(moved.records, 0, 'nothing read again');

  // The node's WAL directory wiped: its keys restart, under a new id.
  await b.process!.stop('SIGTERM');
  rmSync(path.join(b.dataDir, 'wal'), { recursive: true, force: true });
  await startNode(b);
  const fresh = acked.length;
  for (let index = 0; index < 3; index++) assert.ok(await exportTo(b, 'protobuf'));
  const wiped = await waitFor(async () => {
    const poller = await pollerOf(b);
    return poller.node_id !== before.node_id && poller.records >= 3 ? poller : null;
  }, 'the wiped node to be read under its new id');
  assert.equal(wiped.records, 3);
  assert.equal(wiped.last_key, '3', 'read from its first key');
  assert.equal(wiped.spans_indexed, spansOf(acked.slice(fresh)));
  assert.doesNotMatch(backend.output(), /behind this poller's position/, 'a new id, not a refused position');
  await checkStoredOnce();
});

test('a repeated or malformed ingestion address stops the backend with exit code 2, naming the setting', async () => {
  for (const list of ['127.0.0.1:50052,127.0.0.1:50052', '127.0.0.1:50052,nowhere', '127.0.0.1:50052,']) {
    const failure = await startServerProcess({
      env: { JUNJO_ROLE: 'backend', JUNJO_INGESTION_ADDRESS: list },
    }).then(
      async (started) => {
        await started.cleanup();
        return 'started';
      },
      (error: Error) => error.message,
    );
    assert.match(failure, /exited \(code 2/, list);
    assert.match(failure, /JUNJO_INGESTION_ADDRESS/);
  }
});
