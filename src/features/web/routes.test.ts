import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { startAccountsServer } from '../../../test/accounts/harness.ts';
import { webUiRoutes } from './routes.ts';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

function fakeDist(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'junjo-web-dist-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("app")');
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
  return dir;
}

test('the UI is served at / and at every client-side route, without a session', async (t) => {
  const dist = fakeDist();
  const server = await startAccountsServer({ features: [webUiRoutes({ distDir: dist })] });
  t.after(async () => {
    await server.close();
    rmSync(dist, { recursive: true, force: true });
  });
  for (const route of [
    '/',
    '/services',
    '/services/my%20app/workflows/abc/def?step=3',
    '/sign-in',
    '/settings/api-keys',
  ]) {
    const response = await fetch(`${server.url}${route}`, { headers: HTML });
    assert.equal(response.status, 200, route);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.match(await response.text(), /<div id="root">/);
  }
  const asset = await fetch(`${server.url}/assets/index-abc123.js`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  assert.equal(await asset.text(), 'console.log("app")');
  const favicon = await fetch(`${server.url}/favicon.svg`);
  assert.equal(favicon.status, 200);
});

test('an asset goes out as the .br or .gz file the build wrote, by Accept-Encoding', async (t) => {
  const dist = fakeDist();
  const script = `export const app = ${JSON.stringify('x'.repeat(4000))};`;
  const file = path.join(dist, 'assets', 'app-def456.js');
  writeFileSync(file, script);
  writeFileSync(`${file}.br`, brotliCompressSync(script));
  writeFileSync(`${file}.gz`, gzipSync(script));
  const server = await startAccountsServer({ features: [webUiRoutes({ distDir: dist })] });
  t.after(async () => {
    await server.close();
    rmSync(dist, { recursive: true, force: true });
  });
  const get = (acceptEncoding: string) =>
    new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(
        `${server.url}/assets/app-def456.js`,
        { headers: { 'accept-encoding': acceptEncoding } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        },
      )
        .on('error', reject)
        .end();
    });
  const br = await get('gzip, br');
  assert.equal(br.headers['content-encoding'], 'br');
  assert.deepEqual(br.body, brotliCompressSync(script), 'the file as built, not compressed again');
  assert.match(String(br.headers['content-type']), /javascript/);
  assert.match(String(br.headers['cache-control']), /immutable/);
  assert.equal(br.headers['x-content-type-options'], 'nosniff');
  const gz = await get('gzip');
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.deepEqual(gz.body, gzipSync(script));
  const plain = await get('identity');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body.toString(), script);
});

test('API routes are not shadowed and unknown non-page requests stay JSON 404s', async (t) => {
  const dist = fakeDist();
  const server = await startAccountsServer({ features: [webUiRoutes({ distDir: dist })] });
  t.after(async () => {
    await server.close();
    rmSync(dist, { recursive: true, force: true });
  });
  const api = await fetch(`${server.url}/users`, { headers: HTML });
  assert.equal(api.status, 401, 'GET /users is the API even for a browser navigation');
  assert.deepEqual(await api.json(), { message: 'Unauthorized: No valid session' });
  const probe = await fetch(`${server.url}/users/db-has-users`, { headers: HTML });
  assert.deepEqual(await probe.json(), { usersExist: false, setupTokenRequired: false });
  for (const [route, accept] of [
    ['/otel/no-such-endpoint', 'application/json'],
    ['/assets/missing-file.js', '*/*'],
    ['/services/x/missing.js', 'text/html'],
  ] as const) {
    const response = await fetch(`${server.url}${route}`, { headers: { accept } });
    assert.equal(response.status, 404, route);
    assert.deepEqual(await response.json(), { message: 'Not Found' });
  }
});

test('without a build, pages explain how to make one', async (t) => {
  const missing = path.join(tmpdir(), `junjo-no-dist-${process.pid}`);
  const server = await startAccountsServer({ features: [webUiRoutes({ distDir: missing })] });
  t.after(() => server.close());
  const response = await fetch(`${server.url}/services`, { headers: HTML });
  assert.equal(response.status, 503);
  assert.match(await response.text(), /npm run build:web/);
  assert.match(server.logs(), /web UI not built/);
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200, 'the API keeps working');
});
