// What the ClickHouse store adds to the contract (clickhouse_span_store.test.ts): rows written twice
// (a crash between a batch's inserts, then its replay) are answered once by every reader query
// (trace, compact trace, lists, search, run filters, overview figures), before and after merges;
// the start-up check names what is wrong, over real HTTP exchanges with a stand-in server that
// answers as ClickHouse does; a database from a newer version is refused; retention becomes TTLs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { StartupError } from '../errors.ts';
import { legacyWorkflowTrace, packRequests, toExportRequest, workflowMix } from '../fixtures/junjo_traces.ts';
import { createLogger } from '../logger.ts';
import { processTraceRequest } from '../spans/span_processor.ts';
import type { WorkflowRunFilter } from '../spans/workflow_run_filter.ts';
import { ClickHouseSpanStore, type ClickHouseStoreOptions } from './clickhouse_span_store.ts';
import { bootstrapStatements, MIGRATIONS } from './schema.ts';
import { dateTime64 } from './tab_separated.ts';

const logger = createLogger('silent');
let dir: string;
let databases = 0;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-clickhouse-store-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function options(overrides: Partial<ClickHouseStoreOptions> = {}): ClickHouseStoreOptions {
  return {
    url: `chdb://${dir}`,
    user: 'default',
    password: '',
    database: `store_${process.pid}_${++databases}`,
    cluster: '',
    retentionDays: null,
    ...overrides,
  };
}

async function openStore(overrides: Partial<ClickHouseStoreOptions> = {}) {
  const store = await ClickHouseSpanStore.open(options(overrides), logger);
  await store.prepare();
  return store;
}

function workflowBatch() {
  const trace = legacyWorkflowTrace({ seed: 7, nodeCount: 4 });
  return processTraceRequest(toExportRequest(trace.spans));
}

const HOUR = 3_600_000_000n;
const NO_FILTER: WorkflowRunFilter = { nodes: [], notNodes: [], failedNodes: [], stateOf: 'end', state: [] };

/** Everything the reader answers about the batch's trace and service. */
async function answers(store: ClickHouseSpanStore, batch: ReturnType<typeof workflowBatch>) {
  const traceId = batch.spans[0]!.trace_id;
  const service = batch.spans[0]!.service_name;
  const starts = batch.spans.map((span) => span.start_time).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const window = { startMicros: starts[0]!, endMicros: starts.at(-1)! };
  const startMicros = window.startMicros - (window.startMicros % HOUR);
  const endMicros = window.endMicros - (window.endMicros % HOUR) + HOUR;
  const node = batch.spans.find((span) => span.junjo_span_type === 'node')!;
  return {
    trace: await store.traceSpans(traceId),
    patches: await store.statePatches(traceId),
    services: await store.services(),
    roots: (await store.rootSpanPage(service, { limit: 50 }, { llmOnly: false })).map((b) =>
      Buffer.from(b).toString(),
    ),
    workflows: (await store.workflowSpanPage(service, { limit: 50 })).length,
    stats: (await store.stats()).spans,
    compact: await store.compactTrace(traceId),
    found: (await store.searchSpans({ serviceName: service, window, attributes: [] }, { limit: 50 })).map(
      (hit) => [hit.span.span_id, hit.traceRoot?.spanId],
    ),
    runsWithNode: (await store.workflowRunPage(service, { ...NO_FILTER, nodes: [node.name] }, { limit: 50 }))
      .length,
    runStats: await store.workflowStats(service, { startMicros, endMicros, bucketMicros: HOUR }),
  };
}

