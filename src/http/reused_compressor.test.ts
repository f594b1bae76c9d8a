// The kept contexts must give, answer after answer, exactly the bytes of Node's per-call
// functions with the same options (a context started again with the wrong parameters would not).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { reusedCompressors } from './reused_compressor.ts';

const BROTLI = {
  params: {
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    [zlib.constants.BROTLI_PARAM_QUALITY]: 1,
  },
};
const GZIP = { level: 1 };

const jsonOf = (spans: number) =>
  Buffer.from(
    JSON.stringify(
      Array.from({ length: spans }, (_, i) => ({ span_id: i.toString(16).padStart(16, '0'), name: `node ${i}` })),
    ),
  );

// Empty, small, and larger than the 64 KiB scratch once compressed (random bytes do not shrink).
const INPUTS = [Buffer.alloc(0), jsonOf(20), randomBytes(200 * 1024), jsonOf(60_000), jsonOf(3)];

test('this Node has the handle methods, so answers do not fall back to a context per call', () => {
  assert.equal(reusedCompressors(BROTLI, GZIP).reusesContexts, true);
});

test('answer after answer, each encoding gives the per-call bytes and decodes to its input', () => {
  const compressors = reusedCompressors(BROTLI, GZIP);
  for (let round = 0; round < 3; round++) {
    for (const input of INPUTS) {
      const br = compressors.brotliCompressSync(input);
      assert.deepEqual(br, zlib.brotliCompressSync(input, BROTLI), `br of ${input.length} bytes, round ${round}`);
      assert.deepEqual(zlib.brotliDecompressSync(br), input);
      const gzip = compressors.gzipSync(input);
      assert.deepEqual(gzip, zlib.gzipSync(input, GZIP), `gzip of ${input.length} bytes, round ${round}`);
      assert.deepEqual(zlib.gunzipSync(gzip), input);
    }
  }
});

test('answers do not share bytes: an earlier answer is intact after later ones', () => {
  const compressors = reusedCompressors(BROTLI, GZIP);
  const first = compressors.brotliCompressSync(jsonOf(20));
  const firstCopy = Buffer.from(first);
  for (const input of INPUTS) compressors.brotliCompressSync(input);
  assert.deepEqual(first, firstCopy);
});

test('other options are kept too: a higher quality gives its own per-call bytes', () => {
  const best = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9 } };
  const compressors = reusedCompressors(best, { level: 9 });
  const input = jsonOf(2_000);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(compressors.brotliCompressSync(input), zlib.brotliCompressSync(input, best));
    assert.deepEqual(compressors.gzipSync(input), zlib.gzipSync(input, { level: 9 }));
  }
});
