// The storage report accounts for a real store's bytes: every table and index of the schema, sized
// from the file itself, and nothing counted twice.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { packRequests, workflowMix } from '../fixtures/junjo_traces.ts';
import { createLogger } from '../logger.ts';
import { processTraceRequest } from '../spans/span_processor.ts';
import { DuckDbSpanStore } from './duckdb_span_store.ts';
import { formatStorageReport, type StorageReport, storageReport } from './storage_report.ts';

let dir: string;
let store: DuckDbSpanStore;
let report: StorageReport;
let spans = 0;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-storage-report-'));
  store = await DuckDbSpanStore.open(path.join(dir, 'otel.duckdb'), createLogger('silent'), {
    idleCheckpointMs: 0,
  });
  await store.prepare();
  for (const request of packRequests(workflowMix({ traces: 400, services: 3, seed: 3 }), 512)) {
    spans += (await store.insertBatch(processTraceRequest(request))).spans;
  }
  await store.db.checkpoint();
  report = await storageReport(store.db, path.join(dir, 'scratch.duckdb'));
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('sizes every table from its stored segments, largest first, within the used blocks', () => {
  const byName = new Map(report.tables.map((t) => [t.table, t]));
  assert.equal(byName.get('spans')?.rows, spans);
  assert.ok(byName.get('spans')!.bytes > byName.get('state_patches')!.bytes);
  assert.ok(byName.get('state_patches')!.bytes > 0);
  assert.equal(byName.get('log_records')?.bytes, 0, 'an empty table owns no segment');
  const sizes = report.tables.map((t) => t.bytes);
  assert.deepEqual(
    sizes,
    [...sizes].sort((a, b) => b - a),
  );
  assert.ok(sizes.reduce((sum, bytes) => sum + bytes, 0) <= report.usedBytes);
});

test('sizes every index and primary key of the schema, and removes its scratch file', () => {
  const names = report.indexes.map((i) => i.index).sort();
  for (const expected of [
    'idx_trace_id',
    'idx_parent_span_id',
    'idx_start_time',
    'idx_end_time',
    'idx_junjo_id',
    'idx_junjo_span_type',
    'idx_state_patches_trace_id_span_id',
    'idx_state_patches_workflow_id',
    'idx_state_patches_node_id',
    'idx_state_patches_event_time',
    'spans_pkey',
    'state_patches_pkey',
  ]) {
    assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  }
  const bytes = (name: string) => report.indexes.find((i) => i.index === name)!.bytes;
  // The primary key holds both ids of every span; the trace index one id per span.
  assert.ok(bytes('spans_pkey') > 0);
  assert.ok(bytes('spans_pkey') >= bytes('idx_trace_id'));
  assert.equal(existsSync(path.join(dir, 'scratch.duckdb')), false);
});

test('prints bytes per span for each table and index', () => {
  const lines = formatStorageReport(report, spans);
  const spansLine = lines.find((line) => line.includes('table spans'));
  const perSpan = Number(spansLine?.match(/ (\d+)\s+\(/)?.[1]);
  const spansTable = report.tables.find((t) => t.table === 'spans')!;
  assert.equal(perSpan, Math.round(spansTable.bytes / spans));
  assert.equal(lines.filter((line) => line.includes('index ')).length, report.indexes.length);
});
