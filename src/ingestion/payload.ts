// Decodes an export request in either wire format the receivers accept.
import { decodeTraceRequestJson } from '../otlp/decode_json.ts';
import { decodeTraceRequestProtobuf } from '../otlp/decode_protobuf.ts';
import type { ExportTraceRequest } from '../otlp/types.ts';

export type PayloadFormat = 'protobuf' | 'json';

export function decodeTraceRequest(body: Uint8Array, format: PayloadFormat): ExportTraceRequest {
  return format === 'json' ? decodeTraceRequestJson(body) : decodeTraceRequestProtobuf(body);
}