test('rows stored twice are answered once, before and after ClickHouse merges them', async (t) => {
  const store = await openStore();
  t.after(() => store.close());
  const batch = workflowBatch();
  assert.ok(batch.spans.length > 3 && batch.patches.length > 0);
  assert.deepEqual(await store.insertBatch(batch), {
    spans: batch.spans.length,
    patches: batch.patches.length,
    logRecords: 0,
  });
  const once = await answers(store, batch);
  assert.equal(once.trace.length, batch.spans.length);
  assert.equal(once.stats, batch.spans.length);
  assert.equal(once.compact.length, batch.spans.length);
  assert.ok(once.found.length > 0 && once.found.every(([, root]) => root !== undefined), 'hits with roots');
  assert.equal(once.runsWithNode, 1, 'the run found through its node');
  const runs = once.runStats.flatMap((series) => series.buckets).reduce((sum, b) => sum + b.runs, 0);
  assert.equal(runs, 1, 'one run counted');

  // What a crash between an insert and the poller's bookkeeping can leave: the same rows twice
  // (written here straight into the tables, past the writer's own check).
  const db = store.client;
  for (const table of ['spans_v2', 'state_patches_v2']) {
    const source = `${store.database}.${table}`;
    await db.command({ query: `INSERT INTO ${source} SELECT * FROM ${source}` });
  }
  const raw = await db.query({
    query: `SELECT count() FROM ${store.database}.spans_v2`,
    format: 'JSONCompactEachRow',
  });
  assert.equal(Number(((await raw.json()) as string[][])[0]![0]), 2 * batch.spans.length, 'stored twice');
  assert.deepEqual(await answers(store, batch), once, 'answered once before the merge');
  assert.deepEqual(await store.insertBatch(batch), { spans: 0, patches: 0, logRecords: 0 });

  for (const table of ['spans_v2', 'state_patches_v2']) {
    await db.command({ query: `OPTIMIZE TABLE ${store.database}.${table} FINAL` });
  }
  assert.deepEqual(await answers(store, batch), once, 'and after it');
});

test('text with tabs, line breaks, backslashes and a literal \\N survives the TabSeparated insert', async (t) => {
  const store = await openStore();
  t.after(() => store.close());
  const [span] = workflowBatch().spans;
  const awkward = 'tab\there\nnew line\r\nback\\slash \\N end\\';
  const stored = {
    ...span!,
    status_message: awkward,
    attributes_json: JSON.stringify({ text: awkward }),
    trace_state: '\\N',
    parent_span_id: null,
  };
  await store.insertBatch({ spans: [stored], patches: [] });
  assert.deepEqual(await store.traceSpans(stored.trace_id), [stored]);
});

/** A store holding 80 root spans of one service, the i-th starting at `startOf(first, i)`. */
async function storeWithRoots(t: TestContext, startOf: (first: bigint, i: number) => bigint) {
  const store = await openStore();
  t.after(() => store.close());
  const [template] = workflowBatch().spans;
  const roots = Array.from({ length: 80 }, (_, i) => ({
    ...template!,
    trace_id: (i + 1).toString(16).padStart(32, '0'),
    parent_span_id: null,
    start_time: startOf(template!.start_time, i),
  }));
  await store.insertBatch({ spans: roots, patches: [] });
  return { store, roots, service: template!.service_name };
}

/** The trace ids of a 50-row root page, newest first. */
async function rootPageTraceIds(
  store: ClickHouseSpanStore,
  service: string,
  before?: { startTime: bigint; spanId: string },
) {
  const page = await store.rootSpanPage(
    service,
    { limit: 50, ...(before && { before }) },
    { llmOnly: false },
  );
  return page.map((bytes) => (JSON.parse(Buffer.from(bytes).toString()) as { trace_id: string }).trace_id);
}

test('a root page stays exact when the newest roots are stored twice, and the service list counts them once', async (t) => {
  // 80 roots a second apart, so that 50 rows read without FINAL hold only 25 distinct roots.
  const { store, roots, service } = await storeWithRoots(t, (first, i) => first + BigInt(i) * 1_000_000n);
  const pages = async () => ({
    first: await rootPageTraceIds(store, service),
    services: await store.services(),
  });
  const once = await pages();
  assert.deepEqual(
    once.first,
    roots
      .map((root) => root.trace_id)
      .toReversed()
      .slice(0, 50),
  );
  assert.deepEqual(once.services, [
    { serviceName: service, spanCount: 80, traceCount: 80, lastSeenMicros: roots.at(-1)!.start_time },
  ]);
  const table = `${store.database}.spans_v2`;
  await store.client.command({ query: `INSERT INTO ${table} SELECT * FROM ${table}` });
  assert.deepEqual(await pages(), once, 'answered once before the merge');
});

