import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../config.ts';
import { IngestionThread } from './ingestion_thread.ts';

const FAILING_WORKER = new URL('../../../test/support/failing_ingestion_worker.ts', import.meta.url);
const NOT_SETTLED = Symbol('not settled');
/** What `failed` holds once the events already queued have run. */
const settledFailure = async (thread: IngestionThread) =>
  Promise.race([thread.failed, new Promise((resolve) => setTimeout(() => resolve(NOT_SETTLED), 50))]);

test('a worker that dies after start-up settles `failed` and rejects what was waiting on it', async () => {
  const thread = await IngestionThread.start(loadConfig({}), FAILING_WORKER);
  await assert.rejects(thread.facts(), /ingestion worker exited/);
  const failure = await thread.failed;
  assert.match(failure.message, /^ingestion worker crashed: worker failed on purpose/);
  await assert.rejects(thread.read(null, { maxRecords: 1, maxBytes: 1 }), /not running/);
});

test('closing the worker is not a failure', async () => {
  const thread = await IngestionThread.start(loadConfig({}), FAILING_WORKER);
  await thread.close();
  assert.equal(await settledFailure(thread), NOT_SETTLED);
});
