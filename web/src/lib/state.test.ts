import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCompactSpan, nanosAt, setStateEvent } from './fixtures.ts';
import { CHECKPOINT_EVERY, orderEvents, parsePatch, replayState } from './state.ts';

const STORE = 'stK9l8M7n6O5p4Q3r2S1t';

function workflow(fields: { start: unknown; end?: unknown; storeId?: string }) {
  return makeCompactSpan({
    span_id: 'wf',
    name: 'sample_workflow',
    junjo_span_type: 'workflow',
    junjo_id: 'wfA1b2C3d4E5f6G7h8I9j',
    junjo_wf_store_id: fields.storeId ?? STORE,
    junjo_wf_state_start: fields.start,
    junjo_wf_state_end: fields.end ?? {},
    endUs: 900_000,
  });
}

function node(spanId: string, events: ReturnType<typeof setStateEvent>[]) {
  return makeCompactSpan({
    span_id: spanId,
    parent_span_id: 'wf',
    junjo_span_type: 'node',
    events_json: events,
  });
}

test('the telemetry spec example replays to its reported end state, with "{}" as a no-op', () => {
  const replay = replayState([
    workflow({ start: { count: 0, items: ['a', 'b'] }, end: { count: 11, items: ['a', 'b'] } }),
    node('inc', [
      setStateEvent({ atUs: 50_000, storeId: STORE, patch: '[{"op":"replace","path":"/count","value":1}]' }),
    ]),
    node('even', [setStateEvent({ atUs: 310_000, storeId: STORE, patch: '{}', action: 'set_path_taken' })]),
    node('add', [
      setStateEvent({
        atUs: 300_000,
        storeId: STORE,
        patch: '[{"op":"replace","path":"/count","value":11}]',
      }),
    ]),
  ]);
  assert.deepEqual(
    replay.steps.map((s) => [s.event.spanId, s.noop]),
    [
      ['inc', false],
      ['add', false],
      ['even', true],
    ],
    'steps follow event time, not span order',
  );
  assert.deepEqual(replay.snapshot(0).before, { count: 0, items: ['a', 'b'] });
  assert.deepEqual(replay.snapshot(1).after, { count: 11, items: ['a', 'b'] });
  assert.equal(replay.snapshot(2).before, replay.snapshot(2).after, 'a no-op leaves the state as it was');
  const store = replay.stores.get(STORE)!;
  assert.equal(store.matchesEnd, true);
  assert.equal(store.info.name, 'SampleWorkflowStore');
  assert.equal(store.stepCount, 3);
});

test('"[]" (contract 2) and "{}" (legacy) are no-ops; other non-arrays are reported, not applied', () => {
  assert.deepEqual(parsePatch('[]'), { ok: true, ops: [], noop: true });
  assert.deepEqual(parsePatch('{}'), { ok: true, ops: [], noop: true });
  assert.equal(parsePatch('{"op":"add"}').ok, false);
  assert.equal(parsePatch('not json').ok, false);
  assert.equal(parsePatch(undefined).ok, false);
  assert.equal(parsePatch('[{"path":"/a"}]').ok, false, 'an operation needs `op`');
  assert.deepEqual(parsePatch([{ op: 'remove', path: '/a' }]), {
    ok: true,
    ops: [{ op: 'remove', path: '/a' }],
    noop: false,
  });
});

test('before and after snapshots are independent: later steps never change earlier ones', () => {
  const replay = replayState([
    workflow({ start: { list: [1] } }),
    node('n', [
      setStateEvent({ atUs: 1, storeId: STORE, patch: '[{"op":"add","path":"/list/-","value":2}]' }),
      setStateEvent({ atUs: 2, storeId: STORE, patch: '[{"op":"add","path":"/list/-","value":3}]' }),
    ]),
  ]);
  assert.deepEqual(replay.snapshot(0).before, { list: [1] });
  assert.deepEqual(replay.snapshot(0).after, { list: [1, 2] });
  assert.deepEqual(replay.snapshot(1).after, { list: [1, 2, 3] });
  assert.deepEqual(replay.snapshot(1).before, replay.snapshot(0).after);
});

