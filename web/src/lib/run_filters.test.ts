import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formFromParams, hasRunFilters, paramsFromForm, runFilterParams } from './run_filters.ts';

test('only filter parameters with a value pass, in a fixed order, repeats kept; state_of=end is the default', () => {
  const url = new URLSearchParams(
    'page=3&state=%24.a%20%3D%201&node=B&workflow=W&node=A&min_ms=&state_of=end&to=2025-06-04T00:00:00Z',
  );
  assert.equal(
    runFilterParams(url).toString(),
    'workflow=W&node=B&node=A&state=%24.a+%3D+1&to=2025-06-04T00%3A00%3A00Z',
  );
  assert.equal(runFilterParams(new URLSearchParams('state_of=start')).toString(), 'state_of=start');
  assert.equal(hasRunFilters(new URLSearchParams('page=2&min_ms=')), false);
  assert.equal(hasRunFilters(new URLSearchParams('failed_node=X')), true);
});

test('the form round-trips: repeated values are one per line, blank lines dropped', () => {
  const url = new URLSearchParams('node=A&node=B&state=%24.x%20exists&max_ms=250');
  const form = formFromParams(url);
  assert.equal(form.node, 'A\nB');
  assert.equal(form.state, '$.x exists');
  assert.equal(form.workflow, '');
  assert.equal(paramsFromForm(form).toString(), runFilterParams(url).toString());
  assert.equal(
    paramsFromForm({ ...form, node: 'A\n\n  C  \n', state: '' }).toString(),
    'node=A&node=C&max_ms=250',
  );
});
