// Write-ahead log throughput: N concurrent appenders of ~400 KB payloads (the size of a 512-span
// export) with group commit at the default wait, then a poller-style sequential read of the backlog.
// Run alone: node_modules/.bin/node bench/wal.ts [secondsPerRun]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WriteAheadLog } from '../src/ingestion/wal/wal.ts';
import { createLogger } from '../src/logger.ts';

const PAYLOAD_BYTES = 400 * 1024;
const GROUP_COMMIT_MS = 2;
const CONCURRENCY = [1, 8, 32];
const MB = 1024 * 1024;

export async function benchWal(secondsPerRun = 3): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  for (const concurrency of CONCURRENCY) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-bench-wal-'));
    try {
      Object.assign(results, await benchOneConcurrency(dir, concurrency, secondsPerRun * 1000));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}

async function benchOneConcurrency(dir: string, concurrency: number, durationMs: number) {
  const wal = await WriteAheadLog.open(dir, { groupCommitMs: GROUP_COMMIT_MS, logger: createLogger('warn') });
  const latencies: number[] = [];
  const started = performance.now();
  const appender = async () => {
    const payload = randomBytes(PAYLOAD_BYTES);
    const meta = { receivedAtMs: Date.now(), apiKeyId: 'bench-key', format: 'protobuf' } as const;
    while (performance.now() - started < durationMs) {
      const before = performance.now();
      await wal.append(payload, meta);
      latencies.push(performance.now() - before);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, appender));
  const appendSeconds = (performance.now() - started) / 1000;
  const { appends, fsyncs, bytes } = wal.stats();

  const readStarted = performance.now();
  let readBytes = 0;
  for (let after: bigint | null = null; ; ) {
    const page = await wal.readAfter(after, { maxRecords: 10_000, maxBytes: 16 * MB });
    if (page.length === 0) break;
    for (const record of page) readBytes += record.payload.length;
    after = page.at(-1)!.key;
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  await wal.close();

  latencies.sort((a, b) => a - b);
  const prefix = `wal_c${concurrency}`;
  return {
    [`${prefix}_appends_per_s`]: round(appends / appendSeconds),
    [`${prefix}_mb_per_s`]: round(bytes / MB / appendSeconds),
    [`${prefix}_fsyncs_per_append`]: round(fsyncs / appends, 3),
    [`${prefix}_p50_ms`]: round(percentile(latencies, 0.5), 2),
    [`${prefix}_p99_ms`]: round(percentile(latencies, 0.99), 2),
    [`${prefix}_read_mb_per_s`]: round(readBytes / MB / readSeconds),
  };
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

if (import.meta.main) {
  const seconds = Number(process.argv[2] ?? 3);
  console.table(await benchWal(seconds));
}
