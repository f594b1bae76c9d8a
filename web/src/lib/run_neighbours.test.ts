import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from '../api/endpoints.ts';
import type { SpanSummary } from '../api/types.ts';
import { MAX_PAGES, NEIGHBOUR_PAGE, nextRun, previousRun } from './run_neighbours.ts';
import { formatTimestampMicros, parseTimestampMicros } from './time.ts';

const T0 = Date.UTC(2026, 0, 1) * 1000;

function run(name: string, offsetMicros: number, spanId: string): SpanSummary {
  return {
    name,
    service_name: 'svc',
    start_time: formatTimestampMicros(T0 + offsetMicros),
    span_id: spanId,
  } as SpanSummary;
}

/** The server's list semantics (api.md §7): newest first, `before` strict, `before_span_id` keyset. */
function list(runs: SpanSummary[]) {
  const sorted = [...runs].sort(
    (a, b) =>
      parseTimestampMicros(b.start_time) - parseTimestampMicros(a.start_time) ||
      (a.span_id < b.span_id ? 1 : -1),
  );
  const requests: Page[] = [];
  const fetchPage = async (page: Page) => {
    requests.push(page);
    const cursor = page.after;
    const rows = cursor
      ? sorted.filter((s) => {
          const a = parseTimestampMicros(s.start_time);
          const b = parseTimestampMicros(cursor.start_time);
          return a < b || (a === b && cursor.span_id !== undefined && s.span_id < cursor.span_id);
        })
      : sorted;
    return rows.slice(0, page.limit);
  };
  return { fetchPage, requests };
}

const MINUTE = 60_000_000;
const NOW = T0 + 365 * 24 * 60 * MINUTE;

test('neighbours are the nearest runs of the same workflow by start time, skipping other workflows', async () => {
  const runs = [
    run('chat', 0, '0000000000000001'),
    run('summary', 1, '0000000000000002'),
    run('chat', 5 * MINUTE, '0000000000000003'),
    run('summary', 6 * MINUTE, '0000000000000004'),
    run('chat', 90 * MINUTE, '0000000000000005'),
  ];
  const { fetchPage } = list(runs);
  const middle = runs[2]!;
  assert.equal((await previousRun(middle, fetchPage))?.span_id, '0000000000000001');
  assert.equal((await nextRun(middle, fetchPage, NOW))?.span_id, '0000000000000005');
  assert.equal(await previousRun(runs[0]!, fetchPage), null, 'the first run has no previous');
  assert.equal(await nextRun(runs[4]!, fetchPage, NOW), null, 'the last run has no next');
  assert.equal((await nextRun(runs[1]!, fetchPage, NOW))?.span_id, '0000000000000004');
});

test('runs starting in the same microsecond are ordered by span id, like the list', async () => {
  const runs = ['a', 'b', 'c'].map((id) => run('chat', 0, `000000000000000${id}`));
  const { fetchPage } = list(runs);
  assert.equal((await nextRun(runs[1]!, fetchPage, NOW))?.span_id, '000000000000000c');
  assert.equal((await previousRun(runs[1]!, fetchPage))?.span_id, '000000000000000a');
  // a run exactly at the end of a search window is not skipped
  const edge = [run('chat', 0, '0000000000000001'), run('chat', MINUTE, '0000000000000002')];
  assert.equal((await nextRun(edge[0]!, list(edge).fetchPage, NOW))?.span_id, '0000000000000002');
});

test('many runs of other workflows in between are paged through', async () => {
  const others = Array.from({ length: NEIGHBOUR_PAGE * 3 }, (_, i) =>
    run('other', (i + 1) * 1000, i.toString(16).padStart(16, '0')),
  );
  const first = run('chat', 0, 'f000000000000001');
  const last = run('chat', 10 * MINUTE, 'f000000000000002');
  const { fetchPage, requests } = list([first, ...others, last]);
  assert.equal((await previousRun(last, fetchPage))?.span_id, first.span_id);
  assert.ok(requests.every((r) => r.limit === NEIGHBOUR_PAGE));
  assert.equal((await nextRun(first, fetchPage, NOW))?.span_id, last.span_id);
});

test('a run far in the future is found through growing windows; the newest run needs no window', async () => {
  const runs = [run('chat', 0, '0000000000000001'), run('chat', 200 * 24 * 60 * MINUTE, '0000000000000002')];
  const { fetchPage, requests } = list(runs);
  assert.equal((await nextRun(runs[0]!, fetchPage, NOW))?.span_id, '0000000000000002');
  assert.ok(requests.length < 12, `${requests.length} requests`);
  assert.equal(requests.at(-1)!.after, undefined, 'the last window is open-ended: the newest runs');
});

test('the search gives up after a bounded number of pages', async () => {
  const others = Array.from({ length: NEIGHBOUR_PAGE * (MAX_PAGES + 2) }, (_, i) =>
    run('other', -(i + 1), i.toString(16).padStart(16, '0')),
  );
  const current = run('chat', 0, 'f000000000000001');
  const far = run('chat', -10 * MINUTE, 'f000000000000002');
  const { fetchPage, requests } = list([current, far, ...others]);
  assert.equal(await previousRun(current, fetchPage), null);
  assert.equal(requests.length, MAX_PAGES);
});
