import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestBytesBudget } from './request_budget.ts';

test('shares add up to the limit and no further; a refused add counts nothing', () => {
  const budget = new RequestBytesBudget(100);
  const first = budget.share();
  const second = budget.share();
  assert.equal(first.add(60), true);
  assert.equal(second.add(50), false);
  assert.equal(budget.inUseBytes, 60);
  assert.equal(second.add(40), true);
  assert.equal(budget.hasRoom(), false);
  assert.equal(first.add(1), false);
});

test('release gives back exactly what the share held, once, and closes the share', () => {
  const budget = new RequestBytesBudget(100);
  const first = budget.share();
  const second = budget.share();
  first.add(30);
  first.add(30);
  second.add(10);
  first.release();
  assert.equal(budget.inUseBytes, 10);
  first.release();
  assert.equal(budget.inUseBytes, 10);
  assert.equal(first.add(1), false, 'a released share counts nothing more');
  assert.equal(budget.inUseBytes, 10);
  second.release();
  assert.equal(budget.inUseBytes, 0);
});
