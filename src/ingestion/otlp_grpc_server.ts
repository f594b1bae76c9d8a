// Public OTLP/gRPC receiver (:50051). Handlers take the raw request bytes (no generic object
// mapping) and hand them to TraceIngest, which decodes them once with the project's decoder.
// MetricsService and LogsService are answered (authenticated, accepted and discarded) so stock
// SDKs configured with the same endpoint do not log export errors.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../config.ts';
import { toGrpcError } from '../grpc/grpc_status.ts';
import type { Logger } from '../logger.ts';
import { encodeTraceResponse } from '../otlp/encode.ts';
import type { TraceIngest } from './trace_ingest.ts';

const rawMethod = (path: string): grpc.MethodDefinition<Buffer, Uint8Array> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  responseDeserialize: (bytes: Buffer) => bytes,
});

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const EMPTY_RESPONSE = new Uint8Array(0);

const apiKeyOf = (call: grpc.ServerUnaryCall<Buffer, Uint8Array>): string | undefined => {
  const value = call.metadata.get('x-junjo-api-key')[0];
  return typeof value === 'string' ? value : undefined;
};

export function grpcServerCredentials(config: Config): grpc.ServerCredentials {
  if (!config.tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    null,
    [{ cert_chain: readFileSync(config.tls.cert), private_key: readFileSync(config.tls.key) }],
    false,
  );
}

export function grpcServerOptions(maxMessageBytes: number): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.max_connection_idle_ms': 300_000,
  };
}

export function addOtlpServices(server: grpc.Server, ingest: TraceIngest, logger: Logger): void {
  const discardAfterAuth: grpc.handleUnaryCall<Buffer, Uint8Array> = (call, callback) => {
    ingest.authenticate(apiKeyOf(call)).then(
      () => callback(null, EMPTY_RESPONSE),
      (error: unknown) => callback(toGrpcError(error)),
    );
  };
  server.addService(
    { Export: rawMethod(TRACE_EXPORT) },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
        ingest.export(apiKeyOf(call), call.request, 'protobuf').then(
          (outcome) => callback(null, encodeTraceResponse(outcome.partialSuccess)),
          (error: unknown) => {
            logger.debug({ err: error }, 'gRPC trace export refused');
            callback(toGrpcError(error));
          },
        );
      },
    },
  );
  server.addService({ Export: rawMethod(METRICS_EXPORT) }, { Export: discardAfterAuth });
  server.addService({ Export: rawMethod(LOGS_EXPORT) }, { Export: discardAfterAuth });
}

/** Binds a gRPC server; resolves with the bound port. */
export async function bindGrpc(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials,
): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(address, credentials, (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    ),
  );
}

/** Finishes in-flight calls, then stops; forces after a grace period. */
export async function shutdownGrpc(server: grpc.Server, graceMs = 5000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
