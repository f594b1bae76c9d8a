// A listed row's JSON comes back exact, in a buffer sized to it rather than zlib's 16 KiB chunk:
// every inflated row of a page stays alive until the answer is sent, and V8 counts that memory
// towards the main thread's next full collection.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deflateListJson, inflateListJson } from './list_json.ts';

const spanLike = JSON.stringify({
  trace_id: 'a'.repeat(32),
  span_id: 'b'.repeat(16),
  name: 'node run',
  attributes_json: Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [`attr.${i}`, `value ${i * 7919}`]),
  ),
});

test('~1.6 KB span JSONs inflate into a few KB each, not a 16 KiB chunk each', () => {
  const stored = deflateListJson(spanLike);
  // Small buffers share Node's pool slabs: count the bytes of every distinct slab the rows keep.
  const rows = Array.from({ length: 400 }, () => inflateListJson(stored));
  for (const json of rows) assert.equal(Buffer.from(json).toString(), spanLike);
  const held = [...new Set(rows.map((json) => json.buffer))].reduce(
    (sum, buffer) => sum + buffer.byteLength,
    0,
  );
  const perRow = held / rows.length;
  assert.ok(perRow <= 4096, `${Math.round(perRow)} bytes held per row for ${spanLike.length} bytes of JSON`);
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