test('a list page that reaches back past the day before its newest root, or before its cursor, is whole', async (t) => {
  // 20 roots in the newest hour, 60 more 3 hours apart before it: a page of 50 reaches back ~4 days.
  const { store, roots, service } = await storeWithRoots(t, (first, i) =>
    i < 20 ? first - BigInt(i) * 1_000_000n : first - BigInt(i - 19) * 3n * HOUR,
  );
  const newestFirst = roots.map((root) => root.trace_id);
  assert.deepEqual(await rootPageTraceIds(store, service), newestFirst.slice(0, 50), 'the first page');
  const fifth = roots[4]!;
  assert.deepEqual(
    await rootPageTraceIds(store, service, { startTime: fifth.start_time, spanId: fifth.span_id }),
    newestFirst.slice(5, 55),
    'the page after the fifth root',
  );
  // As in a new process, which knows no service's newest span before a service list or an insert.
  const again = await ClickHouseSpanStore.open(options({ database: store.database }), logger);
  t.after(() => again.close());
  await again.services();
  assert.deepEqual(
    await rootPageTraceIds(again, service),
    newestFirst.slice(0, 50),
    'after the service list',
  );
});

test('the service list kept in memory is what the summary says after inserts, replays and reads among them', async (t) => {
  const store = await openStore();
  t.after(() => store.close());
  const batches = packRequests(workflowMix({ traces: 60, services: 3, seed: 11 }), 100).map((request) =>
    processTraceRequest(request),
  );
  // Two services named so that UTF-16 order and byte order (ClickHouse's) disagree.
  for (const [i, name] of ['svc-\u{1F600}', 'svc-\uFF01'].entries()) {
    for (const row of [...batches[i + 3]!.spans, ...batches[i + 3]!.patches]) row.service_name = name;
  }
  // As a new process reads it: from the summary.
  const fromSummary = async () => {
    const again = await ClickHouseSpanStore.open(options({ database: store.database }), logger);
    try {
      return await again.services();
    } finally {
      await again.close();
    }
  };
  await store.insertBatch(batches[0]!);
  assert.deepEqual(await store.services(), await fromSummary(), 'read once');
  // Writes go one at a time; the reads run beside them.
  await Promise.all([
    store.insertBatch(batches[1]!),
    store.services(),
    store.insertBatch(batches[2]!),
    store.services(),
    store.insertBatch(batches[1]!),
    store.services(),
  ]);
  assert.deepEqual(
    await store.services(),
    await fromSummary(),
    'after inserts, a replay and reads among them',
  );
  await Promise.all([store.insertBatch(batches[3]!), store.insertBatch(batches[4]!)]);
  const services = await store.services();
  assert.deepEqual(services, await fromSummary(), 'after two new services');
  assert.deepEqual(
    services.map((service) => service.serviceName).filter((name) => name.startsWith('svc-')),
    ['svc-\uFF01', 'svc-\u{1F600}'],
  );
  const total = batches.slice(0, 5).reduce((sum, batch) => sum + batch.spans.length, 0);
  assert.equal(
    services.reduce((sum, service) => sum + service.spanCount, 0),
    total,
  );
});

test('a batch replayed after a crash between its inserts stores only what was missing', async (t) => {
  const store = await openStore();
  t.after(() => store.close());
  const batch = workflowBatch();
  // The spans made it, the patches did not.
  assert.equal((await store.insertBatch({ spans: batch.spans, patches: [] })).spans, batch.spans.length);
  assert.deepEqual(await store.insertBatch(batch), {
    spans: 0,
    patches: batch.patches.length,
    logRecords: 0,
  });
  assert.equal((await store.statePatches(batch.spans[0]!.trace_id)).length, batch.patches.length);
});

test('a replay of a batch with more traces than one lookup takes (1000) still stores nothing', async (t) => {
  const store = await openStore();
  t.after(() => store.close());
  const [template] = workflowBatch().spans;
  const spans = Array.from({ length: 2500 }, (_, i) => ({
    ...template!,
    trace_id: (i + 1).toString(16).padStart(32, '0'),
    parent_span_id: null,
  }));
  assert.equal((await store.insertBatch({ spans, patches: [] })).spans, 2500);
  assert.equal((await store.insertBatch({ spans, patches: [] })).spans, 0);
  assert.equal((await store.stats()).spans, 2500);
});

