// One export payload (traces or logs, protobuf or JSON) → the rows a store writes: what a receiver
// checks before acknowledging, and what the poller makes of a WAL record it has no rows for.
import {
  decodeLogsRequest,
  decodeTraceRequest,
  type OtlpPayloadFormat,
  type OtlpSignal,
} from '../otlp/decode.ts';
import { processLogsRequest } from './log_processor.ts';
import type { SpanBatch } from './rows.ts';
import { processTraceRequest } from './span_processor.ts';

export interface ProcessedExport {
  rows: SpanBatch;
  /** Spans, or log records, of the export that are kept. */
  accepted: number;
  rejected: { count: number; errors: string[] };
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
