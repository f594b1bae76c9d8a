// What a DuckDB memory limit costs the poller's inserts: the ingestion benchmark's spans, converted
// from the same OTLP requests and inserted in poller-sized batches (4 MiB of exports) into a fresh
// file, in this process, without the server around them. Prints the process CPU per 1,000 spans of
// the inserts and of the checkpoint after them, DuckDB's memory by tag at its highest, and how much
// it spilled to `<file>.tmp` (bytes, and files: blocks of a size other than 256 KiB are spilled one
// file each). CPU time, not wall time, so a busy machine changes little; compare runs side by side.
//
//   node_modules/.bin/node bench/duckdb_spill.ts [--spans 200000] [--memory 192MiB] [--threads 2] [--block-size 65536] [--row-group-size 2048]
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { createLogger } from '../src/logger.ts';
import { processExport } from '../src/spans/export_processor.ts';
import type { SpanBatch } from '../src/spans/rows.ts';
import { buildRequests } from './ingestion.ts';

const POLLER_BATCH_BYTES = 4 * 2 ** 20;
const MIB = 2 ** 20;

/** The requests grouped as the poller reads them: up to 4 MiB of exports per transaction. */
export function pollerBatches(requests: { bytes: Buffer }[]): Buffer[][] {
  const batches: Buffer[][] = [[]];
  let bytes = 0;
  for (const { bytes: request } of requests) {
    if (bytes + request.length > POLLER_BATCH_BYTES && batches.at(-1)!.length > 0) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)!.push(request);
    bytes += request.length;
  }
  return batches;
}

/** One poller batch's exports converted into the rows a store inserts. */
export function batchRows(requests: Buffer[]): Required<Omit<SpanBatch, 'logRecords'>> {
  const rows: Required<Omit<SpanBatch, 'logRecords'>> = { spans: [], patches: [] };
  for (const request of requests) {
    const { spans, patches } = processExport(request, 'protobuf', 'traces').rows;
    for (const span of spans) rows.spans.push(span);
    for (const patch of patches) rows.patches.push(patch);
  }
  return rows;
}

/** CPU time (user + system) of this process so far, in ms. */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

if (import.meta.main) {
  const { values: args } = parseArgs({
    options: {
      spans: { type: 'string', default: '200000' },
      memory: { type: 'string' },
      threads: { type: 'string' },
      'block-size': { type: 'string' },
      'row-group-size': { type: 'string' },
    },
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-duckdb-spill-'));
  const file = path.join(dir, 'spans.duckdb');
  try {
    const store = await DuckDbSpanStore.open(file, createLogger('warn'), {
      idleCheckpointMs: 0,
      ...(args.memory !== undefined && { memoryLimit: args.memory }),
      ...(args.threads !== undefined && { threads: Number(args.threads) }),
      ...(args['block-size'] !== undefined && { blockSize: Number(args['block-size']) }),
      ...(args['row-group-size'] !== undefined && { rowGroupSize: Number(args['row-group-size']) }),
    });
    await store.prepare();
    const memoryByTag = () =>
      store.db.read(async (conn) => {
        const reader = await conn.runAndReadAll(
          'SELECT tag, memory_usage_bytes::DOUBLE, temporary_storage_bytes::DOUBLE FROM duckdb_memory()',
        );
        return reader.getRows() as [string, number, number][];
      });
    const tempFiles = () => {
      try {
        return readdirSync(`${file}.tmp`).length;
      } catch {
        return 0;
      }
    };
    let spans = 0;
    let insertCpuMs = 0;
    const peak = { usedBytes: 0, tags: {} as Record<string, number>, tempBytes: 0, tempFiles: 0 };
    for (const batch of pollerBatches(buildRequests(Number(args.spans), 7, 512))) {
      const rows = batchRows(batch);
      const before = processCpuMs();
      spans += (await store.insertBatch(rows)).spans;
      insertCpuMs += processCpuMs() - before;
      const memory = await memoryByTag();
      const used = memory.reduce((sum, [, bytes]) => sum + bytes, 0);
      peak.tempBytes = Math.max(
        peak.tempBytes,
        memory.reduce((sum, [, , temp]) => sum + temp, 0),
      );
      peak.tempFiles = Math.max(peak.tempFiles, tempFiles());
      if (used > peak.usedBytes) {
        peak.usedBytes = used;
        peak.tags = Object.fromEntries(
          memory.filter(([, bytes]) => bytes >= MIB).map(([tag, bytes]) => [tag, Math.round(bytes / MIB)]),
        );
      }
    }
    const before = processCpuMs();
    await store.db.checkpoint();
    const checkpointCpuMs = processCpuMs() - before;
    await store.db.close();
    const per1k = (ms: number) => Math.round((ms / spans) * 1000);
    console.table({
      spans,
      memory_limit: args.memory ?? 'DuckDB default (80% of RAM)',
      threads: args.threads ?? 'DuckDB default',
      block_size: args['block-size'] ?? 'default (64 KiB)',
      row_group_size: args['row-group-size'] ?? 'default (2048)',
      insert_cpu_ms_per_1k_spans: per1k(insertCpuMs),
      checkpoint_after_cpu_ms_per_1k_spans: per1k(checkpointCpuMs),
      duckdb_memory_peak_mib: Math.round(peak.usedBytes / MIB),
      ...Object.fromEntries(Object.entries(peak.tags).map(([tag, mib]) => [`at_peak_${tag}_mib`, mib])),
      spilled_peak_mib: Math.round(peak.tempBytes / MIB),
      spill_files_peak: peak.tempFiles,
      load_average_1m: Number(os.loadavg()[0]!.toFixed(2)),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
