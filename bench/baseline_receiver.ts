// The benchmark's reference point: an OTLP/gRPC receiver that decodes each request with the
// project's decoder and acknowledges it, writing nothing. Run as a child process by ingestion.ts.
import * as grpc from '@grpc/grpc-js';
import { decodeTraceRequestProtobuf } from '../src/otlp/decode_protobuf.ts';
import { encodeTraceResponse } from '../src/otlp/encode.ts';

const port = Number(process.argv[2] ?? 0);
const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService(
  {
    Export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (value: Uint8Array) => Buffer.from(value),
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  {
    Export: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
      decodeTraceRequestProtobuf(call.request);
      callback(null, encodeTraceResponse(null));
    },
  },
);
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
  if (error) throw error;
  process.stdout.write(`baseline listening ${bound}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
