// End-to-end over real HTTP: deny by default on every route, the OpenAPI document, the full user flow
// with every log line checked for secrets, and SQL-injection strings that must change nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN, Client, signedInAdmin, signedInUser, startAccountsServer } from '../test/accounts/harness.ts';
import { SESSION_TTL_MS } from './features/auth/sessions_service.ts';
import { sha256Hex } from './features/auth/tokens.ts';

const PUBLIC = new Set([
  'GET /ping',
  'GET /health',
  'GET /csrf',
  'POST /sign-in',
  'GET /users/db-has-users',
  'POST /users/create-first-user',
]);
const ACCOUNT_ROUTES = [
  'GET /users/db-has-users',
  'POST /users/create-first-user',
  'POST /sign-in',
  'POST /sign-out',
  'GET /auth-test',
  'GET /csrf',
  'GET /users',
  'POST /users',
  'DELETE /users/{id}',
  'GET /api_keys',
  'POST /api_keys',
  'DELETE /api_keys/{id}',
];

interface OpenApi {
  paths: Record<string, Record<string, { tags?: string[]; summary?: string; security?: unknown[] }>>;
}

const operations = (doc: OpenApi) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );

test('GET /openapi.json documents every accounts route with a tag and a summary, and marks the public ones', async () => {
  const server = await startAccountsServer();
  try {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApi;
    const documented = new Map(operations(doc).map(({ route, operation }) => [route, operation]));
    for (const route of ACCOUNT_ROUTES) {
      const operation = documented.get(route);
      assert.ok(operation, `${route} missing from the OpenAPI document`);
      assert.ok(operation.tags?.length && operation.summary, `${route} has no tags or summary`);
      assert.equal(
        operation.security?.length === 0,
        PUBLIC.has(route),
        `${route}: security marks public routes`,
      );
    }
  } finally {
    await server.close();
  }
});

describe('deny by default', () => {
  test('every route not on the public list answers 401 without a session, and with a tampered, expired or deleted-user session', async () => {
    const server = await startAccountsServer();
    try {
      const admin = await signedInAdmin(server);
      const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApi;
      const protectedRoutes = operations(doc)
        .map(({ route }) => route)
        .filter((route) => !PUBLIC.has(route));
      for (const route of ACCOUNT_ROUTES.filter((r) => !PUBLIC.has(r)))
        assert.ok(protectedRoutes.includes(route), route);
      protectedRoutes.push('GET /no-such-route', 'POST /no-such-route');

      const tampered = await signedInUser(server, admin, 'tampered@example.com');
      const sessionId = tampered.cookies.get('session') ?? '';
      tampered.cookies.set('session', `${sessionId.slice(0, -1)}${sessionId.endsWith('A') ? 'B' : 'A'}`);
      const deletedUser = await signedInUser(server, admin, 'deleted@example.com');
      const deletedId = server.sqlite
        .prepare("SELECT id FROM users WHERE email = 'deleted@example.com'")
        .get()?.id;
      assert.equal((await admin.request('DELETE', `/users/${deletedId}`)).status, 200);
      const expired = new Client(server.url);
      await expired.signIn();

      const check = async (label: string, client: Client) => {
        for (const route of protectedRoutes) {
          const [method = 'GET', path = '/'] = route.split(' ');
          const response = await client.request(method, path.replace('{id}', '1'), {
            body:
              method === 'POST' ? { email: 'x@example.com', password: 'password123', name: 'n' } : undefined,
          });
          assert.equal(response.status, 401, `${label}: ${route}`);
          assert.deepEqual(
            await response.json(),
            { message: 'Unauthorized: No valid session' },
            `${label}: ${route}`,
          );
        }
      };
      await check('no session', new Client(server.url));
      await check('tampered session', tampered);
      await check('deleted user', deletedUser);
      server.clock.advance(SESSION_TTL_MS);
      await check('expired session', expired);
      assert.equal(
        server.sqlite.prepare('SELECT COUNT(*) AS n FROM users').get()?.n,
        2,
        'nothing was created',
      );
      assert.equal(
        server.sqlite.prepare('SELECT COUNT(*) AS n FROM api_keys').get()?.n,
        0,
        'nothing was created',
      );
    } finally {
      await server.close();
    }
  });

  test('an unknown route is 401 signed out and 404 signed in', async () => {
    const server = await startAccountsServer();
    try {
      const admin = await signedInAdmin(server);
      assert.equal((await fetch(`${server.url}/nope`)).status, 401);
      const notFound = await admin.request('GET', '/nope');
      assert.equal(notFound.status, 404);
      assert.deepEqual(await notFound.json(), { message: 'Not Found' });
    } finally {
      await server.close();
    }
  });
});