test('JUNJO_RETENTION_DAYS becomes a TTL on every table, and is removed again without it', async (t) => {
  const database = `ttl_${process.pid}`;
  const kept = await openStore({ database, retentionDays: 3 });
  const ttl = async (store: ClickHouseSpanStore) => {
    const result = await store.client.query({
      query:
        "SELECT name, create_table_query FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree' AND name <> 'junjo_schema_versions' ORDER BY name",
      query_params: { db: database },
      format: 'JSONCompactEachRow',
    });
    // The service summary outlives the spans it counts by a day (schema.ts).
    return ((await result.json()) as string[][]).map(([name, ddl]) => [
      name,
      new RegExp(
        `TTL toDateTime\\(\\w+\\) \\+ toIntervalDay\\(${name === 'service_summary' ? 4 : 3}\\)`,
      ).test(ddl!),
    ]);
  };
  assert.deepEqual(await ttl(kept), [
    ['llm_traces', true],
    ['log_records', true],
    ['service_summary', true],
    // Kept whatever the retention: it records up to when spans were deleted.
    ['span_deletions', false],
    ['spans_v2', true],
    ['state_patches_v2', true],
    ['trace_index_v2', true],
  ]);
  await kept.close();
  const forever = await openStore({ database, retentionDays: null });
  t.after(() => forever.close());
  assert.ok((await ttl(forever)).every(([, has]) => has === false));
  // The TTL may have dropped spans until it was removed: recorded once, for the service list.
  await forever.prepare();
  const marks = await forever.client.query({
    query: `SELECT count() FROM ${database}.span_deletions WHERE deleted_before > now64(6) - INTERVAL 1 HOUR`,
    format: 'JSONCompactEachRow',
  });
  assert.deepEqual(await marks.json(), [[1]]);
});

test('a version 1 database upgrades: its patches move to state_patches_v2 with the same ids, its spans to spans_v2, its trace index to trace_index_v2', async (t) => {
  const database = `v1_${process.pid}`;
  const target = { database, cluster: '' };
  const batch = workflowBatch();
  // Version 1 as an older junjo-server left it: its tables, and patches with the whole id in them.
  const old = await ClickHouseSpanStore.open(options({ database }), logger);
  for (const query of [...bootstrapStatements(target), ...MIGRATIONS[0]!.statements(target)]) {
    await old.client.command({ query });
  }
  await old.client.insert({
    table: `${database}.junjo_schema_versions`,
    values: [{ version: 1, description: MIGRATIONS[0]!.description }],
    format: 'JSONEachRow',
  });
  const odd = { ...batch.patches[0]!, patch_id: 'an id of no known form', event_time: 1n };
  const patches = [...batch.patches, odd];
  await old.client.insert({
    table: `${database}.state_patches`,
    values: patches.map((p) => ({ ...p, event_time: dateTime64(p.event_time) })),
    format: 'JSONEachRow',
  });
  // Its spans, inserted as version 1 did: straight into the table.
  await old.client.insert({
    table: `${database}.spans`,
    values: batch.spans.map((s) => ({
      ...s,
      start_time: dateTime64(s.start_time),
      end_time: dateTime64(s.end_time),
    })),
    format: 'JSONEachRow',
  });
  await old.close();

  const store = await openStore({ database });
  t.after(() => store.close());
  const byTime = (a: { event_time: bigint; patch_id: string }, b: typeof a) =>
    a.event_time < b.event_time ? -1 : a.event_time > b.event_time ? 1 : a.patch_id < b.patch_id ? -1 : 1;
  assert.deepEqual(await store.statePatches(batch.spans[0]!.trace_id), [...patches].sort(byTime));
  const tablesLike = async (pattern: string) => {
    const result = await store.client.query({
      query:
        'SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE {p:String} ORDER BY name',
      query_params: { db: database, p: pattern },
      format: 'JSONCompactEachRow',
    });
    return result.json();
  };
  assert.deepEqual(
    await tablesLike('state_patches%'),
    [['state_patches_v2']],
    'the version 1 table is dropped',
  );
  assert.deepEqual(
    await tablesLike('%spans%'),
    [['spans_ingest'], ['spans_ingest_v2_mv'], ['spans_v2'], ['trace_index_v2_of_spans_v2_mv']],
    'the version 1 spans table and its views are dropped',
  );
  assert.deepEqual(
    await tablesLike('trace_index%'),
    [['trace_index_v2'], ['trace_index_v2_of_spans_v2_mv']],
    'the version 1 trace index and the view into it are dropped',
  );
  const bySpanId = (a: { span_id: string }, b: typeof a) => (a.span_id < b.span_id ? -1 : 1);
  const traceId = batch.spans[0]!.trace_id;
  assert.deepEqual(
    (await store.traceSpans(traceId)).sort(bySpanId),
    [...batch.spans].sort(bySpanId),
    'the copied spans are found through the trace index',
  );
  // The upgraded store finds the copied patches by id: a replay of the batch adds nothing.
  assert.deepEqual(await store.insertBatch(batch), { spans: 0, patches: 0, logRecords: 0 });
  // Version 4's service summary was filled from the stored spans, and counts them once.
  const starts = batch.spans.map((s) => s.start_time);
  const expected = [
    {
      serviceName: batch.spans[0]!.service_name,
      spanCount: batch.spans.length,
      traceCount: batch.spans.filter((s) => s.parent_span_id === null).length,
      lastSeenMicros: starts.reduce((a, b) => (a > b ? a : b)),
    },
  ];
  assert.deepEqual(await store.services(), expected);
  const summed = await store.client.query({
    query: `SELECT sum(spans) FROM ${database}.service_summary`,
    format: 'JSONCompactEachRow',
  });
  const total = ((await summed.json()) as unknown[][])[0]?.[0];
  assert.equal(Number(total), batch.spans.length, 'from the summary, backfilled');
  // New spans go through the moved views: stored in spans_v2 and found through the trace index.
  const next = processTraceRequest(toExportRequest(legacyWorkflowTrace({ seed: 8 }).spans));
  assert.equal((await store.insertBatch(next)).spans, next.spans.length);
  assert.equal((await store.traceSpans(next.spans[0]!.trace_id)).length, next.spans.length);
});

