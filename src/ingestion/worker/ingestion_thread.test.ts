import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../config.ts';
import { SERVER_NODE_FLAGS } from '../../launch.ts';
import { IngestionThread } from './ingestion_thread.ts';

const FAILING_WORKER = new URL('../../../test/support/failing_ingestion_worker.ts', import.meta.url);
const YOUNG_GENERATION_PROBE = new URL('../../../test/support/young_generation_probe.ts', import.meta.url);
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

test("the ingestion thread's young generation follows its resourceLimits, not the launcher's main-thread flag", async () => {
  // The launcher gives the main thread a 2 MB semi-space (a 4 MiB new space); V8 flags apply to
  // every isolate, so without IngestionThread resetting it the worker would collect as often.
  assert.ok(SERVER_NODE_FLAGS.includes('--max-semi-space-size=2'));
  const { stdout } = await promisify(execFile)(process.execPath, [
    ...SERVER_NODE_FLAGS,
    YOUNG_GENERATION_PROBE.pathname,
  ]);
  const { newSpaceBytes } = JSON.parse(stdout) as { newSpaceBytes: number };
  const MiB = 1024 * 1024;
  assert.ok(
    newSpaceBytes > 4 * MiB,
    `new space ${newSpaceBytes} bytes: the main thread's 2 MB semi-space applied`,
  );
  assert.ok(newSpaceBytes <= 16 * MiB, `new space ${newSpaceBytes} bytes: above the 16 MB young generation`);
});
