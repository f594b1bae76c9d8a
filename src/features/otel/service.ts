// The span query API's behaviour (api.md §5 with Decisions 1, 7 and 8): what each endpoint returns,
// default caps, keyset paging and the 404 of an unknown span, on top of any span store's reader.
// Spans and state patches come back as JSON text, list pages as UTF-8 bytes (spans/span_json.ts says
// why).
import type { Static } from 'typebox';
import { invalidInput, notFound } from '../../errors.ts';
import { encodeTraceRequestJson } from '../../otlp/encode.ts';
import type { CompactSpanRow } from '../../spans/compact_span.ts';
import {
  formatTimestamp,
  jsonArray,
  jsonArrayBytes,
  logRecordJson,
  parseTimestamp,
  renderCompactSpan,
  renderSpan,
  spanHeadBytes,
  statePatchJson,
} from '../../spans/span_json.ts';
import type { PageRequest, SpanReader } from '../../spans/span_store.ts';
import type { CompactTraceQuerystring, Service, WorkflowListQuerystring } from './schemas.ts';

export type CompactTraceView = NonNullable<Static<typeof CompactTraceQuerystring>['view']>;
export type ListView = NonNullable<Static<typeof WorkflowListQuerystring>['view']>;

import { spanRowsToExportRequest } from './trace_export.ts';

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
  readonly #store: SpanReader;

  constructor(store: SpanReader) {
    this.#store = store;
  }

  serviceNames(): Promise<string[]> {
    return this.#store.serviceNames();
  }

  async services(): Promise<Service[]> {
    const services = await this.#store.services();
    return services.map((service) => ({
      service_name: service.serviceName,
      span_count: service.spanCount,
      trace_count: service.traceCount,
      last_seen: formatTimestamp(service.lastSeenMicros),
    }));
  }

  /** Root spans of the service, newest first; `llmOnly` keeps traces with an LLM span in any service. */
  async rootSpans(serviceName: string, query: ListQuery, llmOnly: boolean): Promise<Buffer> {
    return jsonArrayBytes(await this.#store.rootSpanPage(serviceName, pageRequest(query), { llmOnly }));
  }

  /** Workflow spans (not subflows) of the service, newest first; whole, or only their summaries. */
  async workflowSpans(serviceName: string, query: ListQuery, view: ListView = 'full'): Promise<Buffer> {
    const spans = await this.#store.workflowSpanPage(serviceName, pageRequest(query));
    return jsonArrayBytes(view === 'summary' ? spans.map(spanHeadBytes) : spans);
  }

  /** Every span of the trace, newest first (a flat list: clients build the tree); [] when unknown. */
  async traceSpans(traceId: string): Promise<string> {
    return jsonArray((await this.#store.traceSpans(traceId)).map(renderSpan));
  }

  /**
   * The trace's compact spans (spans/compact_span.ts), newest first; NotFound when unknown. The
   * waterfall view leaves out the debugger's fields, which dominate a workflow trace's bytes.
   */
  async compactTrace(traceId: string, view: CompactTraceView = 'debugger'): Promise<string> {
    const json =
      view === 'waterfall'
        ? await this.#store.waterfallTraceJson(traceId)
        : compactJson(await this.#store.compactTrace(traceId));
    if (json === null) throw notFound(`trace ${traceId} not found`);
    return json;
  }

  /** The whole trace as OTLP/JSON (trace_export.ts says what is rebuilt); NotFound when unknown. */
  async traceOtlp(traceId: string): Promise<string> {
    const rows = await this.#store.traceSpans(traceId);
    if (rows.length === 0) throw notFound(`trace ${traceId} not found`);
    return encodeTraceRequestJson(spanRowsToExportRequest(rows));
  }

  async span(traceId: string, spanId: string): Promise<string> {
    const span = await this.#store.span(traceId, spanId);
    if (!span) throw notFound(`span ${spanId} not found in trace ${traceId}`);
    return renderSpan(span);
  }

  /** The span's log records in the order they happened; [] when it has none (or is unknown). */
  async spanLogRecords(traceId: string, spanId: string): Promise<string> {
    return jsonArray((await this.#store.spanLogRecords(traceId, spanId)).map(logRecordJson));
  }

  /** The trace's state patches in the order they happened, optionally of one store only. */
  async statePatches(traceId: string, storeId: string | undefined): Promise<string> {
    const patches = await this.#store.statePatches(traceId, storeId === undefined ? {} : { storeId });
    return jsonArray(patches.map(statePatchJson));
  }
}

/** The JSON array text of compact spans; null when there are none (an unknown trace). */
function compactJson(spans: CompactSpanRow[]): string | null {
  return spans.length === 0 ? null : jsonArray(spans.map(renderCompactSpan));
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
