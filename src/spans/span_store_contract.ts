// The behaviour every SpanStore (span_store.ts) must have, as one test suite parameterised by a store
// factory: db_duckdb/duckdb_span_store.test.ts runs it on DuckDB, and any later store runs the same
// file. Every answer is known in advance from rows built field by field.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { isUnavailable } from '../errors.ts';
import { type CompactSpanRow, compactSpanOf, waterfallSpanOf } from './compact_span.ts';
import { OPENINFERENCE_KIND } from './llm_span.ts';
import type { LogRecordRow, SpanBatch, SpanRow, StatePatchRow } from './rows.ts';
import { jsonArray, parseTimestamp, renderWaterfallSpan } from './span_json.ts';
import type { AttributeFilter, SpanSearch, SpanSearchHit } from './span_search.ts';
import type { PageRequest, SpanStore, WorkflowStatsSeries } from './span_store.ts';
import { parseStateCondition, type WorkflowRunFilter } from './workflow_run_filter.ts';

export interface StoreUnderTest {
  /** Empty and prepared. */
  store: SpanStore;
  /** Makes the store's storage refuse writes (e.g. fills its disk); resolves to what undoes it. */
  exhaustStorage(): Promise<() => Promise<void>>;
  /** Closes the store if the test has not, and removes its files. */
  dispose(): Promise<void>;
}

const T0 = 1_749_000_000_000_000n; // 2025-06-04T01:20:00Z in epoch microseconds
const SECOND = 1_000_000n;
const HOUR = 3600n * SECOND;

