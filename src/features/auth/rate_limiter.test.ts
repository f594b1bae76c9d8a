import assert from 'node:assert/strict';
import { test } from 'node:test';
import { movableClock } from '../../../test/accounts/harness.ts';
import { createSlidingWindowLimiter } from './rate_limiter.ts';

test('a key is refused after `max` hits until the oldest hit leaves the window', () => {
  const clock = movableClock(0);
  const limiter = createSlidingWindowLimiter({ max: 3, windowMs: 1000 }, clock);
  for (const at of [0, 100, 200]) {
    clock.advance(at - clock());
    assert.equal(limiter.retryAfterMs('a'), 0);
    limiter.record('a');
  }
  assert.equal(limiter.retryAfterMs('a'), 800); // the hit at 0 expires at 1000
  assert.equal(limiter.retryAfterMs('b'), 0, 'other keys are not affected');
  clock.advance(800);
  assert.equal(limiter.retryAfterMs('a'), 0);
  limiter.record('a');
  assert.equal(limiter.retryAfterMs('a'), 100, 'now the hit at 100 is the oldest that counts');
});

test('reset forgets a key', () => {
  const clock = movableClock(0);
  const limiter = createSlidingWindowLimiter({ max: 1, windowMs: 1000 }, clock);
  limiter.record('a');
  assert.ok(limiter.retryAfterMs('a') > 0);
  limiter.reset('a');
  assert.equal(limiter.retryAfterMs('a'), 0);
});

test('the number of tracked keys stays bounded, dropping expired keys first', () => {
  const clock = movableClock(0);
  const limiter = createSlidingWindowLimiter({ max: 1, windowMs: 1000 }, clock, 3);
  limiter.record('old');
  clock.advance(2000);
  limiter.record('a');
  limiter.record('b');
  limiter.record('c'); // full: 'old' has expired and makes room
  for (const key of ['a', 'b', 'c']) assert.ok(limiter.retryAfterMs(key) > 0, key);
  limiter.record('d'); // full of live keys: the longest-tracked ('a') is forgotten
  assert.equal(limiter.retryAfterMs('a'), 0);
  for (const key of ['b', 'c', 'd']) assert.ok(limiter.retryAfterMs(key) > 0, key);
});
