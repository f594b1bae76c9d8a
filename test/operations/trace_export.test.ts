// GET /otel/trace/{id}/otlp round trip through two real servers: every trace exported by server A
// and posted to server B's /v1/traces reads back from B exactly as from A (every span, every state
// patch, the services list), and B exports the same file again. Covers legacy, contract-2, agent and
// failed workflows across services, and a hand-made trace with every attribute value type, links,
// trace state, flags, kinds and statuses. Server B runs on each span store (DuckDB, ClickHouse).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  agentTrace,
  contract2WorkflowTrace,
  legacyWorkflowTrace,
  toExportRequest,
  workflowMixTraces,
} from '../../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import type { AnyValue, ExportTraceRequest, KeyValue, Span } from '../../src/otlp/types.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, type Session, signIn } from '../support/accounts.ts';
import {
  type ServerProcess,
  SPAN_STORES,
  type SpanStoreKind,
  startServerProcess,
} from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';

interface Side {
  server: ServerProcess;
  session: Session;
  apiKey: string;
}

async function side(spanStore: SpanStoreKind): Promise<Side> {
  const server = await startServerProcess({ spanStore });
  const session = await signIn(server.baseUrl);
  return { server, session, apiKey: (await createApiKey(session)).key };
}

const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
const str = (value: string): AnyValue => ({ type: 'string', value });
const bytes = (...values: number[]) => Uint8Array.from(values);

/** Two services, one trace: every AnyValue type (nested, with empties), links, state, flags, statuses. */
function exoticTrace(): ExportTraceRequest {
  const traceId = bytes(...Array.from({ length: 16 }, (_, i) => 0xa0 + i));
  const span = (id: number, parent: number | null, extra: Partial<Span>): Span => ({
    traceId,
    spanId: bytes(1, 2, 3, 4, 5, 6, 7, id),
    traceState: '',
    parentSpanId: parent === null ? new Uint8Array(0) : bytes(1, 2, 3, 4, 5, 6, 7, parent),
    flags: 1,
    name: `span ${id}`,
    kind: 1,
    startTimeUnixNano: 1_750_000_000_123_456_789n + BigInt(id) * 1000n,
    endTimeUnixNano: 1_750_000_001_000_000_000n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: null,
    ...extra,
  });
  const values: KeyValue[] = [
    kv('s', str('text with "quotes" and ünïcode')),
    kv('b', { type: 'bool', value: false }),
    kv('i', { type: 'int', value: -42n }),
    kv('big', { type: 'int', value: 2n ** 62n + 1n }),
    kv('d', { type: 'double', value: 1.25 }),
    kv('whole_double', { type: 'double', value: 3 }),
    kv('huge_double', { type: 'double', value: 1e300 }),
    kv('nan', { type: 'double', value: Number.NaN }),
    kv('raw', { type: 'bytes', value: bytes(0, 255, 16) }),
    kv('arr', { type: 'array', value: [str('x'), { type: 'empty' }, { type: 'int', value: 7n }] }),
    kv('map', { type: 'kvlist', value: [kv('inner', { type: 'kvlist', value: [kv('deep', str('y'))] })] }),
    kv('gone', { type: 'empty' }),
    kv('2', str('integer-like key')),
  ];
  const root = span(1, null, {
    kind: 2,
    flags: 0x301,
    traceState: 'vendor=abc,other=1',
    attributes: values,
    status: { code: 2, message: 'boom' },
    events: [
      {
        name: 'exception',
        timeUnixNano: 1_750_000_000_999_999_999n,
        attributes: [kv('exception.message', str('bad')), kv('n', { type: 'double', value: 0.5 })],
        droppedAttributesCount: 3,
      },
    ],
    links: [
      {
        traceId: bytes(...Array.from({ length: 16 }, (_, i) => i + 1)),
        spanId: bytes(9, 9, 9, 9, 9, 9, 9, 9),
        traceState: 'k=v',
        attributes: [kv('link.attr', { type: 'int', value: 5n })],
        droppedAttributesCount: 1,
        flags: 1,
      },
    ],
  });
  const child = span(2, 1, {
    kind: 3,
    status: { code: 1, message: '' },
    attributes: [kv('only', str('one'))],
  });
  const resource = (name: string) => ({
    attributes: [kv('service.name', str(name))],
    droppedAttributesCount: 0,
  });
  const scope = { name: 'exotic', version: '1.0', attributes: [], droppedAttributesCount: 0 };
  return {
    resourceSpans: [
      {
        resource: resource('exotic-front'),
        scopeSpans: [{ scope, spans: [root], schemaUrl: '' }],
        schemaUrl: '',
      },
      {
        resource: resource('exotic-back'),
        scopeSpans: [{ scope, spans: [child], schemaUrl: '' }],
        schemaUrl: '',
      },
    ],
  };
}

