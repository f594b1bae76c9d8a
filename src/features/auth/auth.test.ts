import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import fastifyStatic from '@fastify/static';
import {
  ADMIN,
  Client,
  signedInAdmin,
  startAccountsServer,
  type TestServer,
} from '../../../test/accounts/harness.ts';
import { publicRoutes } from '../../accounts.ts';
import type { HttpPlugin } from '../../http/app.ts';
import { SESSION_TTL_MS } from './sessions_service.ts';
import { sha256Hex } from './tokens.ts';

const withServer = async (
  run: (server: TestServer) => Promise<void>,
  options?: Parameters<typeof startAccountsServer>[0],
) => {
  const server = await startAccountsServer(options);
  try {
    await run(server);
  } finally {
    await server.close();
  }
};

const cookieLine = (response: Response, name: string) =>
  response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`)) ?? '';

describe('sign-in and sessions', () => {
  test('sign-in sets an HttpOnly, SameSite=Strict, 30-day session cookie holding a random id stored only as a hash', () =>
    withServer(async (server) => {
      await signedInAdmin(server);
      const client = new Client(server.url);
      const response = await client.request('POST', '/sign-in', { body: ADMIN });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { message: 'signed in' });
      const line = cookieLine(response, 'session');
      assert.match(line, /; HttpOnly/);
      assert.match(line, /; SameSite=Strict/);
      assert.match(line, /; Path=\//);
      assert.match(line, /; Max-Age=2592000/);
      assert.doesNotMatch(line, /Secure|Domain/i, 'plain HTTP in development: no Secure, host-only');
      const sessionId = client.cookies.get('session') ?? '';
      assert.match(sessionId, /^[A-Za-z0-9_-]{43}$/);
      const rows = server.sqlite.prepare('SELECT id_hash, expires_at FROM sessions').all();
      assert.ok(rows.some((row) => row.id_hash === sha256Hex(sessionId)));
      assert.ok(rows.every((row) => row.id_hash !== sessionId));
      const expected = new Date(server.clock() + SESSION_TTL_MS).toISOString();
      assert.ok(rows.some((row) => row.expires_at === expected));
      server.sqlite.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      assert.equal(
        readFileSync(server.sqlitePath).includes(sessionId),
        false,
        'session id in the database file',
      );
      const me = await client.request('GET', '/auth-test');
      assert.deepEqual(await me.json(), { userEmail: ADMIN.email });
    }));

  test('in production the cookie is Secure and carries the configured Domain, on set and on clear', () =>
    withServer(
      async (server) => {
        const client = await signedInAdmin(server);
        const signIn = await new Client(server.url).request('POST', '/sign-in', { body: ADMIN });
        assert.match(cookieLine(signIn, 'session'), /; Domain=example\.com; .*Secure/);
        const signOut = await client.request('POST', '/sign-out');
        assert.equal(signOut.status, 200);
        const cleared = cookieLine(signOut, 'session');
        assert.match(cleared, /^session=; Max-Age=0;/);
        assert.match(cleared, /; Domain=example\.com; .*Secure/);
      },
      { production: true, prodAuthDomain: 'example.com' },
    ));

  test('every sign-in issues a new session id; a planted id never becomes a signed-in session', () =>
    withServer(async (server) => {
      await signedInAdmin(server);
      const victim = new Client(server.url);
      const planted = 'A'.repeat(43);
      victim.cookies.set('session', planted);
      await victim.signIn();
      assert.notEqual(victim.cookies.get('session'), planted);
      const attacker = new Client(server.url);
      attacker.cookies.set('session', planted);
      assert.equal((await attacker.request('GET', '/auth-test')).status, 401);

      const before = victim.cookies.get('session');
      await victim.signIn();
      assert.notEqual(victim.cookies.get('session'), before);
      const old = new Client(server.url);
      old.cookies.set('session', before ?? '');
      assert.equal((await old.request('GET', '/auth-test')).status, 401, 'the replaced session is ended');
    }));

  test('sign-out ends the session on the server, not only in the browser', () =>
    withServer(async (server) => {
      const client = await signedInAdmin(server);
      const sessionId = client.cookies.get('session') ?? '';
      const response = await client.request('POST', '/sign-out');
      assert.deepEqual(await response.json(), { message: 'signed out' });
      const replay = new Client(server.url);
      replay.cookies.set('session', sessionId);
      const after = await replay.request('GET', '/auth-test');
      assert.equal(after.status, 401);
      assert.deepEqual(await after.json(), { message: 'Unauthorized: No valid session' });
    }));

  test('a session stops working once 30 days have passed', () =>
    withServer(async (server) => {
      const client = await signedInAdmin(server);
      server.clock.advance(SESSION_TTL_MS - 1000);
      assert.equal((await client.request('GET', '/auth-test')).status, 200);
      server.clock.advance(1000);
      assert.equal((await client.request('GET', '/auth-test')).status, 401);
    }));

  test('unknown email and wrong password get the same answer with similar timing', () =>
    withServer(
      async (server) => {
        await signedInAdmin(server);
        const attempt = async (email: string) => {
          const started = performance.now();
          const response = await new Client(server.url).request('POST', '/sign-in', {
            body: { email, password: 'not the password' },
          });
          return { status: response.status, body: await response.text(), ms: performance.now() - started };
        };
        const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
        const wrong = [];
        const unknown = [];
        for (let i = 0; i < 7; i += 1) {
          wrong.push(await attempt(ADMIN.email));
          unknown.push(await attempt(`nobody${i}@example.com`));
        }
        for (const result of [...wrong, ...unknown]) {
          assert.equal(result.status, 401);
          assert.equal(result.body, '{"message":"invalid credentials"}');
        }
        const wrongMs = median(wrong.map((r) => r.ms));
        const unknownMs = median(unknown.map((r) => r.ms));
        assert.ok(
          unknownMs > wrongMs / 3 && unknownMs < wrongMs * 3,
          `unknown email ${unknownMs.toFixed(1)} ms vs wrong password ${wrongMs.toFixed(1)} ms`,
        );
      },
      { signInLimits: { perEmail: { max: 100, windowMs: 60_000 }, perIp: { max: 100, windowMs: 60_000 } } },
    ));

  test('too many attempts for one email → 429 with Retry-After, even with the right password, until the window passes', () =>
    withServer(
      async (server) => {
        await signedInAdmin(server);
        const client = new Client(server.url);
        const attempt = (password: string) =>
          client.request('POST', '/sign-in', { body: { email: ADMIN.email, password } });
        for (let i = 0; i < 3; i += 1) assert.equal((await attempt('wrong password')).status, 401);
        const limited = await attempt(ADMIN.password);
        assert.equal(limited.status, 429);
        assert.equal(limited.headers.get('retry-after'), '600');
        assert.deepEqual(await limited.json(), { message: 'Too many sign-in attempts; try again later' });
        const otherCase = await client.request('POST', '/sign-in', {
          body: { email: ADMIN.email.toUpperCase(), password: ADMIN.password },
        });
        assert.equal(otherCase.status, 429, 'the email is counted case-insensitively');
        server.clock.advance(600_000);
        assert.equal((await attempt(ADMIN.password)).status, 200);
      },
      { signInLimits: { perEmail: { max: 3, windowMs: 600_000 }, perIp: { max: 100, windowMs: 600_000 } } },
    ));

  test('a browser that signed in before keeps signing in while strangers have locked the email', () =>
    withServer(
      async (server) => {
        const known = await signedInAdmin(server);
        assert.match(
          known.cookies.get('device') ?? '',
          /^[\w-]{43}\.[\w-]{43}$/,
          'sign-in set a device token',
        );
        const stranger = (password: string) =>
          new Client(server.url).request('POST', '/sign-in', { body: { email: ADMIN.email, password } });
        for (let i = 0; i < 3; i += 1) assert.equal((await stranger('wrong password')).status, 401);
        assert.equal((await stranger(ADMIN.password)).status, 429, 'unknown browsers are locked out');
        assert.equal((await known.request('POST', '/sign-in', { body: ADMIN })).status, 200);

        // A forged or another user's token is an unknown browser.
        const forged = new Client(server.url);
        forged.cookies.set('device', `${'a'.repeat(43)}.${'b'.repeat(43)}`);
        assert.equal((await forged.request('POST', '/sign-in', { body: ADMIN })).status, 429);

        // Guesses from the known browser are limited too, in their own bucket.
        const guess = () =>
          known.request('POST', '/sign-in', { body: { email: ADMIN.email, password: 'wrong password' } });
        for (let i = 0; i < 3; i += 1) assert.equal((await guess()).status, 401);
        assert.equal((await known.request('POST', '/sign-in', { body: ADMIN })).status, 429);
      },
      { signInLimits: { perEmail: { max: 3, windowMs: 600_000 }, perDevice: { max: 3, windowMs: 600_000 } } },
    ));

  test('too many attempts from one IP → 429 whatever the email; a success clears only its email count', () =>
    withServer(
      async (server) => {
        await signedInAdmin(server); // attempt 1 from this IP
        // A fresh browser each time: a known-device cookie would move the attempts to its own bucket.
        const attempt = (email: string, password = 'wrong password') =>
          new Client(server.url).request('POST', '/sign-in', { body: { email, password } });
        assert.equal((await attempt(ADMIN.email)).status, 401);
        assert.equal((await attempt(ADMIN.email, ADMIN.password)).status, 200);
        assert.equal(
          (await attempt(ADMIN.email)).status,
          401,
          'third attempt for the email: the success reset it',
        );
        assert.equal((await attempt('a@example.com')).status, 401);
        assert.equal((await attempt('b@example.com')).status, 401);
        const limited = await attempt('c@example.com');
        assert.equal(limited.status, 429);
        assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      },
      { signInLimits: { perEmail: { max: 2, windowMs: 60_000 }, perIp: { max: 6, windowMs: 60_000 } } },
    ));

  test('concurrent guesses cannot slip past the limit', () =>
    withServer(
      async (server) => {
        await signedInAdmin(server);
        const responses = await Promise.all(
          Array.from({ length: 20 }, () =>
            fetch(`${server.url}/sign-in`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ email: ADMIN.email, password: 'guess' }),
            }),
          ),
        );
        const statuses = responses.map((response) => response.status);
        assert.equal(statuses.filter((status) => status === 401).length, 5);
        assert.equal(statuses.filter((status) => status === 429).length, 15);
      },
      { signInLimits: { perEmail: { max: 5, windowMs: 60_000 }, perIp: { max: 100, windowMs: 60_000 } } },
    ));

  test('malformed sign-in input is a 400 with a message, never a 500', () =>
    withServer(async (server) => {
      const post = (body: string, contentType = 'application/json') =>
        fetch(`${server.url}/sign-in`, { method: 'POST', headers: { 'content-type': contentType }, body });
      for (const body of [
        '{"email":"not-an-email","password":"x"}',
        '{"email":"a@example.com"}',
        '{"email":"a@example.com","password":""}',
        `{"email":"a@example.com","password":"${'x'.repeat(1025)}"}`,
        '{"email":42,"password":"x"}',
        '{not json',
        '[]',
        'null',
      ]) {
        const response = await post(body);
        assert.equal(response.status, 400, body);
        const json = (await response.json()) as { message: unknown };
        assert.equal(typeof json.message, 'string', body);
        assert.deepEqual(Object.keys(json), ['message']);
      }
      assert.equal((await post('email=a', 'application/x-www-form-urlencoded')).status, 415);
    }));
});

describe('CSRF', () => {
  test('unsafe requests need the session token in X-CSRF-Token: missing or wrong → 403', () =>
    withServer(async (server) => {
      const client = await signedInAdmin(server);
      const other = new Client(server.url);
      await other.signIn();
      const send = (token: string | undefined) =>
        client.request('POST', '/api_keys', {
          body: { name: 'k' },
          csrf: false,
          headers: token === undefined ? {} : { 'x-csrf-token': token },
        });
      const missing = await send(undefined);
      assert.equal(missing.status, 403);
      assert.deepEqual(await missing.json(), { message: 'Forbidden: missing CSRF token' });
      for (const token of ['', 'wrong', `${client.csrfToken}x`, other.csrfToken]) {
        const response = await send(token);
        assert.equal(response.status, 403, `token ${token}`);
        assert.match(
          ((await response.json()) as { message: string }).message,
          /^Forbidden: (missing|invalid) CSRF token$/,
        );
      }
      for (const [method, url] of [
        ['DELETE', '/api_keys/some-id'],
        ['DELETE', '/users/1'],
        ['POST', '/users'],
        ['POST', '/sign-out'],
      ] as const) {
        assert.equal((await client.request(method, url, { csrf: false })).status, 403, `${method} ${url}`);
      }
      assert.equal(server.sqlite.prepare('SELECT COUNT(*) AS n FROM api_keys').get()?.n, 0);
      assert.equal((await send(client.csrfToken)).status, 201);
    }));

  test('the token is bound to the session: a new sign-in gets a new token and the old one stops working', () =>
    withServer(async (server) => {
      const client = await signedInAdmin(server);
      const first = client.csrfToken;
      assert.equal(await client.fetchCsrfToken(), first, 'stable within a session');
      await client.signIn();
      assert.notEqual(client.csrfToken, first);
      const stale = await client.request('POST', '/api_keys', {
        body: { name: 'k' },
        csrf: false,
        headers: { 'x-csrf-token': first ?? '' },
      });
      assert.equal(stale.status, 403);
    }));

  test('sign-in and first-user setup need no token; GET requests never do', () =>
    withServer(async (server) => {
      const client = new Client(server.url);
      const setup = await client.request('POST', '/users/create-first-user', { body: ADMIN, csrf: false });
      assert.equal(setup.status, 200);
      const signIn = await client.request('POST', '/sign-in', { body: ADMIN, csrf: false });
      assert.equal(signIn.status, 200);
      assert.equal((await client.request('GET', '/users', { csrf: false })).status, 200);
    }));

  test('without a session the token is a double-submit cookie from GET /csrf', () => {
    const anonymousPost: HttpPlugin = async (app) => {
      app.post('/test/anonymous', { config: { public: true } }, async () => ({ ok: true }));
    };
    return withServer(
      async (server) => {
        const client = new Client(server.url);
        assert.equal((await client.request('POST', '/test/anonymous')).status, 403);
        const token = await client.fetchCsrfToken();
        assert.equal(client.cookies.get('csrf'), token);
        assert.equal(await client.fetchCsrfToken(), token, 'the cookie is reused');
        assert.equal((await client.request('POST', '/test/anonymous')).status, 200);
        const withoutCookie = await fetch(`${server.url}/test/anonymous`, {
          method: 'POST',
          headers: { 'x-csrf-token': token },
        });
        assert.equal(withoutCookie.status, 403, 'the header alone is not enough');
        const forged = await fetch(`${server.url}/test/anonymous`, {
          method: 'POST',
          headers: { 'x-csrf-token': 'a'.repeat(43), cookie: `csrf=${'b'.repeat(43)}` },
        });
        assert.equal(forged.status, 403);
      },
      { features: [anonymousPost] },
    );
  });
});

describe('CORS and security headers', () => {
  const preflight = (server: TestServer, origin: string) =>
    fetch(`${server.url}/api_keys`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-csrf-token',
      },
    });

  test('only the exact configured origins are allowed, with credentials, before authentication', () =>
    withServer(
      async (server) => {
        const allowed = await preflight(server, 'https://ui.example.com');
        assert.equal(allowed.status, 204);
        assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://ui.example.com');
        assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
        assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /X-CSRF-Token/);
        assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /DELETE/);
        for (const origin of [
          'https://evil.example.com',
          'https://ui.example.com.evil.com',
          'http://ui.example.com',
        ]) {
          const refused = await preflight(server, origin);
          assert.equal(refused.headers.get('access-control-allow-origin'), null, origin);
        }
        const unauthenticated = await fetch(`${server.url}/users`, {
          headers: { origin: 'https://ui.example.com' },
        });
        assert.equal(unauthenticated.status, 401);
        assert.equal(unauthenticated.headers.get('access-control-allow-origin'), 'https://ui.example.com');
      },
      { allowOrigins: ['https://ui.example.com'] },
    ));

  test('with no configured origins no cross-origin request is allowed', () =>
    withServer(async (server) => {
      for (const origin of ['https://ui.example.com', server.url]) {
        const response = await preflight(server, origin);
        assert.equal(response.headers.get('access-control-allow-origin'), null);
        const get = await fetch(`${server.url}/ping`, { headers: { origin } });
        assert.equal(get.headers.get('access-control-allow-origin'), null);
      }
    }));

  test('responses carry a CSP that a same-origin React app works with, and the usual hardening headers', () =>
    withServer(async (server) => {
      const response = await fetch(`${server.url}/ping`);
      const csp = response.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "object-src 'none'",
      ]) {
        assert.ok(csp.includes(directive), `${directive} in ${csp}`);
      }
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-frame-options'), 'SAMEORIGIN');
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(response.headers.get('strict-transport-security'), null, 'no HSTS outside production');
    }));
});

test('publicRoutes makes static web files reachable without a session; everything else stays protected', async () => {
  const webRoot = mkdtempSync(path.join(tmpdir(), 'junjo-web-'));
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Junjo</title>');
  const web: HttpPlugin = publicRoutes(async (app) => {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/web/' });
  });
  try {
    await withServer(
      async (server) => {
        const page = await fetch(`${server.url}/web/index.html`);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /Junjo/);
        assert.equal((await fetch(`${server.url}/users`)).status, 401);
        assert.equal((await fetch(`${server.url}/api_keys`)).status, 401);
      },
      { features: [web] },
    );
  } finally {
    rmSync(webRoot, { recursive: true, force: true });
  }
});
