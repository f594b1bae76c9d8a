// API answers are compressed by what the client accepts (br first, then gzip), above a size
// threshold, without losing the security headers or no-store; read as raw bytes over real HTTP.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { COMPRESSION_THRESHOLD_BYTES } from '../../http/app.ts';
import { hexId, type OtelTestServer, SECOND, spanRow, startOtelServer, T0 } from './test_helpers.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET whose body is returned as the bytes on the wire (fetch would decode them). */
function rawGet(url: string, acceptEncoding?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const SERVICE = 'compressed';
let server: OtelTestServer;
let listUrl: string;

before(async () => {
  server = await startOtelServer();
  const roots = Array.from({ length: 50 }, (_, i) =>
    spanRow({
      trace: hexId(i, 32),
      span: hexId(i, 16),
      service: SERVICE,
      start: T0 + BigInt(i) * SECOND,
      type: 'workflow',
    }),
  );
  const bigTrace = Array.from({ length: 40 }, (_, i) =>
    spanRow({
      trace: BIG_TRACE,
      span: hexId(1000 + i, 16),
      ...(i > 0 ? { parent: hexId(1000, 16) } : {}),
      service: SERVICE,
      start: T0 + BigInt(i) * SECOND,
      type: 'node',
    }),
  );
  await server.insert({ spans: [...roots, ...bigTrace] });
  listUrl = `${server.url}/otel/service/${SERVICE}/root_spans?limit=50`;
});

const BIG_TRACE = hexId(999, 32);
after(() => server.close());

test('a list page goes out as br or gzip by Accept-Encoding, and decodes to the identity body', async () => {
  const identity = await rawGet(listUrl, 'identity');
  assert.equal(identity.status, 200);
  assert.equal(identity.headers['content-encoding'], undefined);
  assert.ok(identity.body.length > COMPRESSION_THRESHOLD_BYTES);
  assert.equal((JSON.parse(identity.body.toString()) as unknown[]).length, 50);

  const br = await rawGet(listUrl, 'gzip, deflate, br');
  assert.equal(br.headers['content-encoding'], 'br', 'br is preferred when both are accepted');
  assert.deepEqual(brotliDecompressSync(br.body), identity.body);
  assert.ok(br.body.length < identity.body.length);

  const gzip = await rawGet(listUrl, 'gzip');
  assert.equal(gzip.headers['content-encoding'], 'gzip');
  assert.deepEqual(gunzipSync(gzip.body), identity.body);

  const none = await rawGet(listUrl);
  assert.equal(none.headers['content-encoding'], undefined, 'no Accept-Encoding: sent as it is');
  assert.deepEqual(none.body, identity.body);

  for (const response of [br, gzip]) {
    assert.equal(
      response.headers['content-length'],
      String(response.body.length),
      'compressed in one call (app.ts COMPRESSION syncThreshold), not streamed in chunks',
    );
    assert.match(String(response.headers.vary), /accept-encoding/i);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.match(String(response.headers['content-type']), /application\/json/);
  }
});

test('an answer under the threshold is not compressed', async () => {
  const tiny = await rawGet(`${server.url}/otel/span_service_names`, 'br, gzip');
  assert.equal(tiny.status, 200);
  assert.ok(tiny.body.length < COMPRESSION_THRESHOLD_BYTES);
  assert.equal(tiny.headers['content-encoding'], undefined);
  assert.deepEqual(JSON.parse(tiny.body.toString()), [SERVICE]);
  assert.equal(tiny.headers['cache-control'], 'no-store');
});

// These answers run to megabytes, and are compressed by the same rules.
for (const path of [
  `/otel/trace/${BIG_TRACE}/compact?view=waterfall`,
  `/otel/trace/${BIG_TRACE}/compact`,
  `/otel/trace/${BIG_TRACE}/nested_spans`,
]) {
  test(`a whole trace goes out as br or gzip by the same rules: ${path}`, async () => {
    const identity = await rawGet(`${server.url}${path}`, 'identity');
    assert.equal(identity.status, 200);
    assert.equal((JSON.parse(identity.body.toString()) as unknown[]).length, 40);
    assert.ok(identity.body.length > COMPRESSION_THRESHOLD_BYTES);
    const br = await rawGet(`${server.url}${path}`, 'gzip, deflate, br, zstd');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.body), identity.body);
    const gzip = await rawGet(`${server.url}${path}`, 'gzip');
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gzip.body), identity.body);
    const deflate = await rawGet(`${server.url}${path}`, 'deflate, zstd');
    assert.equal(deflate.headers['content-encoding'], undefined, 'only br and gzip are offered');
    assert.deepEqual(deflate.body, identity.body);
    assert.equal(br.headers['cache-control'], 'no-store');
    assert.equal(br.headers['x-content-type-options'], 'nosniff');
    for (const compressed of [br, gzip]) {
      assert.equal(
        compressed.headers['content-length'],
        String(compressed.body.length),
        'compressed in one call (app.ts COMPRESSION syncThreshold), not streamed in chunks',
      );
    }
  });
}

test('a small trace stays under the threshold on the fast-compressed routes', async () => {
  const small = await rawGet(`${server.url}/otel/trace/${hexId(0, 32)}/compact?view=waterfall`, 'br, gzip');
  assert.equal(small.status, 200);
  assert.ok(small.body.length < COMPRESSION_THRESHOLD_BYTES);
  assert.equal(small.headers['content-encoding'], undefined);
});
