import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeSpan } from './fixtures.ts';
import { ancestorIds, buildSpanTree, subtreeSpans, visibleRows } from './span_tree.ts';
import { barGeometry, timeTicks } from './waterfall.ts';

const trace = [
  // the API returns spans newest first; the tree must not care
  makeSpan({
    span_id: 'c2',
    parent_span_id: 'b',
    startUs: 300,
    endUs: 400,
    status_code: 'STATUS_CODE_ERROR',
  }),
  makeSpan({ span_id: 'c1', parent_span_id: 'b', startUs: 200, endUs: 250 }),
  makeSpan({ span_id: 'b', parent_span_id: 'a', startUs: 100, endUs: 500 }),
  makeSpan({ span_id: 'a', startUs: 0, endUs: 1000 }),
  makeSpan({ span_id: 'late', parent_span_id: 'missing-parent', startUs: 50, endUs: 60 }),
];

test('children hang under parents, sorted by start; a span with an absent parent is a root', () => {
  const tree = buildSpanTree(trace);
  assert.deepEqual(
    tree.roots.map((r) => r.id),
    ['a', 'late'],
  );
  assert.deepEqual(
    visibleRows(tree, new Set()).map((n) => [n.id, n.depth]),
    [
      ['a', 0],
      ['b', 1],
      ['c1', 2],
      ['c2', 2],
      ['late', 0],
    ],
  );
  assert.equal(tree.start, Date.UTC(2025, 9, 12, 17) * 1000);
  assert.equal(tree.end - tree.start, 1000);
});

test('errors roll up to ancestors and descendant counts are kept', () => {
  const tree = buildSpanTree(trace);
  assert.equal(tree.byId.get('a')!.errorInSubtree, true);
  assert.equal(tree.byId.get('a')!.error, false);
  assert.equal(tree.byId.get('c1')!.errorInSubtree, false);
  assert.equal(tree.byId.get('a')!.descendantCount, 3);
});

test('collapsing a span hides its descendants only', () => {
  const tree = buildSpanTree(trace);
  assert.deepEqual(
    visibleRows(tree, new Set(['b'])).map((n) => n.id),
    ['a', 'b', 'late'],
  );
  assert.deepEqual(ancestorIds(tree.byId.get('c2')!), ['b', 'a']);
  assert.deepEqual(
    subtreeSpans(tree, 'b').map((s) => s.span_id),
    ['b', 'c1', 'c2'],
  );
});

test('parent cycles and duplicate span ids do not hang or lose spans', () => {
  const tree = buildSpanTree([
    makeSpan({ span_id: 'x', parent_span_id: 'y' }),
    makeSpan({ span_id: 'y', parent_span_id: 'x' }),
    makeSpan({ span_id: 'self', parent_span_id: 'self' }),
    makeSpan({ span_id: 'self', parent_span_id: null }),
  ]);
  assert.equal(visibleRows(tree, new Set()).length, 3);
});

test('a 10,000-span trace and a 10,000-deep chain build quickly', () => {
  const wide = [makeSpan({ span_id: 'root', startUs: 0, endUs: 10_000_000 })];
  for (let i = 0; i < 10_000; i++) {
    wide.push(
      makeSpan({
        span_id: `s${i}`,
        parent_span_id: `s${Math.floor(i / 10) - 1}`.replace('s-1', 'root'),
        startUs: i,
        endUs: i + 5,
      }),
    );
  }
  const deep = Array.from({ length: 10_000 }, (_, i) =>
    makeSpan({ span_id: `d${i}`, parent_span_id: i === 0 ? null : `d${i - 1}`, startUs: i }),
  );
  const started = performance.now();
  assert.equal(visibleRows(buildSpanTree(wide), new Set()).length, 10_001);
  const chain = buildSpanTree(deep);
  assert.equal(chain.byId.get('d9999')!.depth, 9999);
  assert.ok(performance.now() - started < 3000, 'linear time (a quadratic build takes minutes)');
});

test('bars are placed to scale and never vanish', () => {
  assert.deepEqual(barGeometry(250, 750, 0, 1000), { leftPct: 25, widthPct: 50 });
  const instant = barGeometry(1000, 1000, 0, 1000);
  assert.ok(instant.widthPct > 0 && instant.leftPct + instant.widthPct <= 100);
  assert.deepEqual(barGeometry(5, 5, 5, 5), { leftPct: 0, widthPct: 0.25 });
});

test('ruler ticks fall on round durations', () => {
  assert.deepEqual(
    timeTicks(1_000_000).map((t) => t.label),
    ['0', '200 ms', '400 ms', '600 ms', '800 ms', '1 s'],
  );
  assert.equal(timeTicks(0).length, 1);
});
