// Web security through the real server process, beyond the accounts tests (which drive the app
// in-process): session fixation, CSRF from a foreign origin, CORS, path traversal on the static
// files, CR/LF in headers and fields (no injected log line), oversized bodies, brute force on sign-in
// (known devices, limits kept across restarts, client addresses behind a trusted proxy), first-user
// setup from another machine, private data files, caching, malformed URLs, source maps, /health and
// the OpenAPI security marks.
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
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
function getVerbatim(
  pathText: string,
  accept = '*/*',
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: server.ports.http, path: pathText, headers: { accept } },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
        );
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
  });
});

describe('lockout (issue #10 item 3)', () => {
  test("strangers' guesses do not lock the admin out of a browser that signed in before, and the limits survive a restart", async () => {
    let first: ServerProcess | undefined = await startServerProcess();
    try {
      await signIn(first.baseUrl, ADMIN.email, ADMIN.password); // creates the first user
      const signInAt = (baseUrl: string, cookie: string | null, password: string) =>
        fetch(`${baseUrl}/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
          body: JSON.stringify({ email: ADMIN.email, password }),
        });
      const signedIn = await signInAt(first.baseUrl, null, ADMIN.password);
      const device = setCookie(signedIn, 'device');
      assert.ok(device, 'a successful sign-in marks the browser as a known device');
      assert.match(
        signedIn.headers.getSetCookie().find((line) => line.startsWith('device='))!,
        /; Path=\/sign-in; HttpOnly; SameSite=Strict/i,
      );
      for (let attempt = 1; attempt <= 10; attempt++) {
        assert.equal((await signInAt(first.baseUrl, null, `guess ${attempt}`)).status, 401);
      }
      assert.equal(
        (await signInAt(first.baseUrl, null, ADMIN.password)).status,
        429,
        'unknown browsers wait',
      );
      assert.equal((await signInAt(first.baseUrl, `device=${device}`, ADMIN.password)).status, 200);

      await first.stop('SIGTERM');
      const second = await startServerProcess({ dataDir: first.dataDir });
      const dataDir = first.dataDir;
      first = undefined;
      try {
        const afterRestart = await signInAt(second.baseUrl, null, ADMIN.password);
        assert.equal(afterRestart.status, 429, 'a restart does not reset the window');
        assert.ok(Number(afterRestart.headers.get('retry-after')) > 0);
        assert.equal((await signInAt(second.baseUrl, `device=${device}`, ADMIN.password)).status, 200);
      } finally {
        await second.cleanup();
        rmSync(dataDir, { recursive: true, force: true });
      }
    } finally {
      await first?.cleanup();
    }
  });

  describe('behind a trusted proxy (JUNJO_TRUST_PROXY)', () => {
    let proxied: ServerProcess;
    before(async () => {
      proxied = await startServerProcess({ env: { JUNJO_TRUST_PROXY: '127.0.0.1' } });
    });
    after(() => proxied.cleanup());
    const from = (client: string, extra: Record<string, string> = {}) => ({
      'x-forwarded-for': client,
      'content-type': 'application/json',
      ...extra,
    });

    test('first-user setup from another machine needs the one-time token printed in the log (item 4)', async () => {
      const remote = from('203.0.113.9');
      const status = await fetch(`${proxied.baseUrl}/users/db-has-users`, { headers: remote });
      assert.deepEqual(await status.json(), { usersExist: false, setupTokenRequired: true });
      const setup = (body: Record<string, string>) =>
        fetch(`${proxied.baseUrl}/users/create-first-user`, {
          method: 'POST',
          headers: remote,
          body: JSON.stringify({ ...ADMIN, ...body }),
        });
      for (const body of [{}, { setupToken: 'x'.repeat(43) }] as Record<string, string>[]) {
        const refused = await setup(body);
        assert.equal(refused.status, 403);
        assert.match(((await refused.json()) as { message: string }).message, /setup token/);
      }
      const token = /setup token ([\w-]{43})/.exec(proxied.output())?.[1];
      assert.ok(token, 'the token is printed in the log');
      assert.equal((await setup({ setupToken: token })).status, 200);
      assert.equal((await setup({ setupToken: token })).status, 409, 'the token is spent');
      const local = await fetch(`${proxied.baseUrl}/users/db-has-users`, { headers: from('127.0.0.1') });
      assert.deepEqual(await local.json(), { usersExist: true, setupTokenRequired: false });
    });

    test('each forwarded client has its own sign-in budget', async () => {
      const attempt = (client: string, i: number) =>
        fetch(`${proxied.baseUrl}/sign-in`, {
          method: 'POST',
          headers: from(client),
          body: JSON.stringify({ email: `user${i}@example.com`, password: 'guess' }),
        });
      for (let i = 0; i < 50; i++) assert.equal((await attempt('198.51.100.1', i)).status, 401);
      assert.equal((await attempt('198.51.100.1', 50)).status, 429, 'the address has used its budget');
      assert.equal(
        (await attempt('198.51.100.2', 51)).status,
        401,
        'another client behind the proxy has not',
      );
    });
  });
});

describe('files, caching and smaller leaks (item 5)', () => {
  test('every file under the data dir is 0600 and every directory 0700, including files an older version left 0644', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-modes-'));
    // What an older version left under umask 022.
    mkdirSync(path.join(dataDir, 'dead-letter'), { mode: 0o755 });
    writeFileSync(path.join(dataDir, 'dead-letter/old-record.bin'), 'span data', { mode: 0o644 });
    chmodSync(path.join(dataDir, 'dead-letter'), 0o755);
    chmodSync(dataDir, 0o755);
    const previousUmask = process.umask(0o022); // the child starts with the usual umask
    let modes: ServerProcess | undefined;
    try {
      modes = await startServerProcess({ dataDir });
    } finally {
      process.umask(previousUmask);
    }
    try {
      await signIn(modes.baseUrl, ADMIN.email, ADMIN.password); // writes to SQLite (-wal/-shm)
      const files: string[] = [];
      const walk = (dir: string) => {
        assert.equal(statSync(dir).mode & 0o777, 0o700, `${dir} is 0700`);
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) walk(full);
          else files.push(full);
        }
      };
      walk(dataDir);
      for (const name of [
        'sqlite/junjo.db',
        'sqlite/junjo.db-wal',
        'duckdb/otel_data.duckdb',
        'session_secret',
      ]) {
        assert.ok(files.includes(path.join(dataDir, name)), `${name} exists`);
      }
      assert.ok(
        files.some((file) => file.startsWith(path.join(dataDir, 'wal'))),
        'a WAL segment exists',
      );
      for (const file of files) assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is 0600`);
    } finally {
      await modes.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('API answers are never cached; the hashed web assets are', async () => {
    const session = await signIn(server.baseUrl, ADMIN.email, ADMIN.password);
    for (const route of ['/auth-test', '/users', '/api_keys', '/otel/services', '/health/details', '/csrf']) {
      const response = await session.request('GET', route);
      assert.equal(response.status, 200, route);
      assert.equal(response.headers.get('cache-control'), 'no-store', route);
    }
    for (const route of ['/sign-in', '/auth-test']) {
      const refused = await fetch(`${server.baseUrl}${route}`, {
        method: route === '/sign-in' ? 'POST' : 'GET',
      });
      assert.equal(refused.headers.get('cache-control'), 'no-store', `${route} refused`);
    }
    const asset = readdirSync(path.join(repoRoot, 'web/dist/assets')).find((name) => name.endsWith('.js'))!;
    const cached = await fetch(`${server.baseUrl}/assets/${asset}`);
    assert.match(cached.headers.get('cache-control') ?? '', /immutable/);
  });

  test('a malformed URL gets a 400 JSON message with the same security headers as any answer', async () => {
    const reference = await getVerbatim('/ping');
    const securityHeaders = [
      'content-security-policy',
      'x-content-type-options',
      'x-frame-options',
      'referrer-policy',
      'cross-origin-opener-policy',
    ];
    for (const name of securityHeaders) assert.ok(reference.headers[name], `/ping has ${name}`);
    for (const bad of ['/users%c0%af<script>', '/otel/service/%E0%A4%A/root_spans', '/%']) {
      const answer = await getVerbatim(bad);
      assert.equal(answer.status, 400, bad);
      assert.match(String(answer.headers['content-type']), /^application\/json/);
      const { message } = JSON.parse(answer.body) as { message: string };
      assert.equal(typeof message, 'string');
      assert.ok(!answer.body.includes('<script>'), 'the URL is not echoed back');
      for (const name of securityHeaders)
        assert.equal(answer.headers[name], reference.headers[name], `${bad}: ${name}`);
      assert.equal(answer.headers['cache-control'], 'no-store');
    }
  });

  test('the production web build publishes no source maps', async () => {
    const assets = readdirSync(path.join(repoRoot, 'web/dist/assets'));
    assert.deepEqual(
      assets.filter((name) => name.endsWith('.map')),
      [],
    );
    for (const script of assets.filter((name) => name.endsWith('.js'))) {
      assert.equal((await getVerbatim(`/assets/${script}.map`)).status, 404, `${script}.map`);
      assert.doesNotMatch(
        readFileSync(path.join(repoRoot, 'web/dist/assets', script), 'utf8'),
        /sourceMappingURL=/,
      );
    }
  });

  test('public /health is liveness only; the counters need a session', async () => {
    const open = await fetch(`${server.baseUrl}/health`);
    assert.equal(open.status, 200);
    assert.deepEqual(await open.json(), { status: 'ok' });
    assert.equal((await fetch(`${server.baseUrl}/health/details`)).status, 401);
    const session = await signIn(server.baseUrl, ADMIN.email, ADMIN.password);
    const details = (await (await session.request('GET', '/health/details')).json()) as Record<
      string,
      unknown
    >;
    assert.equal(details.role, 'all');
    assert.ok(details.poller && details.ingestion, 'the counters are there for a signed-in user');
  });

  test('/openapi.json marks exactly the public routes with security: []', async () => {
    const doc = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as {
      security: unknown[];
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    assert.deepEqual(doc.security, [{ session: [] }]);
    const publicRoutes = [
      'get /ping',
      'get /health',
      'get /csrf',
      'post /sign-in',
      'get /users/db-has-users',
      'post /users/create-first-user',
    ];
    const documented = Object.entries(doc.paths).flatMap(([route, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${route}`, operation })),
    );
    for (const name of publicRoutes) {
      assert.deepEqual(documented.find((entry) => entry.name === name)?.operation.security, [], name);
    }
    // No session, but a bearer token of their own.
    const tokenRoutes: Record<string, unknown[]> = {
      'get /metrics': [{ metricsToken: [] }],
      'post /admin/backup': [{ adminToken: [] }],
    };
    for (const [name, security] of Object.entries(tokenRoutes)) {
      assert.deepEqual(documented.find((entry) => entry.name === name)?.operation.security, security, name);
    }
    const sessionRoutes = documented.filter(
      (entry) => !publicRoutes.includes(entry.name) && !(entry.name in tokenRoutes),
    );
    for (const { name, operation } of sessionRoutes) {
      assert.equal(operation.security, undefined, `${name} inherits the session requirement`);
    }
    assert.ok(documented.some((entry) => entry.name === 'get /health/details'));
  });
});
