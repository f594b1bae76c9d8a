// The run filter's slices (run_slices.ts), the same on every store: the fixture has 3,000 runs over
// 30 hours, so a sparse filter's page is gathered over several slices.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SpanRow } from './rows.ts';
import type { PageRequest, SpanStore } from './span_store.ts';
import { testSpanRow } from './test_span_row.ts';
import { parseStateCondition, type WorkflowRunFilter } from './workflow_run_filter.ts';

const HOUR = 3_600_000_000n;
const T0 = 1_780_000_000_000_000n - (1_780_000_000_000_000n % HOUR);
const RUNS = 3000;
const RUN_EVERY = 36_000_000n; // 100 runs an hour: 30 hours, many slices for a sparse filter
const NO_FILTER: WorkflowRunFilter = { nodes: [], notNodes: [], failedNodes: [], stateOf: 'end', state: [] };

interface Run {
  spanId: string;
  start: bigint;
  status: string;
  checked: boolean;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Run i: status "rare" every 97th run, written with escapes every 89th, else "common". */
function fixture(): { rows: SpanRow[]; runs: Run[] } {
  const rows: SpanRow[] = [];
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = T0 + BigInt(i) * RUN_EVERY;
    const escaped = i % 89 === 0;
    const status = i % 97 === 0 || escaped ? 'rare' : 'common';
    const stateEnd = escaped ? `{"st\\u0061tus":"r\\u0061re","n":${i}}` : JSON.stringify({ status, n: i });
    const run = testSpanRow({
      trace_id: hex(i + 1, 32),
      span_id: hex(i + 1, 16),
      service_name: 'svc',
      name: 'flow',
      start_time: start,
      junjo_id: `wf_${i}`,
      junjo_span_type: 'workflow',
      junjo_wf_state_end: stateEnd,
      junjo_wf_store_id: `store_${i}`,
    });
    rows.push(run);
    const checked = i % 50 === 0;
    if (checked) {
      rows.push({
        ...run,
        span_id: hex(1_000_000 + i, 16),
        parent_span_id: run.span_id,
        name: 'Check',
        junjo_id: `node_${i}`,
        junjo_span_type: 'node',
        junjo_wf_state_end: '{}',
      });
    }
    runs.push({ spanId: run.span_id, start, status, checked });
  }
  return { rows, runs };
}

/**
 * The run filter's slices on one store (`open` gives an empty, prepared store and a way to close
 * it): a page gathered over several slices is the same as the newest matches of the whole range,
 * and a store's pre-tests on the state text never drop a document that writes a key or value with
 * escapes.
 */
export function runRunFilterSliceContract(
  name: string,
  open: () => Promise<{ store: SpanStore; close: () => Promise<void> }>,
): void {
  let opened: { store: SpanStore; close: () => Promise<void> };
  let runs: Run[];

  before(async () => {
    opened = await open();
    const built = fixture();
    runs = built.runs;
    await opened.store.insertBatch({ spans: built.rows, patches: [] });
  });
  after(async () => {
    await opened.close();
  });

  /** Every page of the filter with `limit`, following the cursor: the span ids in order. */
  async function pageThrough(filter: WorkflowRunFilter, limit: number): Promise<string[]> {
    const ids: string[] = [];
    const startOf = new Map(runs.map((r) => [r.spanId, r.start]));
    let page: PageRequest = { limit };
    for (;;) {
      const found = (await opened.store.workflowRunPage('svc', filter, page)).map(
        (bytes) => (JSON.parse(Buffer.from(bytes).toString('utf8')) as { span_id: string }).span_id,
      );
      ids.push(...found);
      if (found.length < limit) return ids;
      const last = found.at(-1)!;
      page = { limit, before: { startTime: startOf.get(last)!, spanId: last } };
    }
  }

  const newestFirst = (matching: (run: Run) => boolean) =>
    runs
      .filter(matching)
      .map((r) => r.spanId)
      .reverse();

  describe(`${name}: workflow run pages gathered over slices`, () => {
    test('a sparse state filter finds every match, escaped documents included, newest first', async () => {
      const filter = { ...NO_FILTER, state: [parseStateCondition('$.status = "rare"')] };
      const expected = newestFirst((r) => r.status === 'rare');
      assert.ok(expected.length > 50, 'the fixture has matches in many hours');
      assert.deepEqual(await pageThrough(filter, 1000), expected);
      assert.deepEqual(await pageThrough(filter, 7), expected);
      const contains = { ...NO_FILTER, state: [parseStateCondition('$.status contains "ar"')] };
      assert.deepEqual(await pageThrough(contains, 5), expected);
      const other = { ...NO_FILTER, state: [parseStateCondition('$.status != "rare"')] };
      assert.deepEqual(
        await pageThrough(other, 500),
        newestFirst((r) => r.status !== 'rare'),
      );
    });

    test('node conditions, and from/to inside an hour, page the same as the whole range', async () => {
      const from = T0 + 3n * HOUR + 1234n;
      const to = T0 + 25n * HOUR + 99n;
      const inRange = (r: Run) => r.start >= from && r.start < to;
      const nodes = { ...NO_FILTER, nodes: ['Check'], fromMicros: from, toMicros: to };
      assert.deepEqual(
        await pageThrough(nodes, 3),
        newestFirst((r) => r.checked && inRange(r)),
      );
      const notNodes = { ...NO_FILTER, notNodes: ['Check'], fromMicros: from, toMicros: to };
      assert.deepEqual(
        await pageThrough(notNodes, 400),
        newestFirst((r) => !r.checked && inRange(r)),
      );
      const none = { ...NO_FILTER, state: [parseStateCondition('$.status = "never"')] };
      assert.deepEqual(await pageThrough(none, 50), []);
    });
  });
}
