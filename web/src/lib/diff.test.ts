import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffStates, formatPath, textDiff, toPointer } from './diff.ts';

test('a replaced value is one "changed" row with both values', () => {
  assert.deepEqual(diffStates({ count: 1, name: 'a' }, { count: 11, name: 'a' }), [
    { kind: 'changed', path: ['count'], before: 1, after: 11 },
  ]);
});

test('added and removed keys, nested', () => {
  const changes = diffStates({ user: { name: 'Ann', age: 3 } }, { user: { name: 'Ann', email: 'a@x' } });
  assert.deepEqual(changes.map((c) => [c.kind, formatPath(c.path)]).sort(), [
    ['added', 'user.email'],
    ['removed', 'user.age'],
  ]);
});

test('appending to a list is a single "added" row at the new index', () => {
  assert.deepEqual(diffStates({ items: ['a', 'b'] }, { items: ['a', 'b', 'c'] }), [
    { kind: 'added', path: ['items', 2], after: 'c' },
  ]);
});

test('items with ids are matched by id: an insertion at the front does not change the rest', () => {
  const before = {
    todos: [
      { id: 1, done: false },
      { id: 2, done: false },
    ],
  };
  const after = {
    todos: [
      { id: 0, done: false },
      { id: 1, done: true },
      { id: 2, done: false },
    ],
  };
  assert.deepEqual(diffStates(before, after), [
    { kind: 'added', path: ['todos', 0], after: { id: 0, done: false } },
    { kind: 'changed', path: ['todos', 1, 'done'], before: false, after: true },
  ]);
});

test('a reordered item is reported as moved', () => {
  const before = { list: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] };
  const after = { list: [{ id: 'c' }, { id: 'a' }, { id: 'b' }] };
  assert.deepEqual(diffStates(before, after), [{ kind: 'moved', path: ['list', 2], movedTo: 0 }]);
});

test('identical states have no changes; a whole-document replacement is one row at the root', () => {
  assert.deepEqual(diffStates({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
  assert.deepEqual(diffStates(1, 2), [{ kind: 'changed', path: [], before: 1, after: 2 }]);
});

test('paths read like code and convert to JSON Pointers', () => {
  assert.equal(formatPath([]), '(root)');
  assert.equal(formatPath(['items', 2, 'name']), 'items[2].name');
  assert.equal(formatPath(['first name', 'a/b']), '["first name"]["a/b"]');
  assert.equal(toPointer(['a/b', 'c~d', 0]), '/a~1b/c~0d/0');
});

test('text diff isolates the edited middle of a long string', () => {
  assert.deepEqual(textDiff('The answer is 41.', 'The answer is 42.'), {
    prefix: 'The answer is 4',
    removed: '1',
    added: '2',
    suffix: '.',
  });
  assert.deepEqual(textDiff('abc', 'abcdef'), { prefix: 'abc', removed: '', added: 'def', suffix: '' });
  assert.deepEqual(textDiff('aaa', 'aa'), { prefix: 'aa', removed: 'a', added: '', suffix: '' });
});
