// Split-mode key checks over loopback gRPC: GrpcApiKeyValidator (the ingestion role's side) against
// addValidateApiKeyService backed by the real LocalApiKeyValidator and SQLite. Valid keys come back
// with their id, unknown ones are refused, a deleted key is refused within a second, and when the
// backend cannot answer the check fails fast with a retryable error rather than a verdict. A client
// without the internal secret gets no verdict either, and its operator a clear log line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../../../test/support/ports.ts';
import { createApiKeysRepository } from '../../db_sqlite/api_keys/api_keys_repository.ts';
import { openSqlite } from '../../db_sqlite/connection.ts';
import { AppError } from '../../errors.ts';
import { requireInternalSecret } from '../../grpc/internal_secret.ts';
import { capturingLogger } from '../../ingestion/wal/test_support.ts';
import { createLogger } from '../../logger.ts';
import { createApiKeysService } from '../api_keys/api_keys_service.ts';
import type { ApiKeyValidation, ApiKeyValidator } from './api_key_validator.ts';
import { LocalApiKeyValidator } from './api_key_validator.ts';
import { addValidateApiKeyService, GrpcApiKeyValidator } from './grpc_validator.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'junjo-grpc-validator-'));
const logger = createLogger('silent');
const db = openSqlite(path.join(dir, 'keys.db'), logger);
const keys = createApiKeysRepository(db);
const service = createApiKeysService({ keys, clock: Date.now, logger });
const servers: grpc.Server[] = [];
const SECRET = 's'.repeat(40);
const clients: GrpcApiKeyValidator[] = [];

async function serve(
  validator: ApiKeyValidator,
  client = { secret: SECRET, logger },
): Promise<GrpcApiKeyValidator> {
  const server = new grpc.Server({ interceptors: [requireInternalSecret(SECRET, logger)] });
  addValidateApiKeyService(server, validator, logger);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  servers.push(server);
  const validatorClient = new GrpcApiKeyValidator(`127.0.0.1:${port}`, client.secret, client.logger);
  clients.push(validatorClient);
  return validatorClient;
}

let remote: GrpcApiKeyValidator;
before(async () => {
  remote = await serve(new LocalApiKeyValidator(keys));
});
after(() => {
  for (const client of clients) client.close();
  for (const server of servers) server.forceShutdown();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const isRetryable = (error: unknown) => {
  assert.ok(error instanceof AppError);
  assert.equal(error.kind, 'unavailable');
  assert.ok((error.retryAfterSeconds ?? 0) > 0);
  return true;
};

test('a stored key is valid with its id; unknown and malformed keys are refused', async () => {
  const created = service.create('split mode');
  assert.deepEqual(await remote.validate(created.key), { valid: true, keyId: created.id });
  for (const key of ['', 'x'.repeat(64), `${created.key}x`, created.key.slice(1)]) {
    assert.deepEqual(await remote.validate(key), { valid: false }, key);
  }
});

test('a deleted key is refused within one second', async () => {
  const created = service.create('soon deleted');
  assert.deepEqual(await remote.validate(created.key), { valid: true, keyId: created.id });
  service.delete(created.id);
  const deletedAt = performance.now();
  // The time a check starts is what counts, not when a busy machine gets round to answering it.
  for (;;) {
    const checkedAfterMs = performance.now() - deletedAt;
    if (!(await remote.validate(created.key)).valid) break;
    assert.ok(checkedAfterMs < 1000, `still accepted ${Math.round(checkedAfterMs)} ms after the delete`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(await remote.validate(created.key), { valid: false });
});

test('an unreachable backend fails the check fast with a retryable error', async () => {
  const unreachable = new GrpcApiKeyValidator(`127.0.0.1:${await freePort()}`, SECRET, logger);
  clients.push(unreachable);
  const started = performance.now();
  await assert.rejects(unreachable.validate('x'.repeat(64)), isRetryable);
  assert.ok(performance.now() - started < 2000, 'no wait for the deadline');
});

test('a backend whose check throws answers with an error, which the client turns into a retryable one', async () => {
  const failing = await serve({
    validate: async () => {
      throw new Error('database is locked');
    },
  });
  await assert.rejects(failing.validate('x'.repeat(64)), isRetryable);
});

test('a backend that stops answering turns checks into retryable errors, not refusals', async () => {
  const created = service.create('backend goes away');
  const client = await serve(new LocalApiKeyValidator(keys));
  assert.equal((await client.validate(created.key)).valid, true);
  servers.at(-1)!.forceShutdown();
  const stoppedAt = performance.now();
  // The short positive cache may still answer; after it the check must reach the backend again.
  for (;;) {
    const checkedAfterMs = performance.now() - stoppedAt;
    const outcome: ApiKeyValidation | Error = await client
      .validate(created.key)
      .catch((error: Error) => error);
    if (!(outcome instanceof Error)) {
      assert.equal(outcome.valid, true, 'never a refusal while the backend is gone');
      assert.ok(checkedAfterMs < 1000, `the cache still answers ${Math.round(checkedAfterMs)} ms after`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    assert.ok(isRetryable(outcome));
    break;
  }
});

test('a client with another secret gets no verdict, only a retryable error, and logs why', async () => {
  const created = service.create('secret mismatch');
  const captured = capturingLogger();
  const intruder = await serve(new LocalApiKeyValidator(keys), {
    secret: 'w'.repeat(40),
    logger: captured.logger,
  });
  await assert.rejects(intruder.validate(created.key), isRetryable);
  assert.ok(
    captured.lines.some((line) => String(line.msg).includes('JUNJO_INTERNAL_SECRET differs')),
    'a log line names the setting',
  );
});
