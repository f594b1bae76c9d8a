import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { capturingLogger, tempDir } from './test_support.ts';
import { WriteAheadLog } from './wal.ts';

const CHILD = fileURLToPath(new URL('./kill9_child.ts', import.meta.url));
const ROUNDS = 3;

const { dir, remove } = tempDir();
after(remove);

/** Runs the child until it has acknowledged some appends, kills it at a random moment, returns its acks. */
async function appendUntilKilled(round: number): Promise<Map<bigint, string>> {
  const child = spawn(process.execPath, [CHILD, dir, String(round)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`child exited before acknowledging anything:\n${output}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const acknowledged = new Map<bigint, string>();
  for (const line of output.split('\n').slice(0, -1)) {
    const [key, payloadId] = line.split(' ');
    acknowledged.set(BigInt(key!), payloadId!);
  }
  return acknowledged;
}

test('after kill -9 at a random moment every acknowledged append is in the log exactly once', async () => {
  const acknowledged = new Map<bigint, string>();
  for (let round = 1; round <= ROUNDS; round++) {
    const acks = await appendUntilKilled(round);
    for (const [key, payloadId] of acks) {
      assert.equal(acknowledged.has(key), false, `key ${key} was handed out twice`);
      acknowledged.set(key, payloadId);
    }

    const { logger } = capturingLogger();
    const wal = await WriteAheadLog.open(dir, { groupCommitMs: 0, logger });
    const found = new Map<bigint, string>();
    const seenPayloads = new Set<string>();
    for (let after: bigint | null = null; ; ) {
      const page = await wal.readAfter(after, { maxRecords: 500, maxBytes: 8 * 1024 * 1024 });
      if (page.length === 0) break;
      for (const record of page) {
        const payloadId = Buffer.from(record.payload).toString('latin1').split(' ')[0]!;
        assert.ok(after === null || record.key > after, 'keys increase');
        assert.equal(seenPayloads.has(payloadId), false, `payload ${payloadId} stored twice`);
        seenPayloads.add(payloadId);
        found.set(record.key, payloadId);
        after = record.key;
      }
    }
    await wal.close();
    assert.ok(acks.size > 0);
    for (const [key, payloadId] of acknowledged) {
      assert.equal(
        found.get(key),
        payloadId,
        `acknowledged key ${key} (${payloadId}) missing after round ${round}`,
      );
    }
  }
});
