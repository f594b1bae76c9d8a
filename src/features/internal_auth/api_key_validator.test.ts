import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createApiKeysRepository } from '../../db_sqlite/api_keys/api_keys_repository.ts';
import { openSqlite } from '../../db_sqlite/connection.ts';
import { createLogger } from '../../logger.ts';
import { createApiKeysService } from '../api_keys/api_keys_service.ts';
import { LocalApiKeyValidator } from './api_key_validator.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'junjo-validator-'));
const logger = createLogger('silent');
const db = openSqlite(path.join(dir, 'keys.db'), logger);
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
const keys = createApiKeysRepository(db);
const service = createApiKeysService({ keys, clock: Date.now, logger });
const validator = new LocalApiKeyValidator(keys);

test('accepts a stored key with its id; refuses unknown, malformed and deleted keys', async () => {
  const created = service.create('ingest');
  assert.deepEqual(await validator.validate(created.key), { valid: true, keyId: created.id });
  for (const key of [
    '',
    created.key.slice(0, 63),
    `${created.key}x`,
    created.key.toLowerCase(),
    "' OR '1'='1",
    'startup-readiness-check',
  ]) {
    if (key === created.key) continue;
    assert.deepEqual(await validator.validate(key), { valid: false }, key);
  }
  service.delete(created.id);
  assert.deepEqual(await validator.validate(created.key), { valid: false });
});

test('a lookup is cheap enough to run on every export without a cache', async (t) => {
  const created = service.create('bench');
  const rounds = 20_000;
  const started = performance.now();
  for (let i = 0; i < rounds; i += 1) await validator.validate(created.key);
  const microseconds = ((performance.now() - started) * 1000) / rounds;
  t.diagnostic(`LocalApiKeyValidator.validate: ${microseconds.toFixed(1)} µs per call`);
  assert.ok(microseconds < 500, `${microseconds} µs per lookup`);
});