test('full flow: setup → sign-in → create key → list → delete → sign-out, with no secret in any response list or log line', async () => {
  const server = await startAccountsServer();
  try {
    const browser = new Client(server.url);
    assert.deepEqual(await (await browser.request('GET', '/users/db-has-users')).json(), {
      usersExist: false,
      setupTokenRequired: false,
    });
    assert.equal((await browser.request('POST', '/users/create-first-user', { body: ADMIN })).status, 200);
    assert.equal((await browser.request('GET', '/auth-test')).status, 401);
    await browser.signIn();
    const sessionId = browser.cookies.get('session') ?? '';
    assert.deepEqual(await (await browser.request('GET', '/auth-test')).json(), { userEmail: ADMIN.email });

    const created = await browser.request('POST', '/api_keys', { body: { name: 'flow key' } });
    assert.equal(created.status, 201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    assert.deepEqual(await server.accounts.apiKeyValidator.validate(key), { valid: true, keyId: id });

    const keysText = await (await browser.request('GET', '/api_keys')).text();
    const usersText = await (await browser.request('GET', '/users')).text();
    const passwordHash = String(
      server.sqlite.prepare('SELECT password_hash FROM users').get()?.password_hash,
    );
    for (const [name, secret] of Object.entries({
      key,
      keyHash: sha256Hex(key),
      passwordHash,
      password: ADMIN.password,
    })) {
      assert.equal(keysText.includes(secret), false, `${name} in GET /api_keys`);
      assert.equal(usersText.includes(secret), false, `${name} in GET /users`);
    }
    assert.match(keysText, /"key_prefix"/);
    assert.doesNotMatch(usersText, /password/);

    assert.equal((await browser.request('DELETE', `/api_keys/${id}`)).status, 204);
    assert.deepEqual(await server.accounts.apiKeyValidator.validate(key), { valid: false });
    assert.deepEqual(await (await browser.request('GET', '/api_keys')).json(), []);
    assert.deepEqual(await (await browser.request('POST', '/sign-out')).json(), { message: 'signed out' });
    assert.equal(browser.cookies.has('session'), false, 'the browser was told to drop the cookie');
    browser.cookies.set('session', sessionId);
    assert.equal((await browser.request('GET', '/auth-test')).status, 401);

    // A failed sign-in and a rejected body too, since error paths are where secrets tend to be logged.
    await new Client(server.url).request('POST', '/sign-in', {
      body: { email: ADMIN.email, password: 'Wr0ng-Pa55word' },
    });
    await new Client(server.url).request('POST', '/users/create-first-user', {
      body: { email: 'bad', password: 'Sh0rt' },
    });

    const logs = server.logs();
    assert.match(logs, /"msg":"API key created"/, 'logs were captured');
    assert.match(logs, /"msg":"sign-in refused"/);
    const secrets = {
      password: ADMIN.password,
      wrongPassword: 'Wr0ng-Pa55word',
      shortPassword: 'Sh0rt',
      passwordHash,
      key,
      keyHash: sha256Hex(key),
      sessionId,
      sessionIdHash: sha256Hex(sessionId),
      csrfToken: browser.csrfToken ?? 'unset',
    };
    for (const [name, secret] of Object.entries(secrets)) {
      assert.equal(logs.includes(secret), false, `${name} appears in the logs`);
    }
  } finally {
    await server.close();
  }
});

test('SQL-injection strings in bodies and path parameters are plain data and change nothing', async () => {
  const server = await startAccountsServer();
  try {
    const admin = await signedInAdmin(server);
    const keyCount = () => server.sqlite.prepare('SELECT COUNT(*) AS n FROM api_keys').get()?.n;
    const userCount = () => server.sqlite.prepare('SELECT COUNT(*) AS n FROM users').get()?.n;

    const name = "x'); DROP TABLE api_keys; --";
    const created = await admin.request('POST', '/api_keys', { body: { name } });
    assert.equal(created.status, 201);
    assert.deepEqual(
      ((await (await admin.request('GET', '/api_keys')).json()) as { name: string }[]).map((k) => k.name),
      [name],
    );
    for (const id of ["' OR '1'='1", "x'; DELETE FROM api_keys; --", '1 OR 1=1', '%']) {
      const response = await admin.request('DELETE', `/api_keys/${encodeURIComponent(id)}`);
      assert.equal(response.status, 404, id);
    }
    assert.equal(keyCount(), 1);

    const quoted = "o'brien@example.com";
    assert.equal(
      (await admin.request('POST', '/users', { body: { email: quoted, password: "p' OR '1'='1" } })).status,
      200,
    );
    assert.ok(
      ((await (await admin.request('GET', '/users')).json()) as { email: string }[]).some(
        (u) => u.email === quoted,
      ),
    );
    for (const email of ["x@example.com' OR '1'='1", "'; DROP TABLE users; --"]) {
      assert.equal(
        (await admin.request('POST', '/users', { body: { email, password: 'password123' } })).status,
        400,
      );
    }
    for (const id of ['1 OR 1=1', "1'; DELETE FROM users; --", '1;DROP TABLE users']) {
      assert.equal((await admin.request('DELETE', `/users/${encodeURIComponent(id)}`)).status, 400, id);
    }
    assert.equal(userCount(), 2);

    for (const body of [
      { email: ADMIN.email, password: "' OR '1'='1" },
      { email: "admin@example.com' --", password: 'anything' },
      { email: "' OR 1=1 --@example.com", password: 'anything' },
    ]) {
      const response = await new Client(server.url).request('POST', '/sign-in', { body });
      assert.ok([400, 401].includes(response.status), `${JSON.stringify(body)} → ${response.status}`);
      assert.equal(response.headers.getSetCookie().length, 0);
    }
    const tables = server.sqlite
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all()
      .map((row) => row.name);
    assert.deepEqual(tables, [
      'api_keys',
      'poller_state',
      'schema_migrations',
      'sessions',
      'sign_in_attempts',
      'users',
    ]);
  } finally {
    await server.close();
  }
});