test('a database written by a newer junjo-server is refused at start-up', async () => {
  const database = `newer_${process.pid}`;
  const first = await openStore({ database });
  await first.client.insert({
    table: `${database}.junjo_schema_versions`,
    values: [{ version: 999, description: 'from the future' }],
    format: 'JSONEachRow',
  });
  await first.close();
  const again = await ClickHouseSpanStore.open(options({ database }), logger);
  try {
    await assert.rejects(
      again.prepare(),
      (error) => error instanceof StartupError && /schema version 999, newer than/.test(error.message),
    );
  } finally {
    await again.close();
  }
});

/** A stand-in for ClickHouse's HTTP interface answering every request with `reply`. */
async function fakeClickHouse(
  reply: (res: http.ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => reply(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startupFailure(url: string, user = 'default'): Promise<string> {
  const store = await ClickHouseSpanStore.open(options({ url, user }), logger);
  try {
    await store.prepare();
  } catch (error) {
    assert.ok(error instanceof StartupError, String(error));
    return error.message;
  } finally {
    await store.close();
  }
  throw new Error('prepare() succeeded');
}

test('start-up says what is wrong: unreachable, credentials refused, too old a server', async () => {
  const closed = await fakeClickHouse(() => {});
  await closed.close();
  assert.match(
    await startupFailure(closed.url),
    /^ClickHouse at 127\.0\.0\.1:\d+ is unreachable \(check JUNJO_CLICKHOUSE_URL/,
  );

  const refusing = await fakeClickHouse((res) => {
    res.writeHead(516, { 'X-ClickHouse-Exception-Code': '516' });
    res.end(
      'Code: 516. DB::Exception: junjo: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)\n',
    );
  });
  try {
    assert.match(
      await startupFailure(refusing.url, 'junjo'),
      /refused user "junjo" \(check JUNJO_CLICKHOUSE_USER and JUNJO_CLICKHOUSE_PASSWORD\)/,
    );
  } finally {
    await refusing.close();
  }

  const old = await fakeClickHouse((res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('["18.16.1"]\n');
  });
  try {
    assert.match(await startupFailure(old.url), /is version 18\.16\.1; the span store needs 24\.8 or newer$/);
  } finally {
    await old.close();
  }
});
