// A listed page's rows come back exact, in one buffer about the size of their text: every
// inflated row of a page stays alive until the answer is sent, and V8 counts that memory towards
// the main thread's next full collection.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { jsonArrayBytes } from '../spans/span_json.ts';
import { deflateListJson, inflateListJson, inflateListPage } from './list_json.ts';

const spanLike = JSON.stringify({
  trace_id: 'a'.repeat(32),
  span_id: 'b'.repeat(16),
  name: 'node run',
  attributes_json: Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [`attr.${i}`, `value ${i * 7919}`]),
  ),
});

test('a page of ~1.6 KB span JSONs inflates into one buffer, laid out as the JSON array of its rows', () => {
  const texts = Array.from({ length: 400 }, (_, i) => spanLike.replace('node run', `node run ${i}`));
  const rows = inflateListPage(texts.map((text) => deflateListJson(text)));
  assert.deepEqual(
    rows.map((json) => Buffer.from(json).toString()),
    texts,
  );
  const buffers = new Set(rows.map((json) => json.buffer));
  assert.equal(buffers.size, 1, 'one buffer for the page');
  const textBytes = texts.reduce((sum, text) => sum + text.length, 0);
  const held = [...buffers][0]!.byteLength;
  assert.ok(held <= textBytes * 2, `${held} bytes held for ${textBytes} bytes of JSON`);
  const array = jsonArrayBytes(rows);
  assert.equal(array.buffer, rows[0]!.buffer, 'sent as laid out, not copied');
  assert.equal(array.toString(), `[${texts.join(',')}]`);
});

test('an empty page is an empty list', () => {
  assert.deepEqual(inflateListPage([]), []);
});

test('a text that deflates far better than the guess (a long repeated prompt) still inflates exactly', () => {
  const prompt = JSON.stringify({ prompt: 'You are a helpful assistant. '.repeat(20_000) });
  const stored = deflateListJson(prompt);
  assert.ok(prompt.length / stored.length > 100);
  assert.equal(Buffer.from(inflateListJson(stored)).toString(), prompt);
});

test('a large row that barely deflates is held at its own size, not four times it', () => {
  const noise = JSON.stringify({ blob: randomBytes(1536 * 1024).toString('base64') });
  const stored = deflateListJson(noise);
  assert.ok(stored.length > noise.length / 2);
  const json = inflateListJson(stored);
  assert.equal(Buffer.from(json).toString(), noise);
  assert.ok(
    json.buffer.byteLength < json.length * 1.5,
    `${json.buffer.byteLength} bytes held for ${json.length}`,
  );
});

test('an empty text round-trips', () => {
  assert.equal(inflateListJson(deflateListJson('')).length, 0);
});
