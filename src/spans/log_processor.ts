// OTLP logs export → LogRecordRow[]. Junjo Server keeps only the log records that belong to a span
// (they carry its trace and span ids): the GenAI instrumentations send an LLM call's prompt and
// completion that way. A record without both ids, or over the span limits, is rejected on its own
// and named in partial_success (rejected_log_records), like an invalid span.
import { createHash } from 'node:crypto';
import type { ExportLogsRequest, LogRecord } from '../otlp/types.ts';
import type { LogRecordRow } from './rows.ts';
import { attributesViolation, SPAN_LIMITS, valueViolation } from './span_limits.ts';
import {
  convertOtlpAttributesToJson,
  convertOtlpValueToJson,
  SpanRejectedError,
  serviceNameOf,
  spanIdHex,
} from './span_processor.ts';

export interface ProcessedLogsRequest {
  logRecords: LogRecordRow[];
  rejected: { count: number; errors: string[] };
}

export function processLogsRequest(req: ExportLogsRequest): ProcessedLogsRequest {
  const logRecords: LogRecordRow[] = [];
  const errors: string[] = [];
  // Across the whole request, so that records of one instant keep their order in any resource.
  let sequence = 0;
  for (let r = 0; r < req.resourceLogs.length; r++) {
    const resourceLogs = req.resourceLogs[r]!;
    const serviceName = serviceNameOf(resourceLogs.resource?.attributes);
    // Records are numbered across all scopes of their resource, in request order.
    let index = 0;
    for (const scopeLogs of resourceLogs.scopeLogs) {
      for (const record of scopeLogs.logRecords) {
        try {
          logRecords.push(processLogRecord(record, serviceName, sequence));
        } catch (err) {
          if (!(err instanceof SpanRejectedError)) throw err;
          errors.push(`log record ${index} of resource ${r}: ${err.message}`);
        }
        index++;
        sequence++;
      }
    }
  }
  return { logRecords, rejected: { count: errors.length, errors } };
}

/** One log record → its row. Throws SpanRejectedError. */
export function processLogRecord(record: LogRecord, serviceName: string, sequence: number): LogRecordRow {
  if (record.traceId.length === 0 || record.spanId.length === 0)
    throw new SpanRejectedError('no trace_id/span_id: only log records of spans are kept');
  const problem = logRecordLimitViolation(record, serviceName);
  if (problem) throw new SpanRejectedError(problem);
  const traceId = spanIdHex(record.traceId, 'trace_id', 16);
  const spanId = spanIdHex(record.spanId, 'span_id', 8);
  const observedTime = record.observedTimeUnixNano / 1000n;
  const row: Omit<LogRecordRow, 'log_id'> = {
    trace_id: traceId,
    span_id: spanId,
    service_name: serviceName,
    time: record.timeUnixNano === 0n ? observedTime : record.timeUnixNano / 1000n,
    observed_time: observedTime,
    sequence,
    severity_number: record.severityNumber,
    severity_text: record.severityText,
    event_name: record.eventName || eventNameAttribute(record),
    body_json: JSON.stringify(record.body ? convertOtlpValueToJson(record.body) : null),
    attributes_json: JSON.stringify(convertOtlpAttributesToJson(record.attributes)),
  };
  return { log_id: logIdOf(row, record), ...row };
}

/** Before LogRecord.event_name existed, instrumentations (e.g. GenAI's) named events in an attribute. */
function eventNameAttribute(record: LogRecord): string {
  const attribute = record.attributes.find((kv) => kv.key === 'event.name');
  return attribute?.value.type === 'string' ? attribute.value.value.slice(0, SPAN_LIMITS.nameLength) : '';
}

/**
 * The id is a digest of everything stored plus the nanosecond times, so a replay yields the same id;
 * two records identical in all of that are one record.
 */
function logIdOf(row: Omit<LogRecordRow, 'log_id'>, record: LogRecord): string {
  // Not the sequence: the same record re-sent in another batch is still one record.
  return createHash('sha256')
    .update(
      JSON.stringify([
        row.trace_id,
        row.span_id,
        row.service_name,
        record.timeUnixNano.toString(),
        record.observedTimeUnixNano.toString(),
        row.severity_number,
        row.severity_text,
        row.event_name,
        row.body_json,
        row.attributes_json,
      ]),
    )
    .digest('hex');
}

function logRecordLimitViolation(record: LogRecord, serviceName: string): string | null {
  if (serviceName.length > SPAN_LIMITS.serviceNameLength)
    return `service.name has ${serviceName.length} characters, over the limit of ${SPAN_LIMITS.serviceNameLength}`;
  if (record.eventName.length > SPAN_LIMITS.nameLength)
    return `event_name has ${record.eventName.length} characters, over the limit of ${SPAN_LIMITS.nameLength}`;
  const bodyProblem = record.body ? valueViolation(record.body) : null;
  if (bodyProblem) return `body: ${bodyProblem}`;
  return attributesViolation(record.attributes, 'attributes');
}
