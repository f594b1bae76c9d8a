import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ADMIN,
  Client,
  signedInAdmin,
  signedInUser,
  startAccountsServer,
  type TestServer,
} from '../../../test/accounts/harness.ts';

const withServer = async (run: (server: TestServer) => Promise<void>) => {
  const server = await startAccountsServer();
  try {
    await run(server);
  } finally {
    await server.close();
  }
};

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('first-user setup', () => {
  test('creates the first user once, without signing in; afterwards it answers 409', () =>
    withServer(async (server) => {
      const client = new Client(server.url);
      const hasUsers = async () =>
        (await (await client.request('GET', '/users/db-has-users')).json()) as object;
      assert.deepEqual(await hasUsers(), { usersExist: false, setupTokenRequired: false });
      const created = await client.request('POST', '/users/create-first-user', { body: ADMIN });
      assert.equal(created.status, 200);
      assert.deepEqual(await created.json(), { message: 'First user created successfully' });
      assert.equal(created.headers.getSetCookie().length, 0, 'setup does not sign in');
      assert.deepEqual(await hasUsers(), { usersExist: true, setupTokenRequired: false });
      const again = await client.request('POST', '/users/create-first-user', {
        body: { email: 'intruder@example.com', password: 'another password' },
      });
      assert.equal(again.status, 409);
      assert.deepEqual(await again.json(), { message: 'Users already exist, cannot create first user.' });
      const stored = server.sqlite.prepare('SELECT email, password_hash FROM users').all();
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.email, ADMIN.email);
      assert.match(String(stored[0]?.password_hash), /^\$argon2id\$/);
    }));

  test('a request that came through an untrusted proxy needs the one-time token from the log', () =>
    withServer(async (server) => {
      const proxied = { 'x-forwarded-for': '203.0.113.7' };
      const client = new Client(server.url);
      assert.deepEqual(
        await (await client.request('GET', '/users/db-has-users', { headers: proxied })).json(),
        { usersExist: false, setupTokenRequired: true },
      );
      const setup = (setupToken?: string) =>
        client.request('POST', '/users/create-first-user', {
          body: { ...ADMIN, setupToken },
          headers: proxied,
        });
      for (const token of [undefined, 'a'.repeat(43)]) {
        const refused = await setup(token);
        assert.equal(refused.status, 403);
        assert.match(((await refused.json()) as { message: string }).message, /setup token/);
      }
      const token = /setup token ([\w-]{43})/.exec(server.logs())?.[1];
      assert.ok(token, 'the token is in the log');
      assert.equal((await setup(token)).status, 200);
      assert.equal((await setup(token)).status, 409, 'the token is spent once a user exists');
    }));

  test('of 50 concurrent setup requests exactly one succeeds', () =>
    withServer(async (server) => {
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fetch(`${server.url}/users/create-first-user`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: `racer${i}@example.com`, password: `password-${i}` }),
          }),
        ),
      );
      const statuses = responses.map((response) => response.status);
      assert.equal(statuses.filter((status) => status === 200).length, 1, statuses.join(','));
      assert.equal(statuses.filter((status) => status === 409).length, 49, statuses.join(','));
      for (const response of responses.filter((r) => r.status === 409)) {
        assert.deepEqual(await response.json(), {
          message: 'Users already exist, cannot create first user.',
        });
      }
      const rows = server.sqlite.prepare('SELECT email FROM users').all();
      assert.equal(rows.length, 1);
      const winner = statuses.indexOf(200);
      assert.equal(rows[0]?.email, `racer${winner}@example.com`);
    }));

  test('the password policy and email format are enforced with a 400 and a message', () =>
    withServer(async (server) => {
      const client = new Client(server.url);
      for (const body of [
        { email: ADMIN.email, password: 'seven77' },
        { email: ADMIN.email, password: 'x'.repeat(1025) },
        { email: 'not an email', password: ADMIN.password },
        { email: `${'a'.repeat(250)}@x.co`, password: ADMIN.password },
        { password: ADMIN.password },
      ]) {
        const response = await client.request('POST', '/users/create-first-user', { body });
        assert.equal(response.status, 400, JSON.stringify(body).slice(0, 80));
        assert.match(((await response.json()) as { message: string }).message, /^Invalid request: /);
      }
      assert.deepEqual(await (await client.request('GET', '/users/db-has-users')).json(), {
        usersExist: false,
        setupTokenRequired: false,
      });
      const exactlyEight = await client.request('POST', '/users/create-first-user', {
        body: { email: ADMIN.email, password: '12345678' },
      });
      assert.equal(exactlyEight.status, 200);
    }));
});

