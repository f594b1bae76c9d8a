import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffText } from './text_diff.ts';

test('equal texts are one unchanged part', () => {
  assert.deepEqual(diffText('same words', 'same words'), [{ kind: 'same', text: 'same words' }]);
  assert.deepEqual(diffText('', ''), []);
});

test('a changed word reads as one removal and one addition between unchanged text', () => {
  assert.deepEqual(diffText('The cat sat on the mat.', 'The dog sat on the mat.'), [
    { kind: 'same', text: 'The ' },
    { kind: 'removed', text: 'cat' },
    { kind: 'added', text: 'dog' },
    { kind: 'same', text: ' sat on the mat.' },
  ]);
});

test('appended and removed text', () => {
  assert.deepEqual(diffText('Echo: hi', 'Echo: hi there'), [
    { kind: 'same', text: 'Echo: hi' },
    { kind: 'added', text: ' there' },
  ]);
  assert.deepEqual(diffText('a b c', ''), [{ kind: 'removed', text: 'a b c' }]);
});

test('every part put back together gives both texts, even for long answers (line fallback)', () => {
  const before = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ');
  const after = before.replace('word1500', 'changed');
  const parts = diffText(before, after);
  const join = (kinds: string[]) =>
    parts
      .filter((p) => kinds.includes(p.kind))
      .map((p) => p.text)
      .join('');
  assert.equal(join(['same', 'removed']), before);
  assert.equal(join(['same', 'added']), after);
});
