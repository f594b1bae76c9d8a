// DuckDB insert throughput on the same rows, each way on a fresh file with the seed's schema:
// - DuckDbSpanStore.insertBatch, the SpanStore writer (appender straight into the tables, INSERT OR
//   IGNORE fallback),
// - the INSERT OR IGNORE path alone (staging table + INSERT OR IGNORE … SELECT),
// - the raw appender ceiling (no checks, no staging),
// plus a replay of every batch (all rows already stored, so every batch falls back).
// Run alone: node_modules/.bin/node bench/duckdb_insert.ts [spans]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type DuckDb, openDuckDb } from '../src/db_duckdb/connection.ts';
import { DuckDbSpanStore } from '../src/db_duckdb/duckdb_span_store.ts';
import { appendRow, insertOrIgnoreBatch, SPANS, STATE_PATCHES } from '../src/db_duckdb/span_repository.ts';
import { prepareQuerySupport } from '../src/db_duckdb/summaries.ts';
import { createLogger } from '../src/logger.ts';
import type { SpanBatch, SpanRow, StatePatchRow } from '../src/spans/rows.ts';
import { testSpanRow } from '../src/spans/test_span_row.ts';

const BATCH_SPANS = 2000;
const NODES_PER_WORKFLOW = 9;

export async function benchDuckDbInsert(rows: SpanBatch): Promise<Record<string, number>> {
  const batches = toBatches(rows);
  const repository = await onFreshFile(async (db) => {
    const store = new DuckDbSpanStore(db, createLogger('warn'));
    await store.prepare();
    const insertAll = async () => {
      for (const batch of batches) await store.insertBatch(batch);
    };
    const first = await timed(insertAll);
    const checkpoint = await timed(() => db.checkpoint());
    const replay = await timed(insertAll);
    return { first, checkpoint, replay };
  });
  const orIgnore = await onFreshFile(async (db) => {
    await prepareQuerySupport(db); // the insert paths maintain the query-support tables too
    return timed(async () => {
      for (const batch of batches) await db.write((conn) => insertOrIgnoreBatch(conn, batch));
    });
  });
  const appender = await onFreshFile((db) =>
    timed(async () => {
      for (const batch of batches) {
        await db.write(async (conn) => {
          const spans = await conn.createAppender('spans');
          for (const span of batch.spans) appendRow(spans, SPANS.columns, span);
          spans.closeSync();
          const patches = await conn.createAppender('state_patches');
          for (const patch of batch.patches) appendRow(patches, STATE_PATCHES.columns, patch);
          patches.closeSync();
        });
      }
    }),
  );
  const perSec = (ms: number) => Math.round((rows.spans.length / ms) * 1000);
  const result = {
    spans: rows.spans.length,
    patches: rows.patches.length,
    batchSpans: BATCH_SPANS,
    insertBatchSpansPerSec: perSec(repository.first.wallMs),
    insertBatchSpansPerCpuSec: perSec(repository.first.cpuMs),
    insertBatchLoopDelayP99Ms: repository.first.loopDelayP99Ms,
    checkpointAfterInsertMs: Math.round(repository.checkpoint.wallMs),
    replayAllStoredSpansPerSec: perSec(repository.replay.wallMs),
    orIgnorePathSpansPerSec: perSec(orIgnore.wallMs),
    orIgnorePathSpansPerCpuSec: perSec(orIgnore.cpuMs),
    orIgnorePathLoopDelayP99Ms: orIgnore.loopDelayP99Ms,
    appenderSpansPerSec: perSec(appender.wallMs),
    appenderSpansPerCpuSec: perSec(appender.cpuMs),
    insertBatchToAppenderRatio: Number((appender.wallMs / repository.first.wallMs).toFixed(2)),
    orIgnorePathToAppenderRatio: Number((appender.wallMs / orIgnore.wallMs).toFixed(2)),
  };
  const line = (label: string, ...values: (number | string)[]) =>
    `  ${label.padEnd(36)}${values.join(' | ')}`;
  console.log(
    [
      `DuckDB insert, ${result.spans} spans + ${result.patches} patches, batches of ${BATCH_SPANS} spans`,
      line('', 'spans/s', 'spans per CPU-s', 'event-loop delay p99'),
      line(
        'insertBatch',
        result.insertBatchSpansPerSec,
        result.insertBatchSpansPerCpuSec,
        `${result.insertBatchLoopDelayP99Ms} ms`,
      ),
      line('  then CHECKPOINT', `${result.checkpointAfterInsertMs} ms`),
      line('  replay, every row already stored', result.replayAllStoredSpansPerSec),
      line(
        'INSERT OR IGNORE path alone',
        result.orIgnorePathSpansPerSec,
        result.orIgnorePathSpansPerCpuSec,
        `${result.orIgnorePathLoopDelayP99Ms} ms`,
      ),
      line('raw appender (ceiling)', result.appenderSpansPerSec, result.appenderSpansPerCpuSec),
      line('insertBatch / raw appender', result.insertBatchToAppenderRatio),
      line('INSERT OR IGNORE / raw appender', result.orIgnorePathToAppenderRatio),
    ].join('\n'),
  );
  return result;
}

/**
 * Workflow runs (one workflow span + NODES_PER_WORKFLOW node spans, 0–2 set_state patches per node)
 * with ~1 KB of attributes per span: a stand-in when the realistic fixtures are not wanted.
 */
