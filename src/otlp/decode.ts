// One entry point for the receivers (gRPC = protobuf; OTLP/HTTP = protobuf or JSON by content type).
import { decodeTraceRequestJson } from './decode_json.ts';
import { decodeTraceRequestProtobuf } from './decode_protobuf.ts';
import type { ExportTraceRequest } from './types.ts';

export type OtlpPayloadFormat = 'protobuf' | 'json';

/** Throws OtlpDecodeError when the body is not a decodable ExportTraceServiceRequest. */
export function decodeTraceRequest(body: Uint8Array, format: OtlpPayloadFormat): ExportTraceRequest {
  return format === 'json' ? decodeTraceRequestJson(body) : decodeTraceRequestProtobuf(body);
}
