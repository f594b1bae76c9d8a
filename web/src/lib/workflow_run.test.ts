import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCompactSpan, setStateEvent } from './fixtures.ts';
import { buildWorkflowRun, graphNodeOf } from './workflow_run.ts';

const STORE = 'store-1';
const graph = {
  v: 1,
  nodes: [
    { id: 'inc', type: 'IncrementNode', label: 'IncrementNode' },
    { id: 'llm', type: 'AskModel', label: 'AskModel' },
  ],
  edges: [{ id: 'e', source: 'inc', target: 'llm', condition: null, type: 'explicit', subflowId: null }],
};

const trace = [
  makeCompactSpan({ span_id: 'http', name: 'POST /chat', startUs: 0, endUs: 2000 }),
  makeCompactSpan({
    span_id: 'wf',
    parent_span_id: 'http',
    junjo_span_type: 'workflow',
    junjo_id: 'wf-def',
    junjo_wf_store_id: STORE,
    junjo_wf_state_start: { n: 0 },
    junjo_wf_state_end: { n: 2 },
    junjo_wf_graph_structure: graph,
    startUs: 10,
    endUs: 1900,
  }),
  makeCompactSpan({
    span_id: 'inc1',
    parent_span_id: 'wf',
    junjo_span_type: 'node',
    junjo_id: 'inc',
    startUs: 20,
    events_json: [
      setStateEvent({ atUs: 30, storeId: STORE, patch: '[{"op":"replace","path":"/n","value":1}]' }),
    ],
  }),
  makeCompactSpan({
    span_id: 'inc2',
    parent_span_id: 'wf',
    junjo_span_type: 'node',
    junjo_id: 'inc',
    startUs: 40,
    status_code: 'STATUS_CODE_ERROR',
    events_json: [
      setStateEvent({ atUs: 50, storeId: STORE, patch: '[{"op":"replace","path":"/n","value":2}]' }),
    ],
  }),
  makeCompactSpan({ span_id: 'model', parent_span_id: 'inc2', name: 'gemini.generate', startUs: 45 }),
  makeCompactSpan({ span_id: 'other-wf', junjo_span_type: 'workflow', startUs: 5000 }),
];

test('a run covers its workflow span subtree only, with executions per graph node', () => {
  const run = buildWorkflowRun(trace, 'wf')!;
  assert.deepEqual(
    run.spans.map((s) => s.span_id),
    ['wf', 'inc1', 'inc2', 'model'],
  );
  assert.equal(run.graph.ok, true);
  assert.deepEqual(
    run.executions.get('inc')!.spans.map((s) => s.span_id),
    ['inc1', 'inc2'],
  );
  assert.equal(run.executions.get('inc')!.failed, true);
  assert.equal(run.executions.has('llm'), false);
  assert.deepEqual(
    run.errorSpans.map((s) => s.span_id),
    ['inc2'],
  );
  assert.equal(run.replay.stores.get(STORE)!.matchesEnd, true);
  assert.deepEqual(run.stepsBySpan.get('inc2'), [1]);
});

test('a span inside a node maps to that node; the workflow span and unknown runs map to nothing', () => {
  const run = buildWorkflowRun(trace, 'wf')!;
  assert.equal(graphNodeOf(run, 'model'), 'inc');
  assert.equal(graphNodeOf(run, 'inc1'), 'inc');
  assert.equal(graphNodeOf(run, 'wf'), null);
  assert.equal(buildWorkflowRun(trace, 'nope'), null);
});