test('move, copy, remove and test operations are applied as RFC 6902 says', () => {
  const replay = replayState([
    workflow({ start: { a: { x: 1 }, list: ['p', 'q', 'r'], gone: true } }),
    node('n', [
      setStateEvent({
        atUs: 1,
        storeId: STORE,
        patch: JSON.stringify([
          { op: 'test', path: '/a/x', value: 1 },
          { op: 'move', from: '/a', path: '/b' },
          { op: 'copy', from: '/list/0', path: '/list/-' },
          { op: 'remove', path: '/list/1' },
          { op: 'remove', path: '/gone' },
          { op: 'add', path: '/esc~1aped~0key', value: 'ok' },
        ]),
      }),
    ]),
  ]);
  assert.equal(replay.steps[0]!.error, null);
  assert.deepEqual(replay.snapshot(0).after, { b: { x: 1 }, list: ['p', 'r', 'p'], 'esc/aped~key': 'ok' });
});

test('a patch that cannot apply is flagged on its step and the state carries over', () => {
  const replay = replayState([
    workflow({ start: { count: 1 } }),
    node('n', [
      setStateEvent({
        atUs: 1,
        storeId: STORE,
        patch: '[{"op":"replace","path":"/missing/deep","value":1}]',
      }),
      setStateEvent({ atUs: 2, storeId: STORE, patch: '[{"op":"test","path":"/count","value":99}]' }),
      setStateEvent({ atUs: 3, storeId: STORE, patch: '[{"op":"replace","path":"/count","value":2}]' }),
    ]),
  ]);
  assert.match(replay.steps[0]!.error ?? '', /\S/);
  assert.match(replay.steps[1]!.error ?? '', /\S/);
  assert.deepEqual(replay.snapshot(1).after, { count: 1 });
  assert.equal(replay.steps[2]!.error, null);
  assert.deepEqual(replay.snapshot(2).after, { count: 2 });
});

test('a subflow writing to its parent store replays against the parent, in time order', () => {
  const SUB = 'subStore0000000000001';
  const subflow = makeCompactSpan({
    span_id: 'sub',
    parent_span_id: 'wf',
    junjo_span_type: 'subflow',
    junjo_id: 'subflowNode',
    junjo_wf_store_id: SUB,
    junjo_wf_state_start: { inner: 0 },
    junjo_wf_state_end: { inner: 5 },
    attributes_json: { 'junjo.workflow.parent_store.id': STORE },
    events_json: [
      // the subflow's post-run action copies its result into the parent store
      setStateEvent({
        atUs: 40,
        storeId: STORE,
        patch: '[{"op":"replace","path":"/result","value":5}]',
        storeName: 'ParentStore',
      }),
    ],
  });
  const replay = replayState([
    workflow({ start: { count: 0, result: null }, end: { count: 1, result: 5 } }),
    node('parentNode', [
      setStateEvent({ atUs: 10, storeId: STORE, patch: '[{"op":"replace","path":"/count","value":1}]' }),
    ]),
    subflow,
    makeCompactSpan({
      span_id: 'inner',
      parent_span_id: 'sub',
      junjo_span_type: 'node',
      events_json: [
        setStateEvent({
          atUs: 20,
          storeId: SUB,
          patch: '[{"op":"replace","path":"/inner","value":5}]',
          storeName: 'SubStore',
        }),
      ],
    }),
  ]);
  assert.deepEqual(
    replay.steps.map((s) => [s.event.storeId, s.storeStep]),
    [
      [STORE, 0],
      [SUB, 0],
      [STORE, 1],
    ],
  );
  assert.deepEqual(replay.snapshot(2).before, { count: 1, result: null }, 'continues from the parent state');
  assert.deepEqual(replay.snapshot(2).after, { count: 1, result: 5 });
  assert.equal(replay.stores.get(STORE)!.matchesEnd, true);
  assert.equal(replay.stores.get(SUB)!.matchesEnd, true);
  assert.equal(replay.stores.get(SUB)!.info.parentStoreId, STORE);
  assert.equal(replay.stores.get(SUB)!.info.name, 'SubStore');
});

