import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonContainer } from './json_string.ts';

test('a string holding a JSON object or array gives the value it holds', () => {
  assert.deepEqual(parseJsonContainer('{"count": 1, "items": ["a"]}'), { count: 1, items: ['a'] });
  assert.deepEqual(parseJsonContainer('  [{"op":"replace","path":"/count","value":2}]\n'), [
    { op: 'replace', path: '/count', value: 2 },
  ]);
  assert.deepEqual(parseJsonContainer('{}'), {});
});

test('other strings stay strings: scalars, prose, broken JSON', () => {
  for (const text of ['12', 'true', '"quoted"', 'null', 'hello {world}', '{not json', '[1, 2', '']) {
    assert.equal(parseJsonContainer(text), undefined, text);
  }
});
