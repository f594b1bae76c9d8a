import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.ts';
import {
  formatJsonPath,
  parseJsonPath,
  parseStateCondition,
  requiredStateTexts,
} from './workflow_run_filter.ts';

test('JSON paths: $ then .name, ["name"] and [index] segments, with an optional trailing .length', () => {
  assert.deepEqual(parseJsonPath('$'), { segments: [], length: false });
  assert.deepEqual(parseJsonPath('$.a.b_2[0]["x y"]'), {
    segments: [{ key: 'a' }, { key: 'b_2' }, { index: 0 }, { key: 'x y' }],
    length: false,
  });
  assert.deepEqual(parseJsonPath('$.items.length'), { segments: [{ key: 'items' }], length: true });
  assert.deepEqual(parseJsonPath('$.length.x'), {
    segments: [{ key: 'length' }, { key: 'x' }],
    length: false,
  });
  assert.deepEqual(parseJsonPath('$["length"]'), { segments: [{ key: 'length' }], length: false });
  // Only the last .length is the length; an earlier one is a key.
  assert.deepEqual(parseJsonPath('$.length.length'), { segments: [{ key: 'length' }], length: true });
  assert.deepEqual(parseJsonPath('$["a\\"]b"]'), { segments: [{ key: 'a"]b' }], length: false });
  assert.deepEqual(parseJsonPath('$["ü/~🚀"]'), { segments: [{ key: 'ü/~🚀' }], length: false });
});

test('JSON paths outside the grammar are refused', () => {
  for (const bad of [
    '',
    'a',
    '$.',
    '$..a',
    '$.1a',
    '$[01]',
    '$[-1]',
    '$[1.5]',
    '$[99999999]',
    '$[x]',
    "$['a']",
    '$["a"',
    '$["a\\u0000"]',
    '$["a\\nb"]',
    '$.a b',
    '$.a; DROP TABLE spans',
    '$.*',
    '$.a[*]',
    `$${'.a'.repeat(33)}`,
  ]) {
    assert.equal(parseJsonPath(bad), null, bad);
  }
});

test('a parsed path formats back to text that parses to the same path', () => {
  for (const text of ['$.a[3]["b c"]', '$["length"].length', '$["1"][1]']) {
    const path = parseJsonPath(text)!;
    assert.equal(formatJsonPath(path), text);
    assert.deepEqual(parseJsonPath(formatJsonPath(path)), path);
  }
});

test('state conditions: path, operator and a JSON literal', () => {
  assert.deepEqual(parseStateCondition('$.intent = "billing"'), {
    path: { segments: [{ key: 'intent' }], length: false },
    operator: '=',
    value: 'billing',
  });
  assert.deepEqual(parseStateCondition('  $.items.length   >   3 ').value, 3);
  assert.equal(parseStateCondition('$["a b"] != null').value, null);
  assert.equal(parseStateCondition('$.flag = false').value, false);
  assert.equal(parseStateCondition('$.s contains "= x"').value, '= x');
  assert.deepEqual(parseStateCondition('$.x exists'), {
    path: { segments: [{ key: 'x' }], length: false },
    operator: 'exists',
  });
});

test('bad state conditions are refused with a message naming the field', () => {
  const cases: [string, RegExp][] = [
    ['$.a', /operator/],
    ['$.a ~ 1', /operator/],
    ['$.a == 1', /JSON value/],
    ['$.a = billing', /JSON string/],
    ["$.a = 'x'", /JSON string/],
    ['$.a = [1]', /JSON string/],
    ['$.a = {"b":1}', /JSON string/],
    ['$.a =', /needs a value/],
    ['$.a exists 1', /no value/],
    ['$.a < "x"', /number/],
    ['$.a.length = "3"', /number/],
    ['$.a.length contains 3', /length/],
    ['a = 1', /operator/],
    ['$.a.b..c = 1', /invalid JSON path/],
    [`$.a = "${'x'.repeat(1100)}"`, /longer than 1024/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseStateCondition(text, 'state[2]'),
      (error: unknown) =>
        error instanceof AppError &&
        error.kind === 'invalid_input' &&
        error.message.startsWith('state[2]') &&
        message.test(error.message),
      text,
    );
  }
});

test('required state texts: keys and written values a matching document without escapes holds', () => {
  const texts = (text: string) => requiredStateTexts(parseStateCondition(text));
  assert.deepEqual(texts('$.status = "done"'), ['"status"', '"done"']);
  assert.deepEqual(texts('$.a.b[2].c = true'), ['"a"', '"b"', '"c"', 'true']);
  assert.deepEqual(texts('$.note = null'), ['"note"', 'null']);
  assert.deepEqual(texts('$.tags contains "v\\"ip"'), ['"tags"', 'v\\"ip']);
  assert.deepEqual(texts('$.tags contains false'), ['"tags"', 'false']);
  // Numbers have many spellings; only the path's keys are required.
  assert.deepEqual(texts('$.score = 7'), ['"score"']);
  assert.deepEqual(texts('$.items.length > 2'), ['"items"']);
  assert.deepEqual(texts('$.items exists'), ['"items"']);
  // != holds when the value is missing; keys that read as an index may be one.
  assert.deepEqual(texts('$.status != "done"'), []);
  assert.deepEqual(texts('$["0"]["a b"] = "x"'), ['"x"']);
});
