import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatTimestampMicros, parseNanos, parseTimestampMicros } from './time.ts';

test('timestamps keep microseconds whatever the fraction length or zone spelling', () => {
  const base = Date.UTC(2025, 9, 12, 17, 33, 48) * 1000;
  assert.equal(parseTimestampMicros('2025-10-12T17:33:48.123456Z'), base + 123_456);
  assert.equal(parseTimestampMicros('2025-10-12T17:33:48.5Z'), base + 500_000);
  assert.equal(parseTimestampMicros('2025-10-12T17:33:48Z'), base);
  assert.equal(parseTimestampMicros('2025-10-12T17:33:48.123456+00:00'), base + 123_456);
  assert.equal(parseTimestampMicros('2025-10-12T19:33:48.000001+02:00'), base + 1);
  assert.ok(Number.isNaN(parseTimestampMicros('yesterday')));
  // the server's own form has a fast path; near misses of it still go through the general parser
  assert.equal(parseTimestampMicros('1969-12-31T23:59:59.999999Z'), -1);
  assert.equal(parseTimestampMicros('2025-10-12t17:33:48.123456z'), base + 123_456);
  assert.ok(Number.isNaN(parseTimestampMicros('2025-10-12T17:33:48.12345xZ')));
  assert.ok(Number.isNaN(parseTimestampMicros('2025-13-12T17:33:48.123456Z')));
  assert.equal(parseNanos('1749000000050000000'), 1749000000050000000n);
  assert.equal(parseNanos(12), 12n);
  assert.equal(parseNanos('x'), null);
});

test('microsecond timestamps format back to the server form exactly', () => {
  for (const text of [
    '2025-10-12T17:33:48.123456Z',
    '2025-10-12T17:33:48.000001Z',
    '1970-01-01T00:00:00.000000Z',
  ]) {
    assert.equal(formatTimestampMicros(parseTimestampMicros(text)), text);
  }
});

test('durations read naturally at every scale', () => {
  assert.deepEqual(
    [12, 1500, 12_340, 1_520_000, 125_000_000, 3 * 3_600_000_000 + 240_000_000].map(formatDuration),
    ['12 µs', '1.5 ms', '12.3 ms', '1.52 s', '2 m 05 s', '3 h 04 m'],
  );
});
