// Stored span rows → an OTLP ExportTraceServiceRequest, for `GET /otel/trace/{id}/otlp`: a trace to
// attach to a bug report and replay into another server (POST /v1/traces), where it becomes the same
// rows and the same state patches.
//
// The rows do not keep everything the exporter sent, so the request is rebuilt from what they hold
// (span_processor.ts is the inverse of this file):
// - one resource per service_name, carrying only `service.name`; one scope without a name (resource
//   and scope attributes are not stored);
// - times are the stored microseconds × 1000 (the columns have microsecond precision; events keep
//   their exact nanoseconds);
// - attribute values come back from their JSON form: integers that JSON holds exactly as ints,
//   other numbers as doubles, bytes as their hex string (how they were stored), 64-bit integers
//   beyond 2^53 as the decimal strings they were stored as;
// - the junjo.* attributes that the processor lifted into junjo_* columns are put back under the
//   key family the span used (legacy, or contract 2 when junjo.telemetry.contract_version is present);
// - dropped-attribute counts of the span itself are not stored and come back as 0.

import { hexToBytes } from '../../otlp/hex.ts';
import type { AnyValue, ExportTraceRequest, KeyValue, ResourceSpans, Span } from '../../otlp/types.ts';
import { parseEventsJson } from '../../spans/event_json.ts';
import type { SpanRow } from '../../spans/rows.ts';

const KIND_NUMBERS: Record<string, number> = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
};
const STATUS_NUMBERS: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};
const NO_JSON = '{}';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The trace's rows (any order) → one request, spans oldest first, grouped by service. */
export function spanRowsToExportRequest(rows: readonly SpanRow[]): ExportTraceRequest {
  const ordered = [...rows].sort((a, b) =>
    a.start_time === b.start_time ? a.span_id.localeCompare(b.span_id) : a.start_time < b.start_time ? -1 : 1,
  );
  const byService = new Map<string, ResourceSpans>();
  for (const row of ordered) {
    let group = byService.get(row.service_name);
    if (!group) {
      group = {
        resource: {
          attributes: [{ key: 'service.name', value: { type: 'string', value: row.service_name } }],
          droppedAttributesCount: 0,
        },
        scopeSpans: [{ scope: null, spans: [], schemaUrl: '' }],
        schemaUrl: '',
      };
      byService.set(row.service_name, group);
    }
    group.scopeSpans[0]!.spans.push(rowToSpan(row));
  }
  return { resourceSpans: [...byService.values()] };
}

function rowToSpan(row: SpanRow): Span {
  const stored = JSON.parse(row.attributes_json) as Record<string, Json>;
  const events = parseEventsJson(row.events_json);
  const links = JSON.parse(row.links_json) as Array<{
    traceId: string;
    spanId: string;
    traceState: string;
    attributes: Record<string, Json>;
    droppedAttributesCount: number;
    flags: number;
  }>;
  return {
    traceId: hexBytes(row.trace_id),
    spanId: hexBytes(row.span_id),
    traceState: row.trace_state ?? '',
    parentSpanId: row.parent_span_id ? hexBytes(row.parent_span_id) : new Uint8Array(0),
    // fixed32 on the wire; the column holds it as a signed 32-bit integer.
    flags: row.trace_flags >>> 0,
    name: row.name,
    kind: KIND_NUMBERS[row.kind] ?? 0,
    startTimeUnixNano: row.start_time * 1000n,
    endTimeUnixNano: row.end_time * 1000n,
    attributes: [
      ...junjoAttributes(row, 'junjo.telemetry.contract_version' in stored),
      ...jsonToKeyValues(stored),
    ],
    droppedAttributesCount: 0,
    events: events.map((event) => ({
      name: event.name,
      timeUnixNano: event.timeUnixNano,
      attributes: jsonToKeyValues(event.attributes),
      droppedAttributesCount: event.droppedAttributesCount,
    })),
    droppedEventsCount: 0,
    links: links.map((link) => ({
      traceId: hexBytes(link.traceId),
      spanId: hexBytes(link.spanId),
      traceState: link.traceState,
      attributes: jsonToKeyValues(link.attributes),
      droppedAttributesCount: link.droppedAttributesCount,
      flags: link.flags,
    })),
    droppedLinksCount: 0,
    status: { code: STATUS_NUMBERS[row.status_code] ?? 0, message: row.status_message },
  };
}

/** The lifted junjo.* attributes, under the keys span_processor.ts reads them from. */
function junjoAttributes(row: SpanRow, contract2: boolean): KeyValue[] {
  const type = row.junjo_span_type;
  const fields: Array<[string, string]> = [
    ['junjo.span_type', type],
    [contract2 ? 'junjo.executable_runtime_id' : 'junjo.id', row.junjo_id],
    [contract2 ? 'junjo.parent_executable_runtime_id' : 'junjo.parent_id', row.junjo_parent_id],
  ];
  if (type === 'workflow' || type === 'subflow') {
    fields.push(
      ['junjo.workflow.state.start', row.junjo_wf_state_start],
      ['junjo.workflow.state.end', row.junjo_wf_state_end],
      [
        contract2 ? 'junjo.workflow.execution_graph_snapshot' : 'junjo.workflow.graph_structure',
        row.junjo_wf_graph_structure,
      ],
      ['junjo.workflow.store.id', row.junjo_wf_store_id],
    );
  } else if (type === 'agent') {
    fields.push(
      ['junjo.agent.state.start', row.junjo_wf_state_start],
      ['junjo.agent.state.end', row.junjo_wf_state_end],
      ['junjo.agent.store.id', row.junjo_wf_store_id],
    );
  }
  // An absent attribute and its default ("" or "{}") are stored alike: send only real values.
  return fields
    .filter(([, value]) => value !== '' && value !== NO_JSON)
    .map(([key, value]) => ({ key, value: { type: 'string', value } }));
}

function jsonToKeyValues(object: Record<string, Json>): KeyValue[] {
  return Object.entries(object).map(([key, value]) => ({ key, value: jsonToAnyValue(value) }));
}

function jsonToAnyValue(value: Json): AnyValue {
  if (value === null) return { type: 'empty' };
  if (Array.isArray(value)) return { type: 'array', value: value.map(jsonToAnyValue) };
  switch (typeof value) {
    case 'string':
      return { type: 'string', value };
    case 'boolean':
      return { type: 'bool', value };
    case 'number':
      // Stored as a JSON number, a safe integer reads back the same whether it was an int or a double.
      return Number.isSafeInteger(value) ? { type: 'int', value: BigInt(value) } : { type: 'double', value };
    default:
      return { type: 'kvlist', value: jsonToKeyValues(value) };
  }
}

function hexBytes(hex: string): Uint8Array {
  return hexToBytes(hex) ?? new Uint8Array(0);
}
