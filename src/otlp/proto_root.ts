// The project's OTLP .proto files (proto/opentelemetry/...), loaded once with protobufjs on first
// use. They are the single description of the wire format: the encoders use these types
// directly, and the hand-written request decoder is checked against them in tests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

const FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
];

export interface OtlpProtoTypes {
  root: protobuf.Root;
  exportTraceRequest: protobuf.Type;
  exportTraceResponse: protobuf.Type;
  exportMetricsResponse: protobuf.Type;
  exportLogsRequest: protobuf.Type;
  exportLogsResponse: protobuf.Type;
}

let loaded: OtlpProtoTypes | undefined;

/** Parses the .proto files on the first call and returns the cached types afterwards. */
export function otlpProtoTypes(): OtlpProtoTypes {
  if (loaded) return loaded;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync(FILES, { keepCase: true });
  root.resolveAll();
  loaded = {
    root,
    exportTraceRequest: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    exportTraceResponse: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    exportMetricsResponse: root.lookupType(
      'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
    ),
    exportLogsRequest: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    exportLogsResponse: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
  };
  return loaded;
}
