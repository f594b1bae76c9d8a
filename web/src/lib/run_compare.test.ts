import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompactSpan } from '../api/types.ts';
import { makeCompactSpan, setStateEvent } from './fixtures.ts';
import {
  alignSteps,
  compareNodes,
  differingGraphNodes,
  firstDivergence,
  formatRunRefs,
  parseRunRefs,
  stepViews,
} from './run_compare.ts';
import { buildWorkflowRun } from './workflow_run.ts';

const T = 'a'.repeat(32);
const S = 'b'.repeat(16);
const U = 'c'.repeat(16);

test('run references: 2 to 4 distinct trace:span pairs, or null', () => {
  assert.deepEqual(parseRunRefs(`${T}:${S},${T}:${U}`), [
    { traceId: T, spanId: S },
    { traceId: T, spanId: U },
  ]);
  assert.equal(formatRunRefs(parseRunRefs(`${T.toUpperCase()}:${S},${T}:${U}`)!), `${T}:${S},${T}:${U}`);
  for (const bad of [
    null,
    '',
    `${T}:${S}`,
    `${T}:${S},${T}:${S}`,
    `${T}:${S},x:y`,
    `${T}:${S},${T}:${U},,`,
  ]) {
    assert.equal(parseRunRefs(bad), null, String(bad));
  }
  assert.equal(
    parseRunRefs(Array.from({ length: 5 }, (_, i) => `${T}:${String(i).repeat(16)}`).join(',')),
    null,
  );
});

const v = (node: string, change = node) => ({ node, change });

test('steps align by node and occurrence; a missing or different step diverges', () => {
  const a = [v('Start'), v('Classify', 'billing'), v('Route'), v('Route', 'again')];
  const b = [v('Start'), v('Classify', 'support'), v('Escalate'), v('Route')];
  const rows = alignSteps([a, b]);
  assert.deepEqual(
    rows.map((r) => [r.node, r.occurrence, r.steps, r.diverges]),
    [
      ['Start', 1, [0, 0], false],
      ['Classify', 1, [1, 1], true],
      ['Escalate', 1, [null, 2], true],
      ['Route', 1, [2, 3], false],
      ['Route', 2, [3, null], true],
    ],
  );
  assert.equal(firstDivergence(rows), 1);
});

test('identical runs have no divergence; three runs share one row per step', () => {
  const steps = [v('A'), v('B')];
  assert.equal(firstDivergence(alignSteps([steps, steps])), -1);
  const rows = alignSteps([steps, steps, [v('A'), v('C'), v('B')]]);
  assert.deepEqual(
    rows.map((r) => [r.node, r.steps]),
    [
      ['A', [0, 0, 0]],
      ['C', [null, null, 1]],
      ['B', [1, 1, 2]],
    ],
  );
  assert.equal(firstDivergence(rows), 1);
  assert.deepEqual(alignSteps([[], []]), []);
});

const STORE = 'store';
const graph = {
  v: 1,
  nodes: [
    { id: 'n-classify', type: 'Classify', label: 'Classify' },
    { id: 'n-escalate', type: 'Escalate', label: 'Escalate' },
  ],
  edges: [],
};

/** A run whose Classify node sets the intent and, when `escalate`, an Escalate node that fails. */
function run(intent: string, escalate: boolean): CompactSpan[] {
  const spans = [
    makeCompactSpan({
      span_id: 'wf',
      name: 'Triage',
      junjo_span_type: 'workflow',
      junjo_wf_store_id: STORE,
      junjo_wf_state_start: {},
      junjo_wf_state_end: { intent },
      junjo_wf_graph_structure: graph,
      startUs: 0,
      endUs: 10_000,
    }),
    makeCompactSpan({
      span_id: 'classify',
      parent_span_id: 'wf',
      name: 'Classify',
      junjo_span_type: 'node',
      junjo_id: 'n-classify',
      startUs: 100,
      endUs: escalate ? 2100 : 1100,
      events_json: [
        setStateEvent({
          atUs: 200,
          storeId: STORE,
          patch: JSON.stringify([{ op: 'add', path: '/intent', value: intent }]),
        }),
      ],
    }),
  ];
  if (escalate) {
    spans.push(
      makeCompactSpan({
        span_id: 'escalate',
        parent_span_id: 'wf',
        name: 'Escalate',
        junjo_span_type: 'node',
        junjo_id: 'n-escalate',
        status_code: 'STATUS_CODE_ERROR',
        startUs: 3000,
        endUs: 3500,
      }),
    );
  }
  return spans;
}

test('nodes compared by name: durations per run, and the nodes that ran in only some runs', () => {
  const runs = [
    buildWorkflowRun(run('billing', false), 'wf')!,
    buildWorkflowRun(run('support', true), 'wf')!,
  ];
  const nodes = compareNodes(runs);
  assert.deepEqual(nodes, [
    {
      name: 'Classify',
      runs: [
        { count: 1, micros: 1000, failed: false },
        { count: 1, micros: 2000, failed: false },
      ],
      ranInSome: false,
    },
    { name: 'Escalate', runs: [null, { count: 1, micros: 500, failed: true }], ranInSome: true },
  ]);
  assert.deepEqual(
    differingGraphNodes(runs, nodes).map((ids) => [...ids]),
    [['n-escalate'], ['n-escalate']],
  );
  const rows = alignSteps(runs.map(stepViews));
  assert.deepEqual(
    rows.map((r) => [r.node, r.diverges]),
    [['Classify', true]],
  );
});
