// What DuckDbSpanStore does when its file is opened again to release loaded index nodes
// (connection.ts): it reads the traces and lists read last again, before the reads that waited go on.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../logger.ts';
import { DuckDbSpanStore } from './duckdb_span_store.ts';

test('after its file is opened again, the store reads its last traces (up to 24) and its last lists again', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-reopen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'otel.duckdb');
  const filled = await DuckDbSpanStore.open(file, createLogger('silent'), { idleCheckpointMs: 0 });
  await filled.prepare(); // the lists' tables (the spans below are not listed: the lists are read empty)
  await filled.db.write((conn) =>
    conn.run(`INSERT INTO spans (trace_id, span_id, service_name, start_time, end_time)
              SELECT md5(i::VARCHAR), left(md5((-i)::VARCHAR), 16), 'svc', now(), now() FROM range(20000) t(i)`),
  );
  await filled.close();

  const lines: Array<{ msg: string; traces?: number; lists?: number }> = [];
  const logger = createLogger('debug', { write: (line: string) => lines.push(JSON.parse(line)) });
  // 64 MiB and a share of 1/256: past 256 KiB of loaded index nodes the file is opened again.
  const store = await DuckDbSpanStore.open(file, logger, {
    idleCheckpointMs: 0,
    memoryLimit: '64MiB',
    indexMemoryReopenShare: 1 / 256,
  });
  try {
    await store.rootSpanPage('svc', { limit: 50 }, { llmOnly: false });
    await store.workflowSpanPage('svc', { limit: 10 });
    // The memory check runs at most once a second, after a read.
    for (let group = 0; group < 2; group++) {
      for (let i = group * 100; i < (group + 1) * 100; i++) {
        const [span] = await store.traceSpans(createHash('md5').update(String(i)).digest('hex'));
        assert.ok(span, `trace ${i} is found`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    await store.db.read((conn) => conn.run('SELECT 1')); // the last group's check
    await store.db.write(async () => {}); // and it has run (it is queued on the writer)
  } finally {
    await store.close();
  }
  const reopened = lines.filter((line) =>
    line.msg.includes('opened its file again to release loaded index nodes'),
  );
  const readAgain = lines.filter(
    (line) => line.msg === 'DuckDB read the last traces and lists again after opening its file again',
  );
  assert.ok(reopened.length >= 1, lines.map((line) => line.msg).join(' | '));
  assert.equal(readAgain.length, reopened.length, lines.map((line) => line.msg).join(' | '));
  // Up to the last 24 traces: a 200 ms budget stops the traces early on a busy machine (CI read 20
  // once with two suites running); the lists are read after them whatever the budget left.
  assert.ok(
    readAgain.every((line) => line.traces! >= 1 && line.traces! <= 24 && line.lists === 2),
    JSON.stringify(readAgain),
  );
});
