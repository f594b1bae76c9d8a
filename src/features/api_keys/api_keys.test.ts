import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { signedInAdmin, startAccountsServer, type TestServer } from '../../../test/accounts/harness.ts';
import { sha256Hex } from '../auth/tokens.ts';
import { randomString } from './api_key_format.ts';

const withServer = async (run: (server: TestServer) => Promise<void>) => {
  const server = await startAccountsServer();
  try {
    await run(server);
  } finally {
    await server.close();
  }
};

interface CreatedKey {
  id: string;
  name: string;
  key: string;
  key_prefix: string;
  created_at: string;
}

describe('API keys', () => {
  test('POST returns the full key once; the list and the database hold only the prefix and a hash', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      const response = await admin.request('POST', '/api_keys', { body: { name: 'prod app' } });
      assert.equal(response.status, 201);
      const created = (await response.json()) as CreatedKey;
      assert.deepEqual(Object.keys(created).sort(), ['created_at', 'id', 'key', 'key_prefix', 'name']);
      assert.match(created.key, /^[0-9A-Za-z]{64}$/);
      assert.equal(created.key_prefix, created.key.slice(0, 8));
      assert.match(created.id, /^[A-Za-z0-9_-]{21}$/);
      assert.equal(created.name, 'prod app');
      assert.equal(created.created_at, '2026-01-15T10:00:00.000Z');

      const list = await admin.request('GET', '/api_keys');
      const listText = await list.text();
      const { key, ...listed } = created;
      assert.deepEqual(JSON.parse(listText), [listed]);
      assert.equal(listText.includes(key), false);
      assert.equal(listText.includes(sha256Hex(key)), false);

      const row = server.sqlite.prepare('SELECT * FROM api_keys').get();
      assert.equal(row?.key_hash, sha256Hex(key));
      assert.equal(Object.values(row ?? {}).includes(key), false);
      for (const file of [server.sqlitePath, `${server.sqlitePath}-wal`]) {
        assert.equal(readFileSync(file).includes(key), false, `plaintext key in ${file}`);
      }
      server.sqlite.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      assert.equal(readFileSync(server.sqlitePath).includes(key), false);
    }));

  test('DELETE by id → 204 with no body; an unknown id → 404', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      const created = (await (
        await admin.request('POST', '/api_keys', { body: { name: 'k' } })
      ).json()) as CreatedKey;
      const deleted = await admin.request('DELETE', `/api_keys/${created.id}`);
      assert.equal(deleted.status, 204);
      assert.equal(await deleted.text(), '');
      assert.deepEqual(await (await admin.request('GET', '/api_keys')).json(), []);
      const again = await admin.request('DELETE', `/api_keys/${created.id}`);
      assert.equal(again.status, 404);
      assert.deepEqual(await again.json(), { message: 'API key not found' });
      assert.equal(
        (await admin.request('DELETE', `/api_keys/${encodeURIComponent(created.key)}`)).status,
        404,
      );
    }));

  test('50 concurrent creations yield 50 distinct keys and ids, all listed', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          admin.request('POST', '/api_keys', { body: { name: `key ${i}` } }),
        ),
      );
      assert.deepEqual([...new Set(responses.map((r) => r.status))], [201]);
      const created = (await Promise.all(responses.map((r) => r.json()))) as CreatedKey[];
      assert.equal(new Set(created.map((k) => k.key)).size, 50);
      assert.equal(new Set(created.map((k) => k.id)).size, 50);
      const listed = (await (await admin.request('GET', '/api_keys')).json()) as CreatedKey[];
      assert.equal(listed.length, 50);
    }));

  test('a key needs a non-blank name of at most 200 characters (400 otherwise)', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      for (const body of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(201) }]) {
        const response = await admin.request('POST', '/api_keys', { body });
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.match(((await response.json()) as { message: string }).message, /^Invalid request: /);
      }
      const trimmed = await admin.request('POST', '/api_keys', { body: { name: '  padded  ' } });
      assert.equal(((await trimmed.json()) as CreatedKey).name, 'padded');
    }));

  test('a deleted key is refused by the ingestion validator within 1 second', () =>
    withServer(async (server) => {
      const admin = await signedInAdmin(server);
      const validator = server.accounts.apiKeyValidator;
      const created = (await (
        await admin.request('POST', '/api_keys', { body: { name: 'k' } })
      ).json()) as CreatedKey;
      assert.deepEqual(await validator.validate(created.key), { valid: true, keyId: created.id });
      assert.equal((await admin.request('DELETE', `/api_keys/${created.id}`)).status, 204);
      const deletedAt = performance.now();
      // The time a check starts is what counts, not when a busy machine gets round to answering it.
      for (;;) {
        const checkedAfterMs = performance.now() - deletedAt;
        if (!(await validator.validate(created.key)).valid) break;
        assert.ok(checkedAfterMs < 1000, `deleted key still accepted ${Math.round(checkedAfterMs)} ms after`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }));
});

test('randomString draws every alphabet character and nothing else', () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const counts = new Map<string, number>();
  for (const char of randomString(alphabet, 62_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort(), [...alphabet].sort());
  // 1000 expected per character; a modulo bias (256 % 62 = 8 favoured characters) would show as ~+24 %.
  for (const [char, count] of counts) assert.ok(count > 850 && count < 1150, `${char}: ${count}`);
});