describe('users', () => {
  test('lists users newest first as {id, email, created_at} with UTC timestamps and nothing else', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      server.clock.advance(1500);
      const created = await admin.request('POST', '/users', {
        body: { email: 'Bob@Example.com', password: 'bobs password' },
      });
      assert.equal(created.status, 200);
      assert.deepEqual(await created.json(), { message: 'User created successfully' });
      const list = await admin.request('GET', '/users');
      assert.equal(list.status, 200);
      const users = (await list.json()) as Record<string, unknown>[];
      assert.deepEqual(
        users.map((user) => user.email),
        ['bob@example.com', ADMIN.email],
      );
      for (const user of users) {
        assert.deepEqual(Object.keys(user).sort(), ['created_at', 'email', 'id']);
        assert.equal(typeof user.id, 'number');
        assert.match(String(user.created_at), RFC3339_UTC);
      }
      assert.equal(users[0]?.created_at, '2026-01-15T10:00:01.500Z');
      const bob = new Client(server.url);
      await bob.signIn('BOB@example.com', 'bobs password');
      assert.deepEqual(await (await bob.request('GET', '/auth-test')).json(), {
        userEmail: 'bob@example.com',
      });
    }));

  test('a second user with the same email (in any case) → 409', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      const duplicate = await admin.request('POST', '/users', {
        body: { email: ADMIN.email.toUpperCase(), password: 'whatever123' },
      });
      assert.equal(duplicate.status, 409);
      assert.deepEqual(await duplicate.json(), { message: 'A user with this email already exists' });
    }));

  test('deleting a user ends their sessions at once', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      const bob = await signedInUser(server, admin, 'bob@example.com');
      assert.equal((await bob.request('GET', '/auth-test')).status, 200);
      const bobId = server.sqlite.prepare("SELECT id FROM users WHERE email = 'bob@example.com'").get()
        ?.id as number;
      const deleted = await admin.request('DELETE', `/users/${bobId}`);
      assert.equal(deleted.status, 200);
      assert.deepEqual(await deleted.json(), { message: 'User deleted successfully' });
      assert.equal((await bob.request('GET', '/auth-test')).status, 401);
      assert.equal(
        server.sqlite.prepare('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?').get(bobId)?.n,
        0,
      );
    }));

  test('the last remaining user cannot be deleted (409); an unknown id is 404; a non-integer id is 400', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      const bob = await signedInUser(server, admin, 'bob@example.com');
      const adminId = server.sqlite.prepare('SELECT id FROM users WHERE email = ?').get(ADMIN.email)?.id;
      const bobId = server.sqlite.prepare("SELECT id FROM users WHERE email = 'bob@example.com'").get()?.id;
      assert.equal((await bob.request('DELETE', `/users/${adminId}`)).status, 200);
      assert.equal((await admin.request('GET', '/auth-test')).status, 401);
      const last = await bob.request('DELETE', `/users/${bobId}`);
      assert.equal(last.status, 409);
      assert.match(((await last.json()) as { message: string }).message, /last remaining user/);
      assert.equal((await bob.request('GET', '/auth-test')).status, 200);
      const unknown = await bob.request('DELETE', '/users/999');
      assert.equal(unknown.status, 404);
      assert.deepEqual(await unknown.json(), { message: 'User not found' });
      for (const id of ['abc', '1.5', '-1', '0', '99999999999999999999']) {
        const response = await bob.request('DELETE', `/users/${id}`);
        assert.equal(response.status, 400, id);
        assert.equal(typeof ((await response.json()) as { message: unknown }).message, 'string');
      }
      assert.equal(server.sqlite.prepare('SELECT COUNT(*) AS n FROM users').get()?.n, 1);
    }));
});
