// Every span-returning endpoint against the contract's types (span_json_contract.ts, written from
// api.md, not from our own schemas), on two real servers: one that ingested realistic Junjo traces
// over OTLP/HTTP, and one started on a DuckDB file written the way older versions wrote it (event
// times as decimal strings), which its start-up migration must have rewritten. The traces carry
// set_state and exception events, whose times must arrive as JSON numbers with every digit.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDbSpanStore } from '../../src/db_duckdb/duckdb_span_store.ts';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  type TraceFixture,
  toExportRequest,
} from '../../src/fixtures/junjo_traces.ts';
import { createLogger } from '../../src/logger.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import { processTraceRequest } from '../../src/spans/span_processor.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, type Session, signIn } from '../support/accounts.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { arrayOf, checkSpan, checkStatePatch } from './span_json_contract.ts';

const TRACES: TraceFixture[] = [
  legacyWorkflowTrace({ seed: 11, serviceName: 'contract-legacy', fail: true }),
  contract2WorkflowTrace({ seed: 12, serviceName: 'contract-v2', fail: true }),
  agentTrace({ seed: 13, serviceName: 'contract-agent' }),
];
const SPAN_COUNT = TRACES.reduce((n, trace) => n + trace.spans.length, 0);

/** `"timeUnixNano":<digits>` of every event of the trace, as the exact JSON text must hold it. */
function eventTimeTexts(trace: TraceFixture): string[] {
  return trace.spans.flatMap(({ span }) => span.events.map((e) => `"timeUnixNano":${e.timeUnixNano}`));
}

interface Answer {
  text: string;
  body: unknown;
}

async function get(session: Session, url: string): Promise<Answer> {
  const response = await session.request('GET', url);
  const text = await response.text();
  assert.equal(response.status, 200, `${url}: ${text}`);
  return { text, body: JSON.parse(text) };
}

function assertContract(check: (v: unknown, at: string) => string[], answer: Answer, url: string): void {
  assert.deepEqual(check(answer.body, url), [], `${url} breaks the contract`);
}

/** Checks every span-returning endpoint for the fixture traces; returns the events seen, by name. */
async function checkEndpoints(session: Session): Promise<Map<string, number>> {
  const eventNames = new Map<string, number>();
  for (const trace of TRACES) {
    const service = encodeURIComponent(trace.serviceName);
    const lists = [
      `/otel/service/${service}/root_spans`,
      `/otel/service/${service}/root-spans`,
      `/otel/service/${service}/root_spans_filtered`,
      `/otel/service/${service}/root-spans-filtered`,
      `/otel/spans/type/workflow/${service}`,
    ];
    for (const url of lists) assertContract(arrayOf(checkSpan), await get(session, url), url);
    const roots = (await get(session, lists[0]!)).body as Array<{ trace_id: string }>;
    assert.ok(
      roots.some((root) => root.trace_id === trace.traceId),
      `${lists[0]} lists the trace`,
    );

    for (const url of [
      `/otel/trace/${trace.traceId}/nested_spans`,
      `/otel/trace/${trace.traceId}/nested-spans`,
    ]) {
      const answer = await get(session, url);
      assertContract(arrayOf(checkSpan), answer, url);
      const spans = answer.body as Array<{ events_json: Array<{ name: string }> }>;
      assert.equal(spans.length, trace.spans.length, `${url}: every span`);
      // The numbers carry every digit, not a float64's rounding of them.
      for (const time of eventTimeTexts(trace)) assert.ok(answer.text.includes(time), `${url} holds ${time}`);
      if (url.endsWith('nested_spans')) {
        for (const span of spans) {
          for (const e of span.events_json) eventNames.set(e.name, (eventNames.get(e.name) ?? 0) + 1);
        }
      }
    }

    for (const { span } of trace.spans) {
      const url = `/otel/trace/${trace.traceId}/span/${bytesToHex(span.spanId)}`;
      const answer = await get(session, url);
      assertContract(checkSpan, answer, url);
      for (const e of span.events) assert.ok(answer.text.includes(`"timeUnixNano":${e.timeUnixNano}`), url);
    }

    const patchesUrl = `/otel/trace/${trace.traceId}/state_patches`;
    const patches = await get(session, patchesUrl);
    assertContract(arrayOf(checkStatePatch), patches, patchesUrl);
    assert.ok((patches.body as unknown[]).length > 0, `${patchesUrl}: the trace has patches`);
  }
  return eventNames;
}