test('contract 2: events of a store follow junjo.store.transition.sequence, not the clock', () => {
  const replay = replayState([
    workflow({ start: { log: [] }, end: { log: ['first', 'second', 'third'] } }),
    node('n', [
      // clock skew between concurrent branches: timestamps disagree with the sequence
      setStateEvent({
        atUs: 30,
        storeId: STORE,
        sequence: 1,
        patch: '[{"op":"add","path":"/log/-","value":"first"}]',
      }),
      setStateEvent({
        atUs: 10,
        storeId: STORE,
        sequence: 3,
        patch: '[{"op":"add","path":"/log/-","value":"third"}]',
      }),
      setStateEvent({
        atUs: 20,
        storeId: STORE,
        sequence: 2,
        patch: '[{"op":"add","path":"/log/-","value":"second"}]',
      }),
    ]),
  ]);
  assert.deepEqual(
    replay.steps.map((s) => s.event.sequence),
    [1, 2, 3],
  );
  assert.equal(replay.stores.get(STORE)!.matchesEnd, true);
});

test('without a sequence on every event of a store, event time decides, then arrival order', () => {
  const events = [
    {
      id: 'b',
      spanId: 's',
      storeId: 'x',
      storeName: '',
      action: '',
      timeNanos: 5n,
      sequence: 2,
      rawPatch: '[]',
    },
    {
      id: 'a',
      spanId: 's',
      storeId: 'x',
      storeName: '',
      action: '',
      timeNanos: 1n,
      sequence: null,
      rawPatch: '[]',
    },
    {
      id: 'c',
      spanId: 's',
      storeId: 'x',
      storeName: '',
      action: '',
      timeNanos: 5n,
      sequence: 1,
      rawPatch: '[]',
    },
  ];
  assert.deepEqual(
    orderEvents(events).map((e) => e.id),
    ['a', 'b', 'c'],
  );
});

test('events that JSON.parse rounds to the same instant keep their true order, whatever the list order', () => {
  // 100 ns apart on the server; as float64 numbers (256 ns apart at this epoch) they read as equal.
  const first = nanosAt(500);
  const second = Number(BigInt(first) + 100n);
  assert.equal(first, second);
  const event = (id: string, timeUnixNano: number, patch: string) => ({
    ...setStateEvent({ atUs: 0, storeId: STORE, id, patch }),
    timeUnixNano,
  });
  const earlier = makeCompactSpan({
    span_id: 'n1',
    parent_span_id: 'wf',
    junjo_span_type: 'node',
    startUs: 400,
    events_json: [event('a', first, '[{"op":"add","path":"/x","value":1}]')],
  });
  const later = makeCompactSpan({
    span_id: 'n2',
    parent_span_id: 'wf',
    junjo_span_type: 'node',
    startUs: 450,
    events_json: [
      event('b', second, '[{"op":"replace","path":"/x","value":2}]'),
      event('c', second, '[{"op":"replace","path":"/x","value":3}]'),
    ],
  });
  // Newest first, as the trace endpoint lists spans.
  const replay = replayState([later, earlier, workflow({ start: {} })]);
  assert.deepEqual(
    replay.steps.map((step) => [step.event.id, step.error]),
    [
      ['a', null],
      ['b', null],
      ['c', null],
    ],
  );
  assert.deepEqual(replay.stores.get(STORE)!.finalState, { x: 3 });
});

test('stores interleave by time while each keeps its own sequence order', () => {
  const mk = (id: string, storeId: string, time: bigint, sequence: number) => ({
    id,
    spanId: 's',
    storeId,
    storeName: '',
    action: '',
    timeNanos: time,
    sequence,
    rawPatch: '[]',
  });
  const ordered = orderEvents([
    mk('x2', 'X', 10n, 2),
    mk('y1', 'Y', 5n, 1),
    mk('x1', 'X', 20n, 1),
    mk('y2', 'Y', 30n, 2),
  ]);
  assert.deepEqual(
    ordered.map((e) => e.id),
    ['y1', 'x1', 'x2', 'y2'],
  );
});

test('a replay that does not reach the reported end state says so', () => {
  const replay = replayState([
    workflow({ start: { count: 0 }, end: { count: 2 } }),
    node('n', [
      setStateEvent({ atUs: 1, storeId: STORE, patch: '[{"op":"replace","path":"/count","value":1}]' }),
    ]),
  ]);
  assert.equal(replay.stores.get(STORE)!.matchesEnd, false);
});

