// The kept contexts must give, input after input, exactly the bytes of Node's one-shot functions
// with the same options (a context started again with the wrong parameters would not).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import {
  GrowingBytes,
  keptBrotliCompress,
  keptContextsWork,
  keptDeflateRaw,
  keptGzip,
  keptInflateRaw,
} from './kept_zlib.ts';

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
      Array.from({ length: spans }, (_, i) => ({
        span_id: i.toString(16).padStart(16, '0'),
        name: `node ${i}`,
      })),
    ),
  );

// Empty, small, and larger than the 64 KiB scratch once compressed (random bytes do not shrink).
const INPUTS = [Buffer.alloc(0), jsonOf(20), randomBytes(200 * 1024), jsonOf(60_000), jsonOf(3)];

test('this Node has the handle methods, so nothing falls back to a context per call', () => {
  assert.equal(keptContextsWork, true);
});

test('input after input, each kept context gives the one-shot bytes and they decode to the input', () => {
  const brotli = keptBrotliCompress(BROTLI);
  const gzip = keptGzip(GZIP);
  const deflate = keptDeflateRaw();
  const inflate = keptInflateRaw();
  for (let round = 0; round < 3; round++) {
    for (const input of INPUTS) {
      const br = brotli.oneShot(input);
      assert.deepEqual(
        br,
        zlib.brotliCompressSync(input, BROTLI),
        `br of ${input.length} bytes, round ${round}`,
      );
      assert.deepEqual(zlib.brotliDecompressSync(br), input);
      const gz = gzip.oneShot(input);
      assert.deepEqual(gz, zlib.gzipSync(input, GZIP), `gzip of ${input.length} bytes, round ${round}`);
      assert.deepEqual(zlib.gunzipSync(gz), input);
      const deflated = deflate.oneShot(input);
      assert.deepEqual(
        deflated,
        zlib.deflateRawSync(input),
        `deflate of ${input.length} bytes, round ${round}`,
      );
      assert.deepEqual(inflate.oneShot(deflated), input, `inflate of ${input.length} bytes, round ${round}`);
    }
  }
});

test('an earlier output is intact after later ones (outputs do not share the scratch)', () => {
  const brotli = keptBrotliCompress(BROTLI);
  const first = brotli.oneShot(jsonOf(20));
  const firstCopy = Buffer.from(first);
  for (const input of INPUTS) brotli.oneShot(input);
  assert.deepEqual(first, firstCopy);
});

test('other options are kept too: higher levels give their own one-shot bytes', () => {
  const best = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9 } };
  const brotli = keptBrotliCompress(best);
  const gzip = keptGzip({ level: 9 });
  const input = jsonOf(2_000);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(brotli.oneShot(input), zlib.brotliCompressSync(input, best));
    assert.deepEqual(gzip.oneShot(input), zlib.gzipSync(input, { level: 9 }));
  }
});

test('several inputs written through into one buffer follow each other, growing it as needed', () => {
  const inflate = keptInflateRaw();
  const texts = [jsonOf(5), jsonOf(3_000), Buffer.alloc(0), jsonOf(1)];
  const out = new GrowingBytes(16);
  const ends = texts.map((text) => {
    inflate.writeThrough(zlib.deflateRawSync(text), out);
    return out.length;
  });
  assert.deepEqual(out.bytes.subarray(0, out.length), Buffer.concat(texts));
  assert.deepEqual(
    ends,
    texts.map((_, i) => texts.slice(0, i + 1).reduce((sum, text) => sum + text.length, 0)),
  );
});

test('a truncated input throws, and the context goes on working after it', () => {
  const inflate = keptInflateRaw();
  const whole = zlib.deflateRawSync(jsonOf(500));
  assert.throws(() => inflate.oneShot(whole.subarray(0, whole.length / 2)), /unexpected end of file/);
  assert.deepEqual(inflate.oneShot(whole), jsonOf(500));
});