export function syntheticRows(n: number): SpanBatch {
  const spans: SpanRow[] = [];
  const patches: StatePatchRow[] = [];
  const startUs = BigInt(Date.now()) * 1000n - BigInt(n) * 1000n;
  for (let i = 0; spans.length < n; i++) {
    const traceId = hex(16);
    const workflowSpanId = hex(8);
    const storeId = `store_${hex(6)}`;
    const workflowJunjoId = `wf_${i % 20}`;
    const serviceName = `service-${i % 5}`;
    const t0 = startUs + BigInt(spans.length) * 1000n;
    spans.push(
      span({
        trace_id: traceId,
        span_id: workflowSpanId,
        parent_span_id: null,
        service_name: serviceName,
        name: `Workflow ${i % 20}`,
        start_time: t0,
        end_time: t0 + 900_000n,
        junjo_id: workflowJunjoId,
        junjo_parent_id: '',
        junjo_span_type: 'workflow',
        junjo_wf_state_start: JSON.stringify({ items: [], count: 0, run: i }),
        junjo_wf_state_end: JSON.stringify({ items: ['a', 'b', 'c'], count: NODES_PER_WORKFLOW, run: i }),
        junjo_wf_graph_structure: graphJson(i % 20),
        junjo_wf_store_id: storeId,
      }),
    );
    for (let k = 0; k < NODES_PER_WORKFLOW && spans.length < n; k++) {
      const spanId = hex(8);
      const nodeStart = t0 + BigInt(k) * 100_000n + 7n;
      spans.push(
        span({
          trace_id: traceId,
          span_id: spanId,
          parent_span_id: workflowSpanId,
          service_name: serviceName,
          name: `Node${k}`,
          start_time: nodeStart,
          end_time: nodeStart + 95_123n,
          junjo_id: `node_${k}`,
          junjo_parent_id: workflowJunjoId,
          junjo_span_type: 'node',
        }),
      );
      for (let p = 0; p < k % 3; p++) {
        patches.push({
          patch_id: `patch_${hex(10)}`,
          service_name: serviceName,
          trace_id: traceId,
          span_id: spanId,
          workflow_id: workflowJunjoId,
          node_id: `node_${k}`,
          event_time: nodeStart + BigInt(p) * 10n,
          patch_json: JSON.stringify([{ op: 'replace', path: '/count', value: k + p }]),
          patch_store_id: storeId,
        });
      }
    }
  }
  return { spans, patches };
}

function span(
  fields: Partial<SpanRow> & Pick<SpanRow, 'trace_id' | 'span_id' | 'start_time' | 'end_time'>,
): SpanRow {
  return testSpanRow({
    service_name: 'service',
    status_code: 'OK',
    attributes_json: attributesJson(),
    ...fields,
  });
}

/** About 1 KB of typical LLM-call attributes. */
function attributesJson(): string {
  return JSON.stringify({
    'gen_ai.system': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 812,
    'gen_ai.usage.output_tokens': 143,
    'http.status_code': 200,
    'code.function': 'run_node',
    'app.request_id': hex(16),
    'gen_ai.prompt': `Summarise the following customer message and classify its intent. ${'lorem ipsum dolor sit amet '.repeat(22)}`,
    'gen_ai.completion': `The customer asks about ${hex(6)}. Intent: billing. ${'consectetur adipiscing '.repeat(8)}`,
  });
}

function graphJson(workflow: number): string {
  const nodes = Array.from({ length: NODES_PER_WORKFLOW }, (_, k) => ({
    id: `node_${k}`,
    type: `Node${k}`,
    label: `Node ${k}`,
  }));
  const edges = nodes.slice(1).map((node, k) => ({ id: `e${k}`, source: `node_${k}`, target: node.id }));
  return JSON.stringify({ v: 1, workflow, nodes, edges }, null, 2);
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function toBatches(rows: SpanBatch): SpanBatch[] {
  const patchesBySpan = Map.groupBy(rows.patches, (p) => `${p.trace_id}/${p.span_id}`);
  const batches: SpanBatch[] = [];
  for (let i = 0; i < rows.spans.length; i += BATCH_SPANS) {
    const spans = rows.spans.slice(i, i + BATCH_SPANS);
    const patches = spans.flatMap((s) => patchesBySpan.get(`${s.trace_id}/${s.span_id}`) ?? []);
    batches.push({ spans, patches });
  }
  return batches;
}

async function onFreshFile<T>(run: (db: DuckDb) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-bench-duckdb-'));
  // Checkpoints only where the bench times them.
  const db = await openDuckDb(path.join(dir, 'bench.duckdb'), createLogger('warn'), { idleCheckpointMs: 0 });
  try {
    return await run(db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Timing {
  wallMs: number;
  /** CPU time of every thread of the process: steadier than wall time on a shared machine. */
  cpuMs: number;
  /** The appender's calls are synchronous: how long other work on the event loop had to wait. */
  loopDelayP99Ms: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Timing> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const started = performance.now();
  const cpu = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(cpu);
  loop.disable();
  return {
    wallMs: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    loopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
  };
}

if (import.meta.main) {
  await benchDuckDbInsert(syntheticRows(Number(process.argv[2] ?? 200_000)));
}