test('state start and end sent as JSON strings are parsed; an unknown store replays from {}', () => {
  const replay = replayState([
    workflow({ start: '{"count":0}', end: '{"count":3}' }),
    node('n', [
      setStateEvent({ atUs: 1, storeId: STORE, patch: '[{"op":"replace","path":"/count","value":3}]' }),
      setStateEvent({ atUs: 2, storeId: 'orphan', patch: '[{"op":"add","path":"/k","value":1}]' }),
    ]),
  ]);
  assert.equal(replay.stores.get(STORE)!.matchesEnd, true);
  assert.deepEqual(replay.snapshot(1).after, { k: 1 });
  assert.equal(replay.stores.get('orphan')!.info.ownerSpanId, null);
});

test('a half-applied patch leaves no trace, and later updates never alter an earlier patch', () => {
  const start = { big: { list: [1, 2, 3] }, nested: { a: { b: 1 } }, keep: [{ x: 1 }] };
  const replay = replayState([
    workflow({ start }),
    node('n', [
      setStateEvent({
        atUs: 1,
        storeId: STORE,
        patch: '[{"op":"add","path":"/added","value":{"inner":[]}}]',
      }),
      setStateEvent({
        atUs: 2,
        storeId: STORE,
        patch: '[{"op":"add","path":"/big/list/-","value":4},{"op":"remove","path":"/nope"}]',
      }),
      setStateEvent({ atUs: 3, storeId: STORE, patch: '[{"op":"add","path":"/added/inner/-","value":"x"}]' }),
      setStateEvent({ atUs: 4, storeId: STORE, patch: '[{"op":"move","from":"/keep/0","path":"/moved"}]' }),
    ]),
  ]);
  assert.deepEqual(
    start,
    { big: { list: [1, 2, 3] }, nested: { a: { b: 1 } }, keep: [{ x: 1 }] },
    'start untouched',
  );
  assert.match(replay.steps[1]!.error ?? '', /\S/);
  assert.deepEqual(replay.snapshot(1).after, replay.snapshot(1).before, 'the failed patch changed nothing');
  assert.deepEqual((replay.snapshot(2).before as typeof start).big.list, [1, 2, 3]);
  assert.deepEqual(
    replay.steps[0]!.ops,
    [{ op: 'add', path: '/added', value: { inner: [] } }],
    'patch as sent',
  );
  assert.deepEqual(replay.snapshot(0).after, { ...start, added: { inner: [] } });
  assert.deepEqual(replay.snapshot(3).after, {
    big: { list: [1, 2, 3] },
    nested: { a: { b: 1 } },
    keep: [],
    added: { inner: ['x'] },
    moved: { x: 1 },
  });
  assert.deepEqual(replay.stores.get(STORE)!.finalState, replay.snapshot(3).after);
});

test('snapshots far from a checkpoint equal a straight replay', () => {
  const K = CHECKPOINT_EVERY;
  const events = Array.from({ length: 2 * K + 10 }, (_, i) =>
    setStateEvent({
      atUs: i,
      storeId: STORE,
      patch: JSON.stringify([{ op: 'add', path: '/log/-', value: i }]),
    }),
  );
  const replay = replayState([workflow({ start: { log: [] } }), node('n', events)]);
  for (const index of [0, K - 1, K, K + 1, 2 * K + 9]) {
    assert.deepEqual(replay.snapshot(index).before, { log: Array.from({ length: index }, (_, i) => i) });
    assert.deepEqual(replay.snapshot(index).after, { log: Array.from({ length: index + 1 }, (_, i) => i) });
  }
});

test('a 10,000-step run replays in linear time', () => {
  const events = Array.from({ length: 10_000 }, (_, i) =>
    setStateEvent({
      atUs: i,
      storeId: STORE,
      patch: JSON.stringify([{ op: 'add', path: `/meta/k${i}`, value: { i, tags: ['a', 'b'] } }]),
    }),
  );
  // CPU time, not wall time: a busy machine stretches the wall clock, not the work done.
  const started = process.cpuUsage();
  const replay = replayState([workflow({ start: { meta: {} } }), node('n', events)]);
  assert.equal(Object.keys((replay.stores.get(STORE)!.finalState as { meta: object }).meta).length, 10_000);
  assert.equal(Object.keys((replay.snapshot(9999).before as { meta: object }).meta).length, 9_999);
  // ~0.2 s of CPU; the quadratic replay this guards against took ~18 s.
  const used = process.cpuUsage(started);
  const cpuMs = (used.user + used.system) / 1000;
  assert.ok(cpuMs < 5000, `${Math.round(cpuMs)} ms of CPU`);
});
