// The span query API's behaviour (api.md §5 with Decisions 1, 7 and 8): what each endpoint returns,
// default caps, keyset paging and the 404 of an unknown span. Spans and state patches come back as
// JSON text, list pages as UTF-8 bytes (span_json.ts and query_support.sql say why). Every read
// runs on a reader connection (`duckdb.read`), so it never waits for the ingestion writer, and in
// one snapshot (one statement, or one read transaction for a list page), so an insert batch is
// either wholly visible or not at all.
import type { DuckDb } from '../../db_duckdb/connection.ts';
import {
  type PageRequest,
  type SpanList,
  selectListPage,
  selectServiceNames,
  selectServices,
  selectSpan,
  selectStatePatches,
  selectTraceSpans,
} from '../../db_duckdb/span_queries.ts';
import { invalidInput, notFound } from '../../errors.ts';
import {
  formatTimestamp,
  jsonArray,
  jsonArrayBytes,
  parseTimestamp,
  renderSpan,
  spanRowFromResult,
  statePatchJson,
} from '../../spans/span_json.ts';
import type { Service } from './schemas.ts';

/** The reference's cap on root-span lists; also used for the workflow list, which had none. */
export const DEFAULT_LIST_LIMIT = 500;
export const MAX_LIST_LIMIT = 10_000;

/** A list request as it arrives: query-string values, unchecked beyond their JSON types. */
export interface ListQuery {
  limit?: number;
  before?: string;
  before_span_id?: string;
}

const SPAN_ID = /^[0-9a-f]{16}$/;

export class OtelQueryService {
  private readonly duckdb: DuckDb;

  constructor(duckdb: DuckDb) {
    this.duckdb = duckdb;
  }

  serviceNames(): Promise<string[]> {
    return this.duckdb.read(selectServiceNames);
  }

  async services(): Promise<Service[]> {
    const rows = await this.duckdb.read(selectServices);
    return rows.map((row) => ({
      service_name: row.serviceName,
      span_count: Number(row.spanCount),
      trace_count: Number(row.traceCount),
      last_seen: formatTimestamp(row.lastSeenMicros),
    }));
  }

  /** Root spans of the service, newest first; `llmOnly` keeps traces with an LLM span in any service. */
  rootSpans(serviceName: string, query: ListQuery, llmOnly: boolean): Promise<Buffer> {
    return this.list(llmOnly ? 'llm_root' : 'root', serviceName, query);
  }

  /** Workflow spans (not subflows) of the service, newest first. */
  workflowSpans(serviceName: string, query: ListQuery): Promise<Buffer> {
    return this.list('workflow', serviceName, query);
  }

  /** Every span of the trace, newest first (a flat list: clients build the tree); [] when unknown. */
  async traceSpans(traceId: string): Promise<string> {
    const rows = await this.duckdb.read((conn) => selectTraceSpans(conn, traceId));
    return jsonArray(rows.map((row) => renderSpan(spanRowFromResult(row))));
  }

  async span(traceId: string, spanId: string): Promise<string> {
    const row = await this.duckdb.read((conn) => selectSpan(conn, traceId, spanId));
    if (!row) throw notFound(`span ${spanId} not found in trace ${traceId}`);
    return renderSpan(spanRowFromResult(row));
  }

  /** The trace's state patches in the order they happened, optionally of one store only. */
  async statePatches(traceId: string, storeId: string | undefined): Promise<string> {
    const rows = await this.duckdb.read((conn) => selectStatePatches(conn, traceId, storeId));
    return jsonArray(rows.map(statePatchJson));
  }

  private async list(list: SpanList, serviceName: string, query: ListQuery): Promise<Buffer> {
    const page = pageRequest(query);
    const spans = await this.duckdb.read((conn) => selectListPage(conn, list, serviceName, page));
    return jsonArrayBytes(spans);
  }
}

/** Checks the paging parameters together (the schema has already checked each one's shape). */
export function pageRequest(query: ListQuery): PageRequest {
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw invalidInput(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  if (query.before === undefined) {
    if (query.before_span_id !== undefined) throw invalidInput('before_span_id needs before');
    return { limit };
  }
  const startTime = parseTimestamp(query.before);
  if (startTime === null) {
    throw invalidInput('before must be an RFC 3339 timestamp with at most microsecond precision');
  }
  if (query.before_span_id === undefined) return { limit, before: { startTime } };
  const spanId = query.before_span_id.toLowerCase();
  if (!SPAN_ID.test(spanId)) throw invalidInput('before_span_id must be 16 hexadecimal digits');
  return { limit, before: { startTime, spanId } };
}
