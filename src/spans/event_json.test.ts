import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { numericEventTimes, parseEventsJson } from './event_json.ts';

// 2^63 + 1: no float64 holds it, so any trip through a JS number would show.
const BIG = '9223372036854775809';

describe('numericEventTimes', () => {
  it('writes the decimal-string times of older versions as JSON numbers, keeping every other byte', () => {
    const old = `[{"name":"set_state","timeUnixNano":"${BIG}","droppedAttributesCount":0,"attributes":{"a":"x"}},{"name":"e","timeUnixNano":"1","droppedAttributesCount":2,"attributes":{}}]`;
    assert.equal(
      numericEventTimes(old),
      `[{"name":"set_state","timeUnixNano":${BIG},"droppedAttributesCount":0,"attributes":{"a":"x"}},{"name":"e","timeUnixNano":1,"droppedAttributesCount":2,"attributes":{}}]`,
    );
  });

  it('leaves attributes, strings that mention the key, and numeric times alone', () => {
    const text =
      '[{"name":"\\"timeUnixNano\\":\\"5\\"","timeUnixNano":7,"droppedAttributesCount":0,' +
      '"attributes":{"timeUnixNano":"12","nested":[{"timeUnixNano":"13"}]}}]';
    assert.equal(numericEventTimes(text), text);
    assert.equal(numericEventTimes('[]'), '[]');
  });

  it('is idempotent', () => {
    const once = numericEventTimes(`[{"name":"x","timeUnixNano":"${BIG}","attributes":{}}]`);
    assert.equal(numericEventTimes(once), once);
  });
});

describe('parseEventsJson', () => {
  it('reads times exactly, as numbers or as the strings of older versions', () => {
    const events = parseEventsJson(
      `[{"name":"a","timeUnixNano":${BIG},"droppedAttributesCount":1,"attributes":{"timeUnixNano":"3"}},` +
        `{"name":"b","timeUnixNano":"${BIG}","droppedAttributesCount":0,"attributes":{}}]`,
    );
    assert.deepEqual(events, [
      { name: 'a', timeUnixNano: BigInt(BIG), droppedAttributesCount: 1, attributes: { timeUnixNano: '3' } },
      { name: 'b', timeUnixNano: BigInt(BIG), droppedAttributesCount: 0, attributes: {} },
    ]);
  });
});