function assertEventsSeen(eventNames: Map<string, number>): void {
  assert.ok((eventNames.get('set_state') ?? 0) > 0, 'set_state events were checked');
  assert.ok((eventNames.get('exception') ?? 0) > 0, 'exception events were checked');
}

describe('span JSON matches the contract (api.md §5.1, §7.3)', () => {
  let fresh: ServerProcess;
  let migrated: ServerProcess;

  before(async () => {
    fresh = await startServerProcess();

    // A data directory as an older version left it: string event times in spans and in the list
    // pages rendered at insert, no migration recorded.
    const oldDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-old-store-'));
    mkdirSync(path.join(oldDir, 'duckdb'));
    const store = await DuckDbSpanStore.open(
      path.join(oldDir, 'duckdb/otel_data.duckdb'),
      createLogger('silent'),
    );
    await store.prepare();
    const { spans, patches } = processTraceRequest(toExportRequest(TRACES.flatMap((t) => t.spans)));
    await store.insertBatch({
      spans: spans.map((span) => ({
        ...span,
        events_json: span.events_json.replace(/"timeUnixNano":(\d+)/g, '"timeUnixNano":"$1"'),
      })),
      patches,
    });
    await store.db.write((conn) => conn.run('DROP TABLE store_migrations'));
    await store.close();
    migrated = await startServerProcess({ dataDir: oldDir });
  });
  after(async () => {
    await fresh?.cleanup();
    await migrated?.cleanup();
  });

  it('on a server that ingested the traces over OTLP/HTTP', async () => {
    const session = await signIn(fresh.baseUrl);
    const { key } = await createApiKey(session);
    const posted = await postOtlp(
      fresh.ports.otlpHttp,
      '/v1/traces',
      encodeTraceRequestProtobuf(toExportRequest(TRACES.flatMap((t) => t.spans))),
      { apiKey: key, contentType: 'application/x-protobuf' },
    );
    assert.equal(posted.status, 200);
    await waitFor(async () => (await indexedSpans(fresh.baseUrl)) >= SPAN_COUNT, 'the spans to be indexed');
    assertEventsSeen(await checkEndpoints(session));
  });

  it('on a server started on a store written the old way (migrated at start)', async () => {
    assert.match(migrated.output(), /store migration applied/);
    assertEventsSeen(await checkEndpoints(await signIn(migrated.baseUrl)));
  });

  it('the contract check itself refuses what a contract client cannot read', () => {
    const span = {
      trace_id: 'a'.repeat(32),
      span_id: 'b'.repeat(16),
      parent_span_id: null,
      service_name: 's',
      name: 'n',
      kind: 'INTERNAL',
      start_time: '2025-10-12T17:33:48.123456Z',
      end_time: '2025-10-12T17:33:49Z',
      status_code: '',
      status_message: '',
      attributes_json: {},
      events_json: [{ name: 'set_state', timeUnixNano: 1, droppedAttributesCount: 0, attributes: {} }],
      links_json: [],
      trace_flags: 256,
      trace_state: null,
      junjo_id: '',
      junjo_parent_id: '',
      junjo_span_type: 'node',
      junjo_wf_state_start: {},
      junjo_wf_state_end: {},
      junjo_wf_graph_structure: {},
      junjo_wf_store_id: '',
    };
    assert.deepEqual(checkSpan(span, 'span'), []);
    const broken = (patch: Record<string, unknown>) => checkSpan({ ...span, ...patch }, 'span');
    assert.equal(broken({ events_json: [{ ...span.events_json[0], timeUnixNano: '1' }] }).length, 1);
    assert.equal(broken({ attributes_json: '{}' }).length, 1);
    assert.equal(broken({ start_time: '2025-10-12 17:33:48' }).length, 1);
    assert.equal(broken({ junjo_span_type: 'tool' }).length, 1);
    assert.equal(broken({ extra: 1 }).length, 1);
    const { name: _, ...missing } = span;
    assert.equal(checkSpan(missing, 'span').length, 1);
  });
});
