// Web security through the real server process, beyond the accounts tests (which drive the app
// in-process): session fixation, CSRF from a foreign origin, CORS, path traversal on the static
// files, CR/LF in headers and fields (no injected log line), oversized bodies, brute force on sign-in.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signIn } from '../support/accounts.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const ALLOWED_ORIGIN = 'https://ui.example';
const EVIL_ORIGIN = 'https://evil.example';
const repoRoot = path.resolve(import.meta.dirname, '../..');

let server: ServerProcess;

before(async () => {
  server = await startServerProcess({ env: { JUNJO_ALLOW_ORIGINS: ALLOWED_ORIGIN } });
  await signIn(server.baseUrl, ADMIN.email, ADMIN.password); // creates the first user
});
after(() => server.cleanup());

/** The value of cookie `name` among a response's Set-Cookie headers. */
function setCookie(response: Response, name: string): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    if (pair?.startsWith(`${name}=`)) return pair.slice(name.length + 1);
  }
  return undefined;
}

function signInWith(
  cookie: string | null,
  email = ADMIN.email,
  password = ADMIN.password,
): Promise<Response> {
  return fetch(`${server.baseUrl}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ email, password }),
  });
}

const authTest = (session: string) =>
  fetch(`${server.baseUrl}/auth-test`, { headers: { cookie: `session=${session}` } }).then((r) => r.status);

/** A request exactly as written (fetch would normalise `..` and refuse CR/LF). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
  });
}

/** GET with the path sent verbatim. */
function getVerbatim(pathText: string, accept = '*/*'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: server.ports.http, path: pathText, headers: { accept } },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
  });
}

describe('sessions', () => {
  test('a session id planted before sign-in is never the signed-in session', async () => {
    const planted = 'planted-by-an-attacker-0123456789abcdef';
    const response = await signInWith(`session=${planted}`);
    assert.equal(response.status, 200);
    const issued = setCookie(response, 'session');
    assert.ok(issued && issued !== planted, 'sign-in issues its own session id');
    assert.equal(await authTest(planted), 401);
    assert.equal(await authTest(issued), 200);
  });

  test('signing in over an existing session rotates it and ends the old one', async () => {
    const earlier = setCookie(await signInWith(null), 'session')!;
    assert.equal(await authTest(earlier), 200);
    const rotated = setCookie(await signInWith(`session=${earlier}`), 'session')!;
    assert.notEqual(rotated, earlier);
    assert.equal(await authTest(earlier), 401, 'the pre-sign-in session is not reused');
    assert.equal(await authTest(rotated), 200);
  });

  test('the session cookie is HttpOnly and SameSite=Strict', async () => {
    const line = (await signInWith(null)).headers.getSetCookie().find((l) => l.startsWith('session='))!;
    assert.match(line, /; HttpOnly/i);
    assert.match(line, /; SameSite=Strict/i);
  });
});

describe('CSRF and CORS', () => {
  test("a foreign page cannot act with the victim's cookie", async () => {
    const victim = await signIn(server.baseUrl, ADMIN.email, ADMIN.password);
    const attacker = await signIn(server.baseUrl, ADMIN.email, ADMIN.password); // a token of another session
    const keysBefore = await (await victim.request('GET', '/api_keys')).json();
    for (const token of [undefined, 'forged-token', attacker.csrfToken]) {
      const response = await fetch(`${server.baseUrl}/api_keys`, {
        method: 'POST',
        headers: {
          cookie: victim.cookie,
          origin: EVIL_ORIGIN,
          'content-type': 'application/json',
          ...(token ? { 'x-csrf-token': token } : {}),
        },
        body: JSON.stringify({ name: 'planted key' }),
      });
      assert.equal(response.status, 403, `token ${token ?? '(none)'} refused`);
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    }
    assert.deepEqual(
      await (await victim.request('GET', '/api_keys')).json(),
      keysBefore,
      'no key was created',
    );
  });

  test('a foreign origin gets no CORS grant; a configured one gets it with credentials', async () => {
    const victim = await signIn(server.baseUrl, ADMIN.email, ADMIN.password);
    const preflight = (origin: string) =>
      fetch(`${server.baseUrl}/api_keys`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-csrf-token',
        },
      });
    const read = (origin: string) =>
      fetch(`${server.baseUrl}/auth-test`, { headers: { origin, cookie: victim.cookie } });

    // (@fastify/cors sends Allow-Credentials either way; without Allow-Origin the browser refuses.)
    for (const response of [await preflight(EVIL_ORIGIN), await read(EVIL_ORIGIN)]) {
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    }
    for (const response of [await preflight(ALLOWED_ORIGIN), await read(ALLOWED_ORIGIN)]) {
      assert.equal(response.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
      assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    }
    // A lookalike of the allowed origin is foreign too.
    const lookalike = await preflight(`${ALLOWED_ORIGIN}.evil.example`);
    assert.equal(lookalike.headers.get('access-control-allow-origin'), null);
  });
});

describe('static files', () => {
  const secrets = () => [
    readFileSync(path.join(repoRoot, 'package.json'), 'utf8').slice(0, 60),
    readFileSync(path.join(server.dataDir, 'session_secret'), 'utf8').trim(),
    'root:x:0:0',
    readFileSync(path.join(repoRoot, 'src/main.ts'), 'utf8').slice(0, 60),
  ];

  test('path traversal never serves a file from outside web/dist', async () => {
    const asset = readdirSync(path.join(repoRoot, 'web/dist/assets')).find((name) => name.endsWith('.js'))!;
    assert.equal((await getVerbatim(`/assets/${asset}`)).status, 200, 'the assets are served');
    const attempts = [
      '/assets/../../package.json',
      '/assets/../../../../../../etc/passwd',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/%252e%252e/%252e%252e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/..\\..\\package.json',
      '/assets/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json',
      '/assets/....//....//package.json',
      '/assets/%00/../../package.json',
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/..%5c..%5csrc%5cmain.ts',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '//etc/passwd',
      '/package.json',
      '/session_secret',
      '/src/main.ts',
    ];
    for (const attempt of attempts) {
      for (const accept of ['*/*', 'text/html']) {
        const { status, body } = await getVerbatim(attempt, accept);
        assert.ok(status < 500, `${attempt}: ${status}`);
        for (const secret of secrets())
          assert.ok(!body.includes(secret), `${attempt} leaked a file (${status})`);
      }
    }
  });
});

describe('header and log injection', () => {
  test('CR/LF in headers and fields never produces a log line of its own', async () => {
    const injected = '{"level":60,"msg":"injected"}';
    const session = await signIn(server.baseUrl, ADMIN.email, ADMIN.password);
    // CR or LF inside a header value: the parser refuses the request.
    for (const header of [
      `x-junjo-api-key: key\r${injected}`,
      `x-junjo-api-key: key\n${injected}`,
      `x-csrf-token: token\r\n ${injected}`,
    ]) {
      for (const port of [server.ports.http, server.ports.otlpHttp]) {
        const answer = await rawRequest(
          port,
          `POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}\r\nContent-Length: 0\r\n\r\n`,
        );
        assert.match(answer, /^HTTP\/1\.1 4\d\d/, `${JSON.stringify(header)} on :${port}`);
      }
    }
    // CR/LF inside JSON fields and an API key that reaches the validator.
    await signInWith(null, `a@example.com\r\n${injected}`, 'x');
    await signInWith(null, `victim@example.com\n${injected}`, `p\n${injected}`);
    const created = await session.request('POST', '/api_keys', { name: `key\r\n${injected}` });
    assert.equal(created.status, 201);
    await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-junjo-api-key': `key%0d%0a${injected}` },
      body: '{}',
    });
    await fetch(`${server.baseUrl}/no-such-route/%0d%0a${encodeURIComponent(injected)}`);

    const lines = server.output().trimEnd().split('\n');
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), line);
      assert.equal(typeof parsed.level, 'number', line);
      assert.equal(parsed.service, 'junjo-server', `${line} is a line the server wrote`);
      assert.notEqual(parsed.msg, 'injected');
    }
  });
});

describe('limits', () => {
  test('a REST body over 1 MB is refused with 413 and a message, with or without Content-Length', async () => {
    const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1_100_000) });
    const withLength = await fetch(`${server.baseUrl}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    assert.equal(withLength.status, 413);
    assert.equal(typeof ((await withLength.json()) as { message?: unknown }).message, 'string');

    const chunked = await rawRequest(
      server.ports.http,
      'POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${Buffer.byteLength(big).toString(16)}\r\n${big}\r\n0\r\n\r\n`,
    );
    assert.match(chunked, /^HTTP\/1\.1 413/);
    assert.match(chunked, /"message":"[^"]+"/);
  });

  test('brute force on sign-in: 429 with Retry-After after 10 attempts for one email, even with the right password', async () => {
    const email = 'brute@example.com';
    for (let attempt = 1; attempt <= 10; attempt++) {
      assert.equal((await signInWith(null, email, `guess ${attempt}`)).status, 401);
    }
    const limited = await signInWith(null, email, 'guess 11');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(typeof ((await limited.json()) as { message?: unknown }).message, 'string');
    // The admin's own attempts are limited the same way.
    for (let attempt = 1; attempt <= 10; attempt++) await signInWith(null, ADMIN.email, `guess ${attempt}`);
    assert.equal((await signInWith(null)).status, 429);
  });
});
