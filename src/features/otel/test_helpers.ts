// Shared by the otel tests: a real DuckDB file in a temp dir, the real HTTP app listening on a
// free port, and span rows built field by field so that every expected answer is known.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DuckDb } from '../../db_duckdb/connection.ts';
import { DuckDbSpanStore } from '../../db_duckdb/duckdb_span_store.ts';
import { buildHttpApp, type HttpPlugin } from '../../http/app.ts';
import { createLogger } from '../../logger.ts';
import type { SpanBatch, SpanRow, StatePatchRow } from '../../spans/rows.ts';
import type { SpanReader } from '../../spans/span_store.ts';
import { otelRoutes } from './routes.ts';

export interface OtelTestServer {
  db: DuckDb;
  url: string;
  /** Through the span store, one transaction per batch, as the poller stores them. */
  insert(batch: Partial<SpanBatch>): Promise<void>;
  get(pathAndQuery: string): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export async function startOtelServer(
  options: {
    guards?: HttpPlugin[];
    /** More routes on the same store (other features' tests), served beside the otel routes. */
    features?: (store: SpanReader) => HttpPlugin[];
  } = {},
): Promise<OtelTestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-otel-test-'));
  const logger = createLogger('silent');
  const store = await DuckDbSpanStore.open(path.join(dir, 'otel_data.duckdb'), logger);
  await store.prepare();
  const app = await buildHttpApp({
    logger,
    guards: options.guards ?? [],
    features: [otelRoutes({ store }), ...(options.features?.(store) ?? [])],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    db: store.db,
    url,
    insert: async (batch) => {
      await store.insertBatch({ spans: batch.spans ?? [], patches: batch.patches ?? [] });
    },
    get: async (pathAndQuery) => {
      const response = await fetch(url + pathAndQuery);
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A distinct, valid (non-zero) id of `digits` hex digits for each `n`. */
export function hexId(n: number, digits: 32 | 16): string {
  return (n + 1).toString(16).padStart(digits, '0');
}

/** 2025-06-04T01:20:00Z in epoch microseconds: the fixtures' default start. */
export const T0 = 1749000000000000n;
export const SECOND = 1_000_000n;

export interface SpanFields {
  trace: string;
  span: string;
  parent?: string | null;
  service: string;
  start: bigint;
  type?: string;
  name?: string;
  attributes?: Record<string, unknown>;
}

export function spanRow(f: SpanFields): SpanRow {
  const owner = f.type === 'workflow' || f.type === 'subflow';
  return {
    trace_id: f.trace,
    span_id: f.span,
    parent_span_id: f.parent ?? null,
    service_name: f.service,
    name: f.name ?? `span ${f.span}`,
    kind: 'INTERNAL',
    start_time: f.start,
    end_time: f.start + SECOND,
    status_code: 'STATUS_CODE_UNSET',
    status_message: '',
    attributes_json: JSON.stringify(f.attributes ?? {}),
    events_json: '[]',
    links_json: '[]',
    trace_flags: 257,
    trace_state: null,
    junjo_id: `id_${f.span}`,
    junjo_parent_id: '',
    junjo_span_type: f.type ?? '',
    junjo_wf_state_start: owner ? '{"count":0}' : '{}',
    junjo_wf_state_end: owner ? '{"count":1}' : '{}',
    junjo_wf_graph_structure: owner ? '{"v":1,"nodes":[],"edges":[]}' : '{}',
    junjo_wf_store_id: owner ? `store_${f.span}` : '',
  };
}

export function patchRow(f: {
  id: string;
  span: SpanRow;
  at: bigint;
  store: string;
  patch?: unknown[];
}): StatePatchRow {
  return {
    patch_id: f.id,
    service_name: f.span.service_name,
    trace_id: f.span.trace_id,
    span_id: f.span.span_id,
    workflow_id: '',
    node_id: f.span.junjo_id,
    event_time: f.at,
    patch_json: JSON.stringify(f.patch ?? [{ op: 'replace', path: '/count', value: 1 }]),
    patch_store_id: f.store,
  };
}

export const LLM_ATTRIBUTES = { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gemini-2.5-flash' };
