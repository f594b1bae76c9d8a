// One entry point for the receivers (gRPC = protobuf; OTLP/HTTP = protobuf or JSON by content type).
import { decodeLogsRequestJson, decodeTraceRequestJson } from './decode_json.ts';
import { decodeLogsRequestProtobuf, decodeTraceRequestProtobuf } from './decode_protobuf.ts';
import type { ExportLogsRequest, ExportTraceRequest } from './types.ts';

export type OtlpPayloadFormat = 'protobuf' | 'json';

/** Which OTLP export a payload is: ExportTraceServiceRequest or ExportLogsServiceRequest. */
export type OtlpSignal = 'traces' | 'logs';

/** Throws OtlpDecodeError when the body is not a decodable ExportTraceServiceRequest. */
export function decodeTraceRequest(body: Uint8Array, format: OtlpPayloadFormat): ExportTraceRequest {
  return format === 'json' ? decodeTraceRequestJson(body) : decodeTraceRequestProtobuf(body);
}

/** Throws OtlpDecodeError when the body is not a decodable ExportLogsServiceRequest. */
export function decodeLogsRequest(body: Uint8Array, format: OtlpPayloadFormat): ExportLogsRequest {
  return format === 'json' ? decodeLogsRequestJson(body) : decodeLogsRequestProtobuf(body);
}