const requests: ExportTraceRequest[] = [
  ...[...workflowMixTraces({ traces: 6, services: 2, seed: 11 })].map((trace) =>
    toExportRequest(trace.spans),
  ),
  toExportRequest(legacyWorkflowTrace({ seed: 21, fail: true }).spans),
  toExportRequest(contract2WorkflowTrace({ seed: 22 }).spans),
  toExportRequest(agentTrace({ seed: 23, fail: true }).spans),
  exoticTrace(),
];
const spansOf = (request: ExportTraceRequest) =>
  request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
const traceIds = [
  ...new Set(requests.flatMap((request) => spansOf(request).map((s) => bytesToHex(s.traceId)))),
];
const spanCount = requests.reduce((total, request) => total + spansOf(request).length, 0);

async function get(from: Side, path: string): Promise<Response> {
  const response = await from.session.request('GET', path);
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return response;
}

// Server A keeps DuckDB, the reference; server B runs each span store in turn, so on ClickHouse every
// answer must equal DuckDB's, byte for byte once parsed.
for (const store of SPAN_STORES) {
  describe(`server B on ${store}`, () => {
    let a: Side;
    let b: Side;
    before(async () => {
      a = await side('duckdb');
      b = await side(store);
    });
    after(async () => {
      await a?.server.cleanup();
      await b?.server.cleanup();
    });

    test('a trace exported from one server and posted to another reads back identically', async () => {
      for (const request of requests) {
        const posted = await postOtlp(
          a.server.ports.otlpHttp,
          '/v1/traces',
          encodeTraceRequestProtobuf(request),
          {
            apiKey: a.apiKey,
            contentType: 'application/x-protobuf',
          },
        );
        assert.equal(posted.status, 200);
      }
      await waitFor(async () => (await indexedSpans(a.server.baseUrl)) >= spanCount, 'server A to index');

      const files = new Map<string, string>();
      for (const traceId of traceIds) {
        const response = await get(a, `/otel/trace/${traceId}/otlp`);
        assert.equal(
          response.headers.get('content-disposition'),
          `attachment; filename="trace-${traceId}.otlp.json"`,
        );
        const file = await response.text();
        files.set(traceId, file);
        const posted = await postOtlp(b.server.ports.otlpHttp, '/v1/traces', file, {
          apiKey: b.apiKey,
          contentType: 'application/json',
        });
        assert.equal(posted.status, 200, posted.body.toString());
        assert.equal(posted.body.toString(), '{}', 'no span was rejected');
      }
      await waitFor(async () => (await indexedSpans(b.server.baseUrl)) >= spanCount, 'server B to index');

      const same = async (path: string) => {
        const [fromA, fromB] = [await (await get(a, path)).json(), await (await get(b, path)).json()];
        assert.deepEqual(fromB, fromA, path);
        return fromA;
      };
      let patches = 0;
      for (const traceId of traceIds) {
        const spans = (await same(`/otel/trace/${traceId}/nested_spans`)) as Array<{ span_id: string }>;
        assert.ok(spans.length > 0);
        for (const { span_id } of spans) await same(`/otel/trace/${traceId}/span/${span_id}`);
        patches += ((await same(`/otel/trace/${traceId}/state_patches`)) as unknown[]).length;
        assert.equal(await (await get(b, `/otel/trace/${traceId}/otlp`)).text(), files.get(traceId));
      }
      assert.ok(patches > 0, 'the traces carry state patches');
      await same('/otel/services');
    });

    test('exporting an unknown trace is a 404, and the export needs a session', async () => {
      const unknown = await b.session.request('GET', `/otel/trace/${'0'.repeat(31)}1/otlp`);
      assert.equal(unknown.status, 404);
      assert.ok(((await unknown.json()) as { message: string }).message);
      assert.equal((await fetch(`${b.server.baseUrl}/otel/trace/${traceIds[0]}/otlp`)).status, 401);
      assert.equal((await b.session.request('GET', '/otel/trace/not-hex/otlp')).status, 400);
    });
  });
}
