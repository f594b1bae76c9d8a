// Public OTLP/gRPC receiver (:50051). Handlers take the raw request bytes (no generic object
// mapping) and hand them to TraceIngest, which decodes them once with the project's decoder.
// An interceptor checks the API key on the call's metadata: grpc-js starts reading (and
// decompressing) the message only once the handler has the metadata, so a refused call's message
// is never buffered or inflated.
// LogsService takes log records of spans through the same path as traces; MetricsService is
// answered (authenticated, accepted and discarded) so stock SDKs configured with the same endpoint
// do not log export errors.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../config.ts';
import { toGrpcError } from '../grpc/grpc_status.ts';
import type { Logger } from '../logger.ts';
import type { OtlpSignal } from '../otlp/decode.ts';
import { encodeLogsResponse, encodeTraceResponse } from '../otlp/encode.ts';
import type { PartialSuccess } from '../otlp/types.ts';
import type { BudgetShare } from './request_budget.ts';
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

const apiKeyOf = (metadata: grpc.Metadata): string | undefined => {
  const value = metadata.get('x-junjo-api-key')[0];
  return typeof value === 'string' ? value : undefined;
};

/** The key id of every call the interceptor let through, by the metadata its handler receives. */
const apiKeyIds = new WeakMap<grpc.Metadata, string>();

/**
 * Authenticates each call on its metadata, before its message is read, and counts the message
 * (as grpc-js hands it over, decompressed) against the in-flight bytes budget until the call ends.
 */
function authenticateFirst(ingest: TraceIngest): grpc.ServerInterceptor {
  return (_method, call) => {
    let share: BudgetShare | null = null;
    const refuse = (error: unknown) => {
      share?.release();
      call.sendStatus(toGrpcError(error));
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            ingest.authenticate(apiKeyOf(metadata)).then((keyId) => {
              // Whether the message is compressed is not visible here; a full budget refuses either way.
              share = ingest.shareOfBudget();
              if (!share) return refuse(ingest.tooBusy());
              apiKeyIds.set(metadata, keyId);
              nextMetadata(metadata);
            }, refuse);
          },
          onReceiveMessage: (message: Buffer, nextMessage) => {
            if (share?.add(message.byteLength)) nextMessage(message);
            else refuse(ingest.tooBusy());
          },
          onCancel: () => share?.release(),
        }),
      sendStatus: (status, next) => {
        share?.release();
        next(status);
      },
    });
  };
}

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

/** The OTLP server: TraceService, LogsService and MetricsService, all behind the key check. */
export function createOtlpGrpcServer(
  ingest: TraceIngest,
  logger: Logger,
  maxMessageBytes: number,
): grpc.Server {
  const server = new grpc.Server({
    ...grpcServerOptions(maxMessageBytes),
    interceptors: [authenticateFirst(ingest)],
  });
  const discard: grpc.handleUnaryCall<Buffer, Uint8Array> = (_call, callback) =>
    callback(null, EMPTY_RESPONSE);
  const exportOf =
    (
      signal: OtlpSignal,
      encodeResponse: (partial: PartialSuccess | null) => Uint8Array,
    ): grpc.handleUnaryCall<Buffer, Uint8Array> =>
    (call, callback) => {
      // Set by the interceptor, which every call of this server passes first.
      ingest.export(apiKeyIds.get(call.metadata)!, call.request, 'protobuf', signal).then(
        (outcome) => callback(null, encodeResponse(outcome.partialSuccess)),
        (error: unknown) => {
          logger.debug({ err: error, signal }, 'gRPC export refused');
          callback(toGrpcError(error));
        },
      );
    };
  server.addService({ Export: rawMethod(TRACE_EXPORT) }, { Export: exportOf('traces', encodeTraceResponse) });
  server.addService({ Export: rawMethod(LOGS_EXPORT) }, { Export: exportOf('logs', encodeLogsResponse) });
  server.addService({ Export: rawMethod(METRICS_EXPORT) }, { Export: discard });
  return server;
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
