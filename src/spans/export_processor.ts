// One export payload (traces or logs, protobuf or JSON) → the rows a store writes (what the poller
// makes of a WAL record), or only the verdict on it (what a receiver checks before acknowledging).
import {
  decodeLogsRequest,
  decodeTraceRequest,
  type OtlpPayloadFormat,
  type OtlpSignal,
} from '../otlp/decode.ts';
import { processLogsRequest } from './log_processor.ts';
import type { SpanBatch } from './rows.ts';
import { checkTraceRequest, processTraceRequest } from './span_processor.ts';
import { acceptedOnWire } from './wire_verdict.ts';

export interface CheckedExport {
  /** Spans, or log records, of the export that are kept. */
  accepted: number;
  rejected: { count: number; errors: string[] };
}

export interface ProcessedExport extends CheckedExport {
  rows: SpanBatch;
}

/** Throws OtlpDecodeError when the payload is not a decodable export request of `signal`. */
export function processExport(
  body: Uint8Array,
  format: OtlpPayloadFormat,
  signal: OtlpSignal,
): ProcessedExport {
  if (signal === 'logs') {
    const { logRecords, rejected } = processLogsRequest(decodeLogsRequest(body, format));
    return { rows: { spans: [], patches: [], logRecords }, accepted: logRecords.length, rejected };
  }
  const { spans, patches, rejected } = processTraceRequest(decodeTraceRequest(body, format));
  return { rows: { spans, patches }, accepted: spans.length, rejected };
}

/**
 * What processExport would keep and reject, with the same reasons, without building the span rows
 * (log records, rare, are converted and dropped). A protobuf trace export whose spans are all kept
 * is judged on the wire, without decoding it (wire_verdict.ts); any other is decoded and checked.
 * Throws OtlpDecodeError like processExport.
 */
export function checkExport(body: Uint8Array, format: OtlpPayloadFormat, signal: OtlpSignal): CheckedExport {
  if (signal === 'logs') {
    const { accepted, rejected } = processExport(body, format, signal);
    return { accepted, rejected };
  }
  const acceptedInFull = format === 'protobuf' ? acceptedOnWire(body) : null;
  if (acceptedInFull !== null) return { accepted: acceptedInFull, rejected: { count: 0, errors: [] } };
  return checkTraceRequest(decodeTraceRequest(body, format));
}