export function runSpanStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`SpanStore contract: ${name}`, () => {
    let under: StoreUnderTest;
    let store: SpanStore;
    beforeEach(async () => {
      under = await open();
      store = under.store;
    });
    afterEach(() => under.dispose());

    describe('insertBatch', () => {
      test('returns the rows actually inserted; a replayed batch inserts nothing', async () => {
        const root = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const child = span({ trace: 1, span: 2, parent: root, service: 'a', start: T0 + SECOND });
        const batch = { spans: [root, child], patches: [patch(1, child, T0), patch(2, child, T0)] };
        assert.deepEqual(await store.insertBatch(batch), { spans: 2, patches: 2, logRecords: 0 });
        assert.deepEqual(await store.insertBatch(batch), { spans: 0, patches: 0, logRecords: 0 });
        const more = span({ trace: 1, span: 3, parent: root, service: 'a', start: T0 + 2n * SECOND });
        const mixed = { spans: [root, more], patches: [patch(2, child, T0), patch(3, more, T0)] };
        assert.deepEqual(await store.insertBatch(mixed), { spans: 1, patches: 1, logRecords: 0 });
        assert.equal((await store.traceSpans(traceId(1))).length, 3);
        assert.equal((await store.statePatches(traceId(1))).length, 3);
        assert.equal((await store.stats()).spans, 3);
      });

      test('a row repeated within a batch is stored once', async () => {
        const root = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const p = patch(1, root, T0);
        assert.deepEqual(await store.insertBatch({ spans: [root, root], patches: [p, p] }), {
          spans: 1,
          patches: 1,
          logRecords: 0,
        });
      });

      test('patches of spans stored earlier are kept; patches of spans that exist nowhere are skipped', async () => {
        const root = span({ trace: 1, span: 1, service: 'a', start: T0 });
        await store.insertBatch({ spans: [root], patches: [] });
        const orphan = span({ trace: 2, span: 2, service: 'a', start: T0 });
        const inserted = await store.insertBatch({
          spans: [],
          patches: [patch(1, root, T0), patch(2, orphan, T0)],
        });
        assert.deepEqual(inserted, { spans: 0, patches: 1, logRecords: 0 });
        assert.deepEqual(
          (await store.statePatches(traceId(1))).map((p) => p.patch_id),
          ['patch-1'],
        );
        assert.deepEqual(await store.statePatches(traceId(2)), []);
      });

      test('every column reads back as written, timestamps to the microsecond', async () => {
        const root = {
          ...span({ trace: 1, span: 1, service: 'a', start: T0 + 123_457n, type: 'workflow' }),
          status_code: 'STATUS_CODE_ERROR',
          status_message: 'boom "quoted" ✓',
          events_json: '[{"name":"set_state","timeUnixNano":1,"attributes":{}}]',
          trace_state: 'k=v',
        };
        const p = patch(1, root, T0 + 7n);
        await store.insertBatch({ spans: [root], patches: [p] });
        assert.deepEqual(await store.span(root.trace_id, root.span_id), root);
        assert.deepEqual(await store.statePatches(root.trace_id), [p]);
      });

      test('log records are kept before their span arrives, read back in time order, and replays insert nothing', async () => {
        const llm = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const other = span({ trace: 1, span: 2, service: 'a', start: T0 });
        const choice = logRecord(3, llm, T0 + 2n * SECOND, 'gen_ai.choice');
        const system = logRecord(1, llm, T0, 'gen_ai.system.message');
        // The same instant as `system` but earlier in its export: sequence orders it first.
        const user = { ...logRecord(2, llm, T0, 'gen_ai.user.message'), sequence: 0 };
        const logs = { spans: [], patches: [], logRecords: [choice, system, user, system] };
        assert.deepEqual(await store.insertBatch(logs), { spans: 0, patches: 0, logRecords: 3 });
        assert.deepEqual(await store.insertBatch(logs), { spans: 0, patches: 0, logRecords: 0 });
        const later = { spans: [llm, other], patches: [], logRecords: [user, logRecord(4, other, T0, 'x')] };
        assert.deepEqual(await store.insertBatch(later), { spans: 2, patches: 0, logRecords: 1 });
        assert.deepEqual(await store.spanLogRecords(llm.trace_id, llm.span_id), [user, system, choice]);
        assert.deepEqual(
          (await store.spanLogRecords(other.trace_id, other.span_id)).map((r) => r.log_id),
          ['log-4'],
        );
        assert.deepEqual(await store.spanLogRecords(traceId(9), llm.span_id), []);
      });

      test('retention deletes the log records of deleted spans and older ones of spans never stored', async () => {
        const old = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const kept = span({ trace: 2, span: 2, service: 'a', start: T0 + HOUR });
        const orphanOld = span({ trace: 3, span: 3, service: 'a', start: T0 });
        const orphanNew = span({ trace: 4, span: 4, service: 'a', start: T0 + HOUR });
        await store.insertBatch({
          spans: [old, kept],
          patches: [],
          logRecords: [
            // Logged after the cutoff, but its span started before it: goes with the span.
            logRecord(1, old, T0 + 2n * HOUR, 'late'),
            logRecord(2, kept, T0 + HOUR, 'kept'),
            logRecord(3, orphanOld, T0, 'orphan old'),
            logRecord(4, orphanNew, T0 + HOUR, 'orphan new'),
          ],
        });
        const cutoff = T0 + HOUR;
        const deleted = { spans: 0, logRecords: 0 };
        for (let done = false; !done; ) {
          const step = await store.deleteStartedBefore(cutoff, 10);
          deleted.spans += step.spans;
          deleted.logRecords += step.logRecords;
          done = step.done;
        }
        assert.deepEqual(deleted, { spans: 1, logRecords: 2 });
        assert.deepEqual(await store.spanLogRecords(old.trace_id, old.span_id), []);
        assert.deepEqual(await store.spanLogRecords(orphanOld.trace_id, orphanOld.span_id), []);
        assert.equal((await store.spanLogRecords(kept.trace_id, kept.span_id)).length, 1);
        assert.equal((await store.spanLogRecords(orphanNew.trace_id, orphanNew.span_id)).length, 1);
      });

      test('an unavailable store rejects with storeUnavailable, and takes the batch once it recovers', async () => {
        await store.insertBatch(spansOfOneTrace(1, 'a', T0, 10));
        const restore = await under.exhaustStorage();
        const batch = spansOfOneTrace(2, 'a', T0, 2000);
        try {
          await assert.rejects(store.insertBatch(batch), (error) => isUnavailable(error));
        } finally {
          await restore();
        }
        assert.deepEqual(await store.insertBatch(batch), { spans: 2000, patches: 2000, logRecords: 0 });
        assert.equal((await store.stats()).spans, 2010);
      });
    });

    describe('reader', () => {
      test('service names sorted, and each service’s spans, traces and newest start', async () => {
        assert.deepEqual(await store.serviceNames(), []);
        const rootB = span({ trace: 1, span: 1, service: 'b', start: T0 });
        const childA = span({ trace: 1, span: 2, parent: rootB, service: 'a', start: T0 + 5n * SECOND });
        const rootA = span({ trace: 2, span: 3, service: 'a', start: T0 + SECOND });
        await store.insertBatch({ spans: [rootB, childA], patches: [] });
        await store.insertBatch({ spans: [rootA], patches: [] });
        assert.deepEqual(await store.serviceNames(), ['a', 'b']);
        assert.deepEqual(await store.services(), [
          { serviceName: 'a', spanCount: 2, traceCount: 1, lastSeenMicros: T0 + 5n * SECOND },
          { serviceName: 'b', spanCount: 1, traceCount: 1, lastSeenMicros: T0 },
        ]);
      });

      test('a trace newest first (start, then span id), one span, and [] or null when unknown', async () => {
        const root = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const tieLow = span({ trace: 1, span: 2, parent: root, service: 'b', start: T0 + SECOND });
        const tieHigh = span({ trace: 1, span: 3, parent: root, service: 'a', start: T0 + SECOND });
        const other = span({ trace: 2, span: 4, service: 'a', start: T0 });
        await store.insertBatch({ spans: [tieLow, root, other, tieHigh], patches: [] });
        assert.deepEqual(
          (await store.traceSpans(traceId(1))).map((s) => s.span_id),
          [spanId(3), spanId(2), spanId(1)],
        );
        assert.deepEqual(await store.span(traceId(1), spanId(2)), tieLow);
        assert.equal(await store.span(traceId(1), spanId(4)), null, 'a span of another trace');
        assert.deepEqual(await store.traceSpans(traceId(9)), []);
        assert.equal(await store.span(traceId(9), spanId(1)), null);
      });

      test('a time window on a trace lookup returns only what started within it', async () => {
        const root = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const late = span({ trace: 1, span: 2, parent: root, service: 'a', start: T0 + HOUR });
        await store.insertBatch({
          spans: [root, late],
          patches: [patch(1, root, T0), patch(2, late, T0 + HOUR)],
        });
        const window = { startMicros: T0 + SECOND, endMicros: T0 + 2n * HOUR };
        assert.deepEqual(
          (await store.traceSpans(traceId(1), window)).map((s) => s.span_id),
          [spanId(2)],
        );
        assert.equal(await store.span(traceId(1), spanId(1), window), null);
        assert.deepEqual(await store.span(traceId(1), spanId(2), window), late);
        assert.deepEqual(
          (await store.statePatches(traceId(1), { window })).map((p) => p.patch_id),
          ['patch-2'],
        );
        const everything = { startMicros: T0, endMicros: T0 + HOUR };
        assert.equal((await store.traceSpans(traceId(1), everything)).length, 2, 'bounds are inclusive');
      });

      test('a compact trace: the narrow columns, event facts, LLM flag and debugger attributes of each span', async () => {
        const prompt = 'x'.repeat(100_000);
        const stateEvent = (n: number) =>
          `{"name":"set_state","timeUnixNano":17490000000${n}0000001,"droppedAttributesCount":0,` +
          `"attributes":{"id":"e${n}","junjo.store.id":"store_1","junjo.state_json_patch":"[]"}}`;
        const workflow = span({
          trace: 1,
          span: 1,
          service: 'a',
          start: T0,
          type: 'workflow',
          attributes: {
            'junjo.workflow.node.count': 3,
            'junjo.workflow.parent_store.id': 'p',
            other: prompt,
          },
        });
        workflow.events_json = `[${stateEvent(1)},{"name":"note","timeUnixNano":1,"droppedAttributesCount":0,"attributes":{}},${stateEvent(2)}]`;
        const failed = span({ trace: 1, span: 2, parent: workflow, service: 'a', start: T0 + 1n });
        failed.status_code = 'STATUS_CODE_ERROR';
        failed.status_message = 'boom';
        failed.events_json =
          '[{"name":"exception","timeUnixNano":5,"droppedAttributesCount":0,"attributes":{"exception.message":"m"}}]';
        const hookError = span({ trace: 1, span: 3, parent: workflow, service: 'a', start: T0 + 2n });
        hookError.events_json =
          '[{"name":"junjo.hook_error","timeUnixNano":6,"droppedAttributesCount":0,"attributes":{"exception.type":"E"}}]';
        const llm = span({
          trace: 1,
          span: 4,
          parent: workflow,
          service: 'b',
          start: T0 + 3n,
          attributes: { [OPENINFERENCE_KIND]: 'LLM', 'input.value': prompt },
        });
        const genAi = span({
          trace: 1,
          span: 5,
          parent: workflow,
          service: 'b',
          start: T0 + 4n,
          attributes: { 'gen_ai.operation.name': 'chat', 'junjo.agent.store.id': 'not an agent' },
        });
        const notLlm = span({
          trace: 1,
          span: 6,
          parent: workflow,
          service: 'b',
          start: T0 + 5n,
          attributes: { 'gen_ai.system': 'openai', [OPENINFERENCE_KIND]: 'CHAIN', note: 'exception' },
        });
        const agent = span({
          trace: 1,
          span: 7,
          parent: workflow,
          service: 'a',
          start: T0 + 6n,
          type: 'agent',
          attributes: { 'junjo.agent.store.id': 'agent_store', 'junjo.agent.state.start': '{"n":1}', x: 1 },
        });
        agent.events_json = `[${stateEvent(3)}]`;
        const other = span({ trace: 2, span: 8, service: 'a', start: T0 });
        const spans = [workflow, failed, hookError, llm, genAi, notLlm, agent, other];
        await store.insertBatch({ spans, patches: [] });

        const compact = await store.compactTrace(traceId(1));
        assert.deepEqual(
          compact.map(parsedCompact),
          (await store.traceSpans(traceId(1))).map(compactSpanOf).map(parsedCompact),
          'the reference, compactSpanOf, of the trace newest first',
        );
        const byId = new Map(compact.map((c) => [c.span_id, parsedCompact(c)]));
        const facts = (n: number) => {
          const c = byId.get(spanId(n))!;
          return [c.has_exception, c.is_llm, c.state_events, c.junjo_attributes];
        };
        assert.deepEqual(facts(1), [
          false,
          false,
          [JSON.parse(stateEvent(1)), JSON.parse(stateEvent(2))],
          { 'junjo.workflow.node.count': 3, 'junjo.workflow.parent_store.id': 'p' },
        ]);
        assert.match(
          compact.find((c) => c.span_id === spanId(1))!.state_events_json,
          /1749000000010000001/,
          'nanosecond times keep every digit',
        );
        assert.deepEqual(facts(2), [true, false, [], {}], 'an exception event');
        assert.deepEqual(facts(3), [true, false, [], {}], 'an event with exception.type');
        assert.deepEqual(facts(4), [false, true, [], {}], 'OpenInference LLM');
        assert.deepEqual(facts(5), [false, true, [], {}], 'GenAI; agent attributes only on agent spans');
        assert.deepEqual(facts(6), [false, false, [], {}], 'gen_ai.system alone is not an LLM span');
        assert.deepEqual(facts(7), [
          false,
          false,
          [JSON.parse(stateEvent(3))],
          { 'junjo.agent.store.id': 'agent_store', 'junjo.agent.state.start': '{"n":1}' },
        ]);
        assert.ok(
          compact.every((c) => !Object.values(c).some((v) => typeof v === 'string' && v.includes(prompt))),
          'no prompt in the answer',
        );

        assert.deepEqual(await store.compactTrace(traceId(9)), []);
        const window = { startMicros: T0 + 2n, endMicros: T0 + 4n };
        assert.deepEqual(
          (await store.compactTrace(traceId(1), window)).map((c) => c.span_id),
          [spanId(5), spanId(4), spanId(3)],
        );

        const waterfall = parsedWaterfall(await store.waterfallTraceJson(traceId(1)));
        assert.deepEqual(
          waterfall,
          parsedWaterfall(jsonArray(compact.map(waterfallSpanOf).map(renderWaterfallSpan))),
          'the reference, waterfallSpanOf',
        );
        assert.deepEqual(
          waterfall.map((w) => [w.span_id, w.has_exception, w.is_llm, w.junjo_span_type]),
          [
            [spanId(7), false, false, 'agent'],
            [spanId(6), false, false, ''],
            [spanId(5), false, true, ''],
            [spanId(4), false, true, ''],
            [spanId(3), true, false, ''],
            [spanId(2), true, false, ''],
            [spanId(1), false, false, 'workflow'],
          ],
        );
        assert.ok(!('state_events' in waterfall[0]!), 'none of the debugger fields');
        assert.equal(await store.waterfallTraceJson(traceId(9)), null);
        assert.deepEqual(
          parsedWaterfall(await store.waterfallTraceJson(traceId(1), window)).map((w) => w.span_id),
          [spanId(5), spanId(4), spanId(3)],
        );
        assert.equal(
          await store.waterfallTraceJson(traceId(1), { startMicros: T0 + HOUR, endMicros: T0 + 2n * HOUR }),
          null,
        );
      });

      test('a waterfall trace renders any text and time as renderWaterfallSpan does', async () => {
        const root = span({ trace: 1, span: 1, service: 'quote " back \\ slash', start: T0 + 7n });
        root.name = 'line\nbreak\ttab \u0001 control, é 漢字 😀 </script>';
        root.status_code = 'STATUS_CODE_ERROR';
        const child = span({
          trace: 1,
          span: 2,
          parent: root,
          service: '',
          start: T0 + 999_999n,
          type: 'node',
        });
        child.end_time = T0 + 3n * HOUR + 120n;
        await store.insertBatch({ spans: [root, child], patches: [] });

        const waterfall = parsedWaterfall(await store.waterfallTraceJson(traceId(1)));
        const reference = (await store.traceSpans(traceId(1))).map((row) =>
          renderWaterfallSpan(waterfallSpanOf(compactSpanOf(row))),
        );
        assert.deepEqual(waterfall, parsedWaterfall(jsonArray(reference)));
        assert.deepEqual(
          waterfall.map((w) => [w.name, w.parent_span_id, w.start_time, w.end_time]),
          [
            ['span 2', spanId(1), '2025-06-04T01:20:00.999999Z', '2025-06-04T04:20:00.000120Z'],
            [root.name, null, '2025-06-04T01:20:00.000007Z', '2025-06-04T01:20:01.000007Z'],
          ],
        );
      });

      test('state patches in the order they happened (event time, then patch id), optionally of one store', async () => {
        const workflow = span({ trace: 1, span: 1, service: 'a', start: T0, type: 'workflow' });
        const p = (id: number, at: bigint, store: string) => ({
          ...patch(id, workflow, at),
          patch_store_id: store,
        });
        const patches = [p(4, T0 + 2n, 's1'), p(3, T0 + 1n, 's2'), p(2, T0 + 1n, 's1'), p(1, T0 + 3n, 's1')];
        await store.insertBatch({ spans: [workflow], patches });
        assert.deepEqual(
          (await store.statePatches(traceId(1))).map((x) => x.patch_id),
          ['patch-2', 'patch-3', 'patch-4', 'patch-1'],
        );
        assert.deepEqual(
          (await store.statePatches(traceId(1), { storeId: 's1' })).map((x) => x.patch_id),
          ['patch-2', 'patch-4', 'patch-1'],
        );
        assert.deepEqual(await store.statePatches(traceId(1), { storeId: 'none' }), []);
      });

      test('root pages: newest first, capped, and paging visits every root once, also across ties', async () => {
        const roots: SpanRow[] = [];
        for (let i = 0; i < 60; i++) {
          // Pairs share a start time, and the hours differ, so both cursor forms are exercised.
          const start = T0 + BigInt(Math.floor(i / 2)) * (HOUR / 7n);
          roots.push(span({ trace: i, span: i, service: 'a', start }));
        }
        roots.push(span({ trace: 100, span: 100, service: 'b', start: T0 }));
        await store.insertBatch({ spans: roots.slice(0, 30), patches: [] });
        await store.insertBatch({ spans: roots.slice(30), patches: [] });
        const expected = roots
          .filter((s) => s.service_name === 'a')
          .sort(newestFirst)
          .map((s) => s.span_id);
        const first = await store.rootSpanPage('a', { limit: 7 }, { llmOnly: false });
        assert.deepEqual(first.map(idOf), expected.slice(0, 7));
        assert.deepEqual(
          await pageThrough((page) => store.rootSpanPage('a', page, { llmOnly: false }), 7),
          expected,
        );
        assert.deepEqual(
          await pageThrough((page) => store.rootSpanPage('a', page, { llmOnly: false }), 60),
          expected,
        );
        assert.deepEqual(await store.rootSpanPage('nobody', { limit: 10 }, { llmOnly: false }), []);
      });

      test('a page before a time alone excludes everything at that time', async () => {
        const a = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const b = span({ trace: 2, span: 2, service: 'a', start: T0 + SECOND });
        const c = span({ trace: 3, span: 3, service: 'a', start: T0 + SECOND });
        await store.insertBatch({ spans: [a, b, c], patches: [] });
        const page = await store.rootSpanPage(
          'a',
          { limit: 10, before: { startTime: T0 + SECOND } },
          { llmOnly: false },
        );
        assert.deepEqual(page.map(idOf), [spanId(1)]);
      });

      test('the LLM filter keeps roots whose trace holds an LLM span in any service, also one stored later', async () => {
        const plain = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const direct = span({ trace: 2, span: 2, service: 'a', start: T0 + SECOND });
        const directLlm = span({
          trace: 2,
          span: 3,
          parent: direct,
          service: 'a',
          start: T0 + 2n * SECOND,
          attributes: { [OPENINFERENCE_KIND]: 'LLM' },
        });
        const elsewhere = span({ trace: 3, span: 4, service: 'a', start: T0 + 3n * SECOND });
        const notLlm = span({
          trace: 1,
          span: 6,
          parent: plain,
          service: 'a',
          start: T0 + SECOND,
          attributes: { [OPENINFERENCE_KIND]: 'CHAIN', 'gen_ai.system': 'openai' },
        });
        await store.insertBatch({ spans: [plain, direct, directLlm, elsewhere, notLlm], patches: [] });
        const llmRoots = () => store.rootSpanPage('a', { limit: 10 }, { llmOnly: true });
        assert.deepEqual((await llmRoots()).map(idOf), [spanId(2)]);
        // A GenAI span of trace 3, exported later by another service.
        const lateLlm = span({
          trace: 3,
          span: 5,
          parent: elsewhere,
          service: 'b',
          start: T0 + 4n * SECOND,
          attributes: { 'gen_ai.operation.name': 'chat' },
        });
        await store.insertBatch({ spans: [lateLlm], patches: [] });
        assert.deepEqual((await llmRoots()).map(idOf), [spanId(4), spanId(2)]);
        assert.deepEqual(await pageThrough((page) => store.rootSpanPage('a', page, { llmOnly: true }), 1), [
          spanId(4),
          spanId(2),
        ]);
        assert.equal((await store.rootSpanPage('a', { limit: 10 }, { llmOnly: false })).length, 3);
      });

      test('workflow pages hold workflow spans only (not subflows or other spans), newest first', async () => {
        const root = span({ trace: 1, span: 1, service: 'a', start: T0 });
        const workflows = [2, 3, 4].map((n) =>
          span({
            trace: 1,
            span: n,
            parent: root,
            service: 'a',
            start: T0 + BigInt(n) * SECOND,
            type: 'workflow',
          }),
        );
        const subflow = span({ trace: 1, span: 5, parent: root, service: 'a', start: T0, type: 'subflow' });
        const node = span({ trace: 1, span: 6, parent: root, service: 'a', start: T0, type: 'node' });
        await store.insertBatch({ spans: [root, ...workflows, subflow, node], patches: [] });
        const expected = [spanId(4), spanId(3), spanId(2)];
        assert.deepEqual((await store.workflowSpanPage('a', { limit: 10 })).map(idOf), expected);
        assert.deepEqual(await pageThrough((page) => store.workflowSpanPage('a', page), 2), expected);
      });

      test('a list entry is the span’s JSON, the same as its trace lookup', async () => {
        const root = span({ trace: 1, span: 1, service: 'a', start: T0, type: 'workflow' });
        await store.insertBatch({ spans: [root], patches: [] });
        const [listed] = await store.rootSpanPage('a', { limit: 1 }, { llmOnly: false });
        const parsed = JSON.parse(Buffer.from(listed!).toString('utf8'));
        assert.equal(parsed.span_id, root.span_id);
        assert.equal(parsed.start_time, '2025-06-04T01:20:00.000000Z');
        assert.deepEqual(parsed.junjo_wf_graph_structure, JSON.parse(root.junjo_wf_graph_structure));
      });
    });

    describe('workflowStats', () => {
      const MINUTE = 60n * SECOND;
      const MS = 1000n;
      /** A workflow run of `name` in service `service` from `start`, lasting `ms` milliseconds. */
      const run = (
        n: number,
        f: { name: string; start: bigint; ms: bigint; service?: string; type?: string },
      ) => ({
        ...span({ trace: n, span: n, service: f.service ?? 'a', start: f.start, type: f.type ?? 'workflow' }),
        name: f.name,
        end_time: f.start + f.ms * MS,
      });
      const failed = (row: SpanRow): SpanRow => ({ ...row, status_code: 'STATUS_CODE_ERROR' });
      const range = { startMicros: T0, endMicros: T0 + 5n * MINUTE, bucketMicros: MINUTE };
      const empty = (minute: bigint) => ({
        startMicros: T0 + minute * MINUTE,
        runs: 0,
        errors: 0,
        p50Ms: null,
        p95Ms: null,
        p99Ms: null,
      });

      beforeEach(async () => {
        await store.insertBatch({
          spans: [
            // alpha, minute 0: 10, 20, 30, 40 ms (one failed), the first exactly at the range's start
            run(1, { name: 'alpha', start: T0, ms: 10n }),
            failed(run(2, { name: 'alpha', start: T0 + 10n * SECOND, ms: 40n })),
            run(3, { name: 'alpha', start: T0 + 20n * SECOND, ms: 30n }),
            run(4, { name: 'alpha', start: T0 + MINUTE - 1n, ms: 20n }),
            // alpha, minute 2: one run of 100 ms; beta, minute 4: one failed run of 5 ms
            run(5, { name: 'alpha', start: T0 + 2n * MINUTE, ms: 100n }),
            failed(run(6, { name: 'beta', start: T0 + 4n * MINUTE + 59n * SECOND, ms: 5n })),
            // none of these counts: outside the range, a subflow, a node, another service
            run(7, { name: 'alpha', start: T0 - 1n, ms: 1000n }),
            run(8, { name: 'alpha', start: T0 + 5n * MINUTE, ms: 1000n }),
            run(9, { name: 'alpha', start: T0, ms: 1000n, type: 'subflow' }),
            run(10, { name: 'alpha', start: T0, ms: 1000n, type: 'node' }),
            run(11, { name: 'alpha', start: T0, ms: 1000n, service: 'b' }),
          ],
          patches: [],
        });
      });

      /** Quantiles compared to 1e-9 ms: the interpolation is floating point. */
      function assertStats(actual: WorkflowStatsSeries[], expected: WorkflowStatsSeries[]): void {
        const rounded = (series: WorkflowStatsSeries[]) =>
          series.map((s) => ({
            ...s,
            buckets: s.buckets.map((b) => ({
              ...b,
              p50Ms: b.p50Ms === null ? null : Math.round(b.p50Ms * 1e9) / 1e9,
              p95Ms: b.p95Ms === null ? null : Math.round(b.p95Ms * 1e9) / 1e9,
              p99Ms: b.p99Ms === null ? null : Math.round(b.p99Ms * 1e9) / 1e9,
            })),
          }));
        assert.deepEqual(rounded(actual), rounded(expected));
      }

      const alpha: WorkflowStatsSeries = {
        workflow: 'alpha',
        buckets: [
          // ranks interpolated linearly: p95 of 10, 20, 30, 40 is at rank 0.95 * 3 = 2.85 → 38.5
          { startMicros: T0, runs: 4, errors: 1, p50Ms: 25, p95Ms: 38.5, p99Ms: 39.7 },
          empty(1n),
          { startMicros: T0 + 2n * MINUTE, runs: 1, errors: 0, p50Ms: 100, p95Ms: 100, p99Ms: 100 },
          empty(3n),
          empty(4n),
        ],
      };
      const beta: WorkflowStatsSeries = {
        workflow: 'beta',
        buckets: [
          empty(0n),
          empty(1n),
          empty(2n),
          empty(3n),
          { startMicros: T0 + 4n * MINUTE, runs: 1, errors: 1, p50Ms: 5, p95Ms: 5, p99Ms: 5 },
        ],
      };

      test('one series per workflow by name, every bucket present, exact counts and quantiles', async () => {
        assertStats(await store.workflowStats('a', range), [alpha, beta]);
      });

      test('one workflow only; an unknown workflow, service or an empty range gives no series', async () => {
        assertStats(await store.workflowStats('a', { ...range, workflow: 'beta' }), [beta]);
        assert.deepEqual(await store.workflowStats('a', { ...range, workflow: 'gamma' }), []);
        assert.deepEqual(await store.workflowStats('nobody', range), []);
        const later = { startMicros: T0 + HOUR, endMicros: T0 + 2n * HOUR, bucketMicros: MINUTE };
        assert.deepEqual(await store.workflowStats('a', later), []);
      });

      test('wider buckets add up the same runs; hostile names are plain values', async () => {
        const hour = { startMicros: T0 - 20n * MINUTE, endMicros: T0 + 40n * MINUTE, bucketMicros: HOUR };
        const [wide] = await store.workflowStats('a', { ...hour, workflow: 'alpha' });
        assert.equal(wide?.buckets.length, 1);
        assert.deepEqual(
          { runs: wide?.buckets[0]?.runs, errors: wide?.buckets[0]?.errors, p50Ms: wide?.buckets[0]?.p50Ms },
          { runs: 7, errors: 1, p50Ms: 40 },
        );
        for (const hostile of [
          "'; DROP TABLE spans; --",
          'alpha\u0000',
          '\u00e9\u{1F600}"\'',
          'x'.repeat(5000),
        ]) {
          assert.deepEqual(await store.workflowStats(hostile, range), []);
          assert.deepEqual(await store.workflowStats('a', { ...range, workflow: hostile }), []);
        }
        assertStats(await store.workflowStats('a', range), [alpha, beta]);
      });
    });

    describe('searchSpans', () => {
      const window = { startMicros: T0, endMicros: T0 + HOUR };
      // Service a's spans in the window, newest first: o6, c5, c3, c2 (c3 and c2 share a start), r1.
      const r1 = {
        ...span({ trace: 1, span: 1, service: 'a', start: T0, type: 'workflow' }),
        name: 'checkout',
        attributes_json: JSON.stringify({ 'http.method': 'GET', 'http.status_code': 200, user: 'Ann Lee' }),
      };
      const c2 = {
        ...span({ trace: 1, span: 2, parent: r1, service: 'a', start: T0 + 10n * SECOND, type: 'node' }),
        name: 'call llm',
        end_time: T0 + 15n * SECOND,
        status_code: 'STATUS_CODE_ERROR',
        attributes_json: JSON.stringify({ 'llm.model_name': 'gemini-2.5-flash', tokens: 1500, flag: true }),
      };
      const c3 = {
        ...span({ trace: 1, span: 3, parent: r1, service: 'a', start: T0 + 10n * SECOND, type: 'node' }),
        name: 'call llm',
        attributes_json: JSON.stringify({ 'llm.model_name': 'gpt-4o', tokens: 300, note: null }),
      };
      const r4 = { ...span({ trace: 2, span: 4, service: 'b', start: T0 + 20n * SECOND }), name: 'ingest' };
      const c5 = {
        ...span({ trace: 2, span: 5, parent: r4, service: 'a', start: T0 + 30n * SECOND }),
        name: 'lookup',
        end_time: T0 + 32n * SECOND,
        attributes_json: JSON.stringify({
          'http.method': 'POST',
          'db.statement': "SELECT 'x'",
          tokens: '1500',
        }),
      };
      const o6 = {
        ...span({ trace: 3, span: 6, service: 'a', start: T0 + 40n * SECOND }),
        parent_span_id: spanId(99),
        name: 'orphan',
        attributes_json: JSON.stringify({ 'http.method': 'GET', text: 'Naïve ✓ "quoted"' }),
      };
      const old = {
        ...span({ trace: 4, span: 7, service: 'a', start: T0 - HOUR }),
        attributes_json: JSON.stringify({ 'http.method': 'GET' }),
      };
      const ids = (hits: SpanSearchHit[]) => hits.map((hit) => Number.parseInt(hit.span.span_id, 16) - 1);
      const find = async (search: Partial<SpanSearch>, limit = 100) =>
        ids(await store.searchSpans({ serviceName: 'a', window, attributes: [], ...search }, { limit }));
      beforeEach(async () => {
        await store.insertBatch({ spans: [r1, c2, c3, r4, c5, o6, old], patches: [] });
      });

      test('without conditions: the service’s spans within the window, newest first, whole rows, each with its trace root', async () => {
        const hits = await store.searchSpans({ serviceName: 'a', window, attributes: [] }, { limit: 100 });
        assert.deepEqual(ids(hits), [6, 5, 3, 2, 1]);
        assert.deepEqual(hits[1]!.span, c5);
        const summary = (root: SpanRow) => ({
          spanId: root.span_id,
          name: root.name,
          serviceName: root.service_name,
          startTime: root.start_time,
          endTime: root.end_time,
        });
        assert.deepEqual(hits[0]!.traceRoot, null, 'the orphan’s root was never stored');
        assert.deepEqual(hits[1]!.traceRoot, summary(r4), 'a root of another service');
        assert.deepEqual(hits[3]!.traceRoot, summary(r1));
        assert.deepEqual(hits[4]!.traceRoot, summary(r1), 'a root is its own trace root');
        assert.deepEqual(await find({ serviceName: 'b' }), [4]);
        assert.deepEqual(await find({ serviceName: 'nobody' }), []);
        assert.deepEqual(await find({ window: { startMicros: T0 - 2n * HOUR, endMicros: T0 - 1n } }), [7]);
        assert.deepEqual(
          await find({ window: { startMicros: T0 + 10n * SECOND, endMicros: T0 + 30n * SECOND } }),
          [5, 3, 2],
          'the window includes both bounds',
        );
        assert.deepEqual(await find({}, 2), [6, 5], 'capped at the limit');
      });

      test('name, span type, errors only and duration bounds', async () => {
        assert.deepEqual(await find({ name: 'call llm' }), [3, 2]);
        assert.deepEqual(await find({ name: 'call' }), [], 'the name matches whole');
        assert.deepEqual(await find({ spanType: 'node' }), [3, 2]);
        assert.deepEqual(await find({ spanType: 'workflow' }), [1]);
        assert.deepEqual(await find({ errorsOnly: true }), [2]);
        assert.deepEqual(await find({ minDurationMicros: 2n * SECOND }), [5, 2]);
        assert.deepEqual(await find({ maxDurationMicros: SECOND }), [6, 3, 1], 'bounds are inclusive');
        assert.deepEqual(await find({ minDurationMicros: 2n * SECOND, maxDurationMicros: 4n * SECOND }), [5]);
      });

      test('attribute filters: equals, not equals, exists, contains, and numeric comparisons', async () => {
        const attr = (...attributes: AttributeFilter[]) => find({ attributes });
        assert.deepEqual(await attr({ key: 'http.method', op: 'equals', value: 'GET' }), [6, 1]);
        assert.deepEqual(await attr({ key: 'http.method', op: 'equals', value: 'get' }), [], 'case counts');
        assert.deepEqual(
          await attr({ key: 'http.method', op: 'not_equals', value: 'GET' }),
          [5],
          'spans without the attribute do not match',
        );
        assert.deepEqual(await attr({ key: 'http.method', op: 'exists' }), [6, 5, 1]);
        assert.deepEqual(await attr({ key: 'note', op: 'exists' }), [3], 'a JSON null is present');
        assert.deepEqual(await attr({ key: 'http', op: 'exists' }), [], 'a key is matched whole');
        assert.deepEqual(await attr({ key: 'llm.model_name', op: 'contains', value: 'GEMINI' }), [2]);
        assert.deepEqual(
          await attr({ key: 'tokens', op: 'equals', value: '1500' }),
          [5, 2],
          'a number matches its JSON text, like a string',
        );
        assert.deepEqual(await attr({ key: 'flag', op: 'equals', value: 'true' }), [2]);
        assert.deepEqual(
          await attr({ key: 'tokens', op: 'greater_than', value: 1000 }),
          [2],
          'numeric comparisons take JSON numbers only',
        );
        assert.deepEqual(await attr({ key: 'tokens', op: 'less_than', value: 1000 }), [3]);
        assert.deepEqual(await attr({ key: 'tokens', op: 'less_than', value: 300 }), []);
        assert.deepEqual(await attr({ key: 'tokens', op: 'between', low: 300, high: 1500 }), [3, 2]);
        assert.deepEqual(
          await attr({ key: 'http.status_code', op: 'between', low: 199.5, high: 200.5 }),
          [1],
        );
        assert.deepEqual(
          await attr({ key: 'http.method', op: 'exists' }, { key: 'user', op: 'contains', value: 'lee' }),
          [1],
          'every filter must hold',
        );
      });

      test('free text: names and attribute values (not keys), ignoring case', async () => {
        assert.deepEqual(await find({ text: 'CHECKOUT' }), [1]);
        assert.deepEqual(await find({ text: 'ann l' }), [1]);
        assert.deepEqual(await find({ text: 'gemini' }), [2]);
        assert.deepEqual(await find({ text: "select 'x'" }), [5]);
        assert.deepEqual(await find({ text: '1500' }), [5, 2]);
        assert.deepEqual(await find({ text: 'NAÏVE ✓ "QUOTED"' }), [6]);
        assert.deepEqual(await find({ text: 'model_name' }), [], 'keys are not searched');
      });

      test('long values (a store may keep only short ones aside) give the same answers', async () => {
        // Around 256 UTF-8 bytes, and far beyond: a prompt-sized value, and a key only long values have.
        const prompt = `Summarise the refund policy. ${'word '.repeat(2000)}THE END`;
        const atCap = 'é'.repeat(128);
        const overCap = 'é'.repeat(129);
        const withAttributes = (n: number, attributes: Record<string, unknown>) => ({
          ...span({ trace: 10, span: n, service: 'long', start: T0 + BigInt(n) * SECOND }),
          attributes_json: JSON.stringify(attributes),
        });
        await store.insertBatch({
          spans: [
            withAttributes(11, { prompt, only_long: prompt }),
            withAttributes(12, { prompt: 'short', text: atCap }),
            withAttributes(13, { text: overCap }),
          ],
          patches: [],
        });
        const inLong = (search: Partial<SpanSearch>) => find({ serviceName: 'long', ...search });
        const attr = (filter: AttributeFilter) => inLong({ attributes: [filter] });
        assert.deepEqual(await attr({ key: 'prompt', op: 'equals', value: prompt }), [11]);
        assert.deepEqual(await attr({ key: 'prompt', op: 'equals', value: `${prompt}!` }), []);
        assert.deepEqual(await attr({ key: 'prompt', op: 'equals', value: 'short' }), [12]);
        assert.deepEqual(await attr({ key: 'prompt', op: 'not_equals', value: 'short' }), [11]);
        assert.deepEqual(await attr({ key: 'prompt', op: 'not_equals', value: prompt }), [12]);
        assert.deepEqual(await attr({ key: 'prompt', op: 'contains', value: 'the END' }), [11]);
        assert.deepEqual(await attr({ key: 'prompt', op: 'contains', value: 'SHORT' }), [12]);
        assert.deepEqual(await attr({ key: 'only_long', op: 'exists' }), [11], 'a key only a long value has');
        assert.deepEqual(await attr({ key: 'only_long', op: 'contains', value: 'refund' }), [11]);
        assert.deepEqual(await attr({ key: 'only_long', op: 'greater_than', value: 0 }), []);
        assert.deepEqual(await attr({ key: 'text', op: 'equals', value: atCap }), [12]);
        assert.deepEqual(await attr({ key: 'text', op: 'equals', value: overCap }), [13]);
        assert.deepEqual(await attr({ key: 'text', op: 'not_equals', value: atCap }), [13]);
        assert.deepEqual(await attr({ key: 'text', op: 'contains', value: 'ÉÉ' }), [13, 12]);
        assert.deepEqual(await inLong({ text: 'the end' }), [11]);
        assert.deepEqual(await inLong({ text: 'refund' }), [11]);
        assert.deepEqual(await inLong({ text: overCap }), [13]);
        assert.deepEqual(await inLong({ text: 'nowhere' }), []);
      });

      test('conditions combine, and hostile values match nothing and harm nothing', async () => {
        const search = {
          spanType: 'node',
          errorsOnly: true,
          attributes: [{ key: 'tokens', op: 'greater_than' as const, value: 100 }],
          text: 'flash',
        };
        assert.deepEqual(await find(search), [2]);
        assert.deepEqual(await find({ ...search, name: 'lookup' }), []);
        for (const hostile of ["'; DROP TABLE spans; --", '"}', '\\', '%', '_', '$.*', "' OR 1=1 --"]) {
          assert.deepEqual(await find({ name: hostile }), [], hostile);
          assert.deepEqual(await find({ text: hostile }), [], hostile);
          assert.deepEqual(await find({ attributes: [{ key: 'user', op: 'equals', value: hostile }] }), []);
          assert.deepEqual(await find({ attributes: [{ key: 'user', op: 'contains', value: hostile }] }), []);
        }
        assert.equal((await store.stats()).spans, 7);
      });

      test('paging visits every hit once, across identical start times', async () => {
        const tied: SpanRow[] = [];
        for (let i = 0; i < 23; i++) {
          tied.push({
            ...span({ trace: 50 + i, span: 50 + i, service: 'c', start: T0 + BigInt(i % 3) * SECOND }),
            attributes_json: JSON.stringify({ n: i }),
          });
        }
        await store.insertBatch({ spans: tied, patches: [] });
        const expected = tied.sort(newestFirst).map((s) => s.span_id);
        // Without conditions, and with an attribute filter every span passes.
        const filters: AttributeFilter[][] = [[], [{ key: 'n', op: 'exists' }]];
        for (const [limit, attributes] of [1, 4, 23].flatMap((n) => filters.map((f) => [n, f] as const))) {
          const seen: string[] = [];
          let before: PageRequest['before'];
          for (;;) {
            const search = { serviceName: 'c', window, attributes };
            const hits = await store.searchSpans(search, before ? { limit, before } : { limit });
            assert.ok(hits.length <= limit);
            seen.push(...hits.map((hit) => hit.span.span_id));
            if (hits.length < limit) break;
            const last = hits.at(-1)!.span;
            before = { startTime: last.start_time, spanId: last.span_id };
          }
          assert.deepEqual(seen, expected, `pages of ${limit}, ${attributes.length} filters`);
        }
        const beforeTime = await store.searchSpans(
          { serviceName: 'c', window, attributes: [] },
          { limit: 100, before: { startTime: T0 + SECOND } },
        );
        assert.equal(beforeTime.length, 8, 'a cursor of a time alone excludes that time');
      });
    });

    describe('workflow run filters', () => {
      // Four runs of service a (ids 1–4), a subflow and a run of service b that no filter may return;
      // the expected ids of every case are worked out by hand from these rows.
      beforeEach(() => store.insertBatch(runFilterFixture()));
      const runs = async (filter: Partial<WorkflowRunFilter>, service = 'a') =>
        (await store.workflowRunPage(service, { ...NO_FILTER, ...filter }, { limit: 100 })).map(idOf);
      const state = (...texts: string[]) => ({ state: texts.map((text) => parseStateCondition(text)) });

      test('by workflow name, and no filter but the service: workflow spans only, newest first', async () => {
        assert.deepEqual(await runs({}), [spanId(4), spanId(3), spanId(2), spanId(1)]);
        assert.deepEqual(await runs({ workflow: 'Triage' }), [spanId(3), spanId(2), spanId(1)]);
        assert.deepEqual(await runs({ workflow: 'triage' }), []);
        assert.deepEqual(await runs({}, 'b'), [spanId(5)]);
      });

      test('by nodes run, not run and failed', async () => {
        assert.deepEqual(await runs({ nodes: ['Classify'] }), [spanId(4), spanId(2), spanId(1)]);
        assert.deepEqual(await runs({ nodes: ['Classify', 'Route'] }), [spanId(1)]);
        assert.deepEqual(await runs({ notNodes: ['Route'] }), [spanId(4), spanId(2)]);
        assert.deepEqual(await runs({ notNodes: ['Route', 'Classify'] }), []);
        assert.deepEqual(await runs({ failedNodes: ['Escalate'] }), [spanId(2)]);
        assert.deepEqual(await runs({ failedNodes: ['Classify'] }), []);
        // Its node span is named Summarize but it is a subflow span, not a node.
        assert.deepEqual(await runs({ nodes: ['Summarize'] }), []);
      });

      test('by duration (bounds inclusive) and start time (from inclusive, to exclusive)', async () => {
        assert.deepEqual(await runs({ minDurationMicros: 3n * SECOND }), [spanId(3), spanId(2)]);
        assert.deepEqual(await runs({ maxDurationMicros: 3n * SECOND }), [spanId(4), spanId(2), spanId(1)]);
        assert.deepEqual(await runs({ minDurationMicros: 2n * SECOND, maxDurationMicros: 4n * SECOND }), [
          spanId(2),
        ]);
        assert.deepEqual(await runs({ fromMicros: T0 + 10n * SECOND, toMicros: T0 + 30n * SECOND }), [
          spanId(3),
          spanId(2),
        ]);
        assert.deepEqual(await runs({ fromMicros: T0 + 31n * SECOND }), []);
      });

      test('by end state: = and != compare JSON type and value', async () => {
        assert.deepEqual(await runs(state('$.intent = "billing"')), [spanId(4), spanId(3), spanId(1)]);
        assert.deepEqual(await runs(state('$.intent != "billing"')), [spanId(2)]);
        assert.deepEqual(await runs(state('$.score = 7')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.score = 7.0')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.score = "7"')), [spanId(3)]);
        assert.deepEqual(await runs(state('$.score != 7')), [spanId(4), spanId(3), spanId(2)]);
        assert.deepEqual(await runs(state('$.flag = true')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.flag = false')), [spanId(2)]);
        assert.deepEqual(await runs(state('$.note = null')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.items[0] = 1')), [spanId(2), spanId(1)]);
        assert.deepEqual(await runs(state('$.nested.deep[1].name = "b"')), [spanId(1)]);
        assert.deepEqual(await runs(state('$["odd key/~\\"quoted\\""] = "x"')), [spanId(1)]);
        assert.deepEqual(await runs(state('$["länge"] = "ü"')), [spanId(2)]);
      });

      test('by end state: <, >, .length, contains and exists', async () => {
        assert.deepEqual(await runs(state('$.score > 5')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.score < 5')), [spanId(4), spanId(2)]);
        assert.deepEqual(await runs(state('$.score > -1')), [spanId(2), spanId(1)]);
        assert.deepEqual(await runs(state('$.items.length > 3')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.items.length = 0')), [spanId(3)]);
        assert.deepEqual(await runs(state('$.text.length = 3')), [spanId(2)]);
        assert.deepEqual(await runs(state('$.items.length != 1')), [spanId(4), spanId(3), spanId(1)]);
        assert.deepEqual(await runs(state('$.tags contains "vip"')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.tags contains "eu"')), [spanId(2), spanId(1)]);
        assert.deepEqual(await runs(state('$.text contains "o w"')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.items contains 4')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.note exists')), [spanId(1)]);
        assert.deepEqual(await runs(state('$.items exists')), [spanId(3), spanId(2), spanId(1)]);
        assert.deepEqual(await runs(state('$.items.length exists')), [spanId(3), spanId(2), spanId(1)]);
      });

      test('by start state, and every condition together', async () => {
        assert.deepEqual(await runs({ stateOf: 'start', ...state('$.intent = "unknown"') }), [spanId(1)]);
        assert.deepEqual(await runs({ stateOf: 'start', ...state('$.intent = "billing"') }), []);
        assert.deepEqual(
          await runs({
            workflow: 'Triage',
            nodes: ['Classify'],
            ...state('$.intent = "billing"', '$.score > 1'),
          }),
          [spanId(1)],
        );
        assert.deepEqual(
          await runs({ notNodes: ['Escalate'], maxDurationMicros: SECOND, ...state('$.intent = "billing"') }),
          [spanId(4), spanId(1)],
        );
      });

      test('paging through a filtered list visits each match once, newest first', async () => {
        const filter = { ...NO_FILTER, ...state('$.intent = "billing"') };
        for (const limit of [1, 2]) {
          assert.deepEqual(await pageThrough((page) => store.workflowRunPage('a', filter, page), limit), [
            spanId(4),
            spanId(3),
            spanId(1),
          ]);
        }
      });

      test('hostile values find nothing and change nothing', async () => {
        for (const hostile of [
          "'; DROP TABLE spans; --",
          'a"b\\c',
          '\u0000',
          '🚀'.repeat(200),
          "' OR '1'='1",
        ]) {
          assert.deepEqual(await runs({ workflow: hostile, nodes: [hostile] }), []);
          assert.deepEqual(await runs(state(`$.intent = ${JSON.stringify(hostile)}`)), []);
          assert.deepEqual(
            await runs(state(`$[${JSON.stringify(hostile.replaceAll('\u0000', ''))}] exists`)),
            [],
          );
        }
        assert.equal((await store.stats()).spans, runFilterFixture().spans.length);
      });
    });

    describe('maintenance', () => {
      test('prepare is idempotent', async () => {
        await store.insertBatch(spansOfOneTrace(1, 'a', T0, 3));
        await store.prepare();
        assert.equal((await store.stats()).spans, 3);
        assert.ok((await store.stats()).bytes > 0);
      });

      test('deleting before a cutoff, step by step, leaves exactly what a store of the kept rows holds', async () => {
        const batches: SpanBatch[] = [];
        for (let t = 0; t < 24; t++) {
          batches.push(spansOfOneTrace(t, t % 2 ? 'a' : 'b', T0 + BigInt(t) * HOUR, 5, t % 3 === 0));
        }
        for (const batch of batches) await store.insertBatch(batch);
        // Traces 0..8 wholly before it; trace 9 (with an LLM span) loses its root and first child.
        const cutoff = T0 + 9n * HOUR + 2n;
        let steps = 0;
        const deleted = { spans: 0, patches: 0 };
        for (let done = false; !done; steps++) {
          const step = await store.deleteStartedBefore(cutoff, 7);
          deleted.spans += step.spans;
          deleted.patches += step.patches;
          done = step.done;
        }
        await store.reclaimSpace();
        const expired = batches.flatMap((b) => b.spans).filter((s) => s.start_time < cutoff);
        assert.equal(deleted.spans, expired.length);
        assert.equal(deleted.patches, expired.length, 'one patch per span goes with it');
        assert.ok(steps >= Math.ceil(expired.length / 7), `${steps} steps of about 7 spans`);
        assert.deepEqual(await store.deleteStartedBefore(cutoff, 7), {
          spans: 0,
          patches: 0,
          logRecords: 0,
          done: true,
        });

        // The reference: a fresh store given only the rows that were kept.
        const kept = batches.map((b) => ({
          spans: b.spans.filter((s) => s.start_time >= cutoff),
          patches: b.patches.filter((p) => p.event_time >= cutoff),
        }));
        const reference = await open();
        try {
          for (const batch of kept) await reference.store.insertBatch(batch);
          await assertSameContents(store, reference.store);
        } finally {
          await reference.dispose();
        }
      });
    });
  });
}

/** Everything the reader serves, compared between two stores. */
async function assertSameContents(actual: SpanStore, expected: SpanStore): Promise<void> {
  assert.deepEqual(await actual.services(), await expected.services());
  for (const service of await expected.serviceNames()) {
    for (const llmOnly of [false, true]) {
      const page = (store: SpanStore) => (p: PageRequest) => store.rootSpanPage(service, p, { llmOnly });
      assert.deepEqual(await pageThrough(page(actual), 3), await pageThrough(page(expected), 3));
    }
    const workflows = (store: SpanStore) => (p: PageRequest) => store.workflowSpanPage(service, p);
    assert.deepEqual(await pageThrough(workflows(actual), 3), await pageThrough(workflows(expected), 3));
  }
  assert.deepEqual((await actual.stats()).spans, (await expected.stats()).spans);
}

/** Every span id of a list, read `limit` at a time with the keyset cursor. */
async function pageThrough(
  read: (page: PageRequest) => Promise<Uint8Array[]>,
  limit: number,
): Promise<string[]> {
  const ids: string[] = [];
  let before: PageRequest['before'];
  for (;;) {
    const page = (await read(before ? { limit, before } : { limit })).map(
      (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8')) as { span_id: string; start_time: string },
    );
    assert.ok(page.length <= limit, 'a page never exceeds its limit');
    for (const span of page) ids.push(span.span_id);
    if (page.length < limit) return ids;
    const last = page.at(-1)!;
    before = { startTime: parseTimestamp(last.start_time)!, spanId: last.span_id };
  }
}

const idOf = (bytes: Uint8Array): string =>
  (JSON.parse(Buffer.from(bytes).toString('utf8')) as { span_id: string }).span_id;

/** A compact span with its JSON text parsed, to compare meaning rather than spelling. */
function parsedCompact(c: CompactSpanRow) {
  const { state_events_json, junjo_attributes_json, ...rest } = c;
  return {
    ...rest,
    state_events: JSON.parse(state_events_json) as unknown,
    junjo_attributes: JSON.parse(junjo_attributes_json) as Record<string, unknown>,
  };
}

/** A waterfall trace's JSON text parsed (it must be there). */
function parsedWaterfall(json: string | null): Array<Record<string, unknown>> {
  assert.ok(json !== null, 'the trace is known');
  return JSON.parse(json) as Array<Record<string, unknown>>;
}

function newestFirst(a: SpanRow, b: SpanRow): number {
  if (a.start_time !== b.start_time) return a.start_time > b.start_time ? -1 : 1;
  return a.span_id > b.span_id ? -1 : 1;
}

const traceId = (n: number) => (n + 1).toString(16).padStart(32, '0');
const spanId = (n: number) => (n + 1).toString(16).padStart(16, '0');

interface SpanFields {
  trace: number;
  span: number;
  parent?: SpanRow;
  service: string;
  start: bigint;
  type?: string;
  attributes?: Record<string, unknown>;
}

function span(f: SpanFields): SpanRow {
  const owner = f.type === 'workflow' || f.type === 'subflow';
  return {
    trace_id: traceId(f.trace),
    span_id: spanId(f.span),
    parent_span_id: f.parent?.span_id ?? null,
    service_name: f.service,
    name: `span ${f.span}`,
    kind: 'INTERNAL',
    start_time: f.start,
    end_time: f.start + SECOND,
    status_code: 'STATUS_CODE_UNSET',
    status_message: '',
    attributes_json: JSON.stringify(f.attributes ?? {}),
    events_json: '[]',
    links_json: '[]',
    trace_flags: 1,
    trace_state: null,
    junjo_id: `id_${f.span}`,
    junjo_parent_id: '',
    junjo_span_type: f.type ?? '',
    junjo_wf_state_start: owner ? '{"count":0}' : '{}',
    junjo_wf_state_end: owner ? '{"count":1}' : '{}',
    junjo_wf_graph_structure: owner ? '{"v":1,"nodes":[],"edges":[]}' : '{}',
    junjo_wf_store_id: owner ? `store_${f.span}` : '',
  };
}

function patch(id: number, of: SpanRow, at: bigint): StatePatchRow {
  return {
    patch_id: `patch-${id}`,
    service_name: of.service_name,
    trace_id: of.trace_id,
    span_id: of.span_id,
    workflow_id: '',
    node_id: of.junjo_id,
    event_time: at,
    patch_json: '[{"op":"replace","path":"/count","value":1}]',
    patch_store_id: of.junjo_wf_store_id,
  };
}

/** A log record of `of` at `at`, every column set (body and attributes as JSON text). */
function logRecord(n: number, of: SpanRow, at: bigint, eventName: string): LogRecordRow {
  return {
    log_id: `log-${n}`,
    trace_id: of.trace_id,
    span_id: of.span_id,
    service_name: of.service_name,
    time: at,
    observed_time: at + 5n,
    sequence: n,
    severity_number: 9,
    severity_text: 'INFO',
    event_name: eventName,
    body_json: `{"content":"message ${n} ✓","role":"user"}`,
    attributes_json: '{"gen_ai.system":"openai"}',
  };
}

/**
 * A workflow root and `count - 1` children in one trace, one patch per span at its start; the last
 * child is an LLM span when `llm`.
 */
function spansOfOneTrace(
  trace: number,
  service: string,
  start: bigint,
  count: number,
  llm = false,
): SpanBatch {
  const root = span({ trace, span: trace * 10_000, service, start, type: 'workflow' });
  const spans = [root];
  for (let i = 1; i < count; i++) {
    const child = span({ trace, span: trace * 10_000 + i, parent: root, service, start: start + BigInt(i) });
    if (llm && i === count - 1) child.attributes_json = JSON.stringify({ 'gen_ai.provider.name': 'openai' });
    spans.push(child);
  }
  return {
    spans,
    patches: spans.map((s, i) => patch(trace * 10_000 + i, s, s.start_time)),
  };
}

const NO_FILTER: WorkflowRunFilter = { nodes: [], notNodes: [], failedNodes: [], stateOf: 'end', state: [] };

/** The runs the workflow-run filter tests ask about: see the comment in that describe block. */
function runFilterFixture(): SpanBatch {
  const spans: SpanRow[] = [];
  const run = (
    n: number,
    f: { name: string; service?: string; startS: number; seconds: number; start?: unknown; end: unknown },
  ) => {
    const workflow = {
      ...span({
        trace: n,
        span: n,
        service: f.service ?? 'a',
        start: T0 + BigInt(f.startS) * SECOND,
        type: 'workflow',
      }),
      name: f.name,
      junjo_wf_state_start: JSON.stringify(f.start ?? {}),
      junjo_wf_state_end: JSON.stringify(f.end),
    };
    workflow.end_time = workflow.start_time + BigInt(f.seconds) * SECOND;
    spans.push(workflow);
    return workflow;
  };
  const node = (n: number, of: SpanRow, name: string, failed = false, type = 'node') => {
    const child = {
      ...span({ trace: 0, span: n, parent: of, service: of.service_name, start: of.start_time, type }),
      name,
    };
    child.trace_id = of.trace_id;
    if (failed) child.status_code = 'STATUS_CODE_ERROR';
    spans.push(child);
  };
  const r1 = run(1, {
    name: 'Triage',
    startS: 0,
    seconds: 1,
    start: { intent: 'unknown' },
    end: {
      intent: 'billing',
      items: [1, 2, 3, 4],
      score: 7,
      flag: true,
      note: null,
      tags: ['vip', 'eu'],
      text: 'hello world',
      nested: { deep: [{ name: 'a' }, { name: 'b' }] },
      'odd key/~"quoted"': 'x',
    },
  });
  node(101, r1, 'Classify');
  node(102, r1, 'Route');
  const summary = {
    ...span({ trace: 1, span: 103, parent: r1, service: 'a', start: T0, type: 'subflow' }),
    name: 'Summarize',
  };
  summary.trace_id = r1.trace_id;
  summary.junjo_wf_state_end = JSON.stringify({ intent: 'support' });
  spans.push(summary);
  const r2 = run(2, {
    name: 'Triage',
    startS: 10,
    seconds: 3,
    end: { intent: 'support', items: [1], score: 2.5, flag: false, tags: ['eu'], text: 'bye', länge: 'ü' },
  });
  node(201, r2, 'Classify');
  node(202, r2, 'Escalate', true);
  const r3 = run(3, {
    name: 'Triage',
    startS: 20,
    seconds: 5,
    end: { intent: 'billing', items: [], score: '7' },
  });
  node(301, r3, 'Route');
  const r4 = run(4, { name: 'Other', startS: 30, seconds: 1, end: { intent: 'billing', score: -3 } });
  node(401, r4, 'Classify');
  const r5 = run(5, { name: 'Triage', service: 'b', startS: 0, seconds: 1, end: { intent: 'billing' } });
  node(501, r5, 'Classify');
  return { spans, patches: [] };
}
