// Raw OTLP clients for the ingestion tests: gRPC unary calls with byte (de)serializers and
// OTLP/HTTP POSTs. Both report exactly what the server answered (status, metadata or headers,
// body) and never retry, so a test knows precisely which exports were acknowledged.
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { internalProtoTypes } from '../../src/grpc/internal_proto.ts';
import { otlpProtoTypes } from '../../src/otlp/proto_root.ts';

export const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

export interface GrpcAnswer {
  code: grpc.status;
  details: string;
  /** Trailers of a failed call (grpc-status-details-bin lives here). */
  metadata: grpc.Metadata;
  /** Response bytes of a successful call. */
  response: Buffer | null;
}

const bytes = (value: Buffer) => value;

export class RawGrpcClient {
  readonly #client: grpc.Client;

  constructor(port: number) {
    this.#client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
    });
  }

  call(path: string, body: Uint8Array, apiKey?: string, timeoutMs = 10_000): Promise<GrpcAnswer> {
    const metadata = new grpc.Metadata();
    if (apiKey !== undefined) metadata.set('x-junjo-api-key', apiKey);
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(
        path,
        bytes,
        bytes,
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        metadata,
        { deadline: Date.now() + timeoutMs },
        (error, response) =>
          resolve(
            error
              ? { code: error.code, details: error.details, metadata: error.metadata, response: null }
              : {
                  code: grpc.status.OK,
                  details: '',
                  metadata: new grpc.Metadata(),
                  response: response ?? null,
                },
          ),
      );
    });
  }

  exportTraces(body: Uint8Array, apiKey?: string, timeoutMs?: number): Promise<GrpcAnswer> {
    return this.call(TRACE_EXPORT, body, apiKey, timeoutMs);
  }

  close(): void {
    this.#client.close();
  }
}

/**
 * One unary gRPC call whose message is sent already gzip-compressed (grpc-encoding: gzip), over a
 * plain HTTP/2 connection of its own: a test can send a compression bomb without inflating it.
 */
export function grpcGzipCall(
  port: number,
  path: string,
  gzipped: Uint8Array,
  apiKey?: string,
  timeoutMs = 30_000,
): Promise<Pick<GrpcAnswer, 'code' | 'details' | 'metadata'>> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  return new Promise<Pick<GrpcAnswer, 'code' | 'details' | 'metadata'>>((resolve, reject) => {
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
      ...(apiKey === undefined ? {} : { 'x-junjo-api-key': apiKey }),
    });
    stream.setTimeout(timeoutMs, () => stream.destroy(new Error(`no gRPC answer in ${timeoutMs} ms`)));
    // A trailers-only answer carries grpc-status in its headers; otherwise it comes in the trailers.
    let status: http2.IncomingHttpHeaders = {};
    stream.on('response', (headers) => {
      status = headers;
    });
    stream.on('trailers', (trailers) => {
      status = trailers;
    });
    stream.on('data', () => undefined);
    stream.on('error', reject);
    stream.on('close', () => {
      if (status['grpc-status'] === undefined) return reject(new Error('the call ended without a status'));
      resolve({
        code: Number(status['grpc-status']),
        details: decodeURIComponent(String(status['grpc-message'] ?? '')),
        metadata: grpc.Metadata.fromHttp2Headers(status),
      });
    });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt8(1, 0); // compressed
    prefix.writeUInt32BE(gzipped.byteLength, 1);
    stream.end(Buffer.concat([prefix, gzipped]));
  }).finally(() => session.close());
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface PostOptions {
  contentType?: string;
  apiKey?: string;
  gzip?: boolean;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function postOtlp(
  port: number,
  path: string,
  body: Uint8Array | string,
  options: PostOptions = {},
): Promise<HttpAnswer> {
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const headers: Record<string, string> = { ...options.headers };
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  if (options.apiKey !== undefined) headers['x-junjo-api-key'] = options.apiKey;
  if (options.gzip) headers['content-encoding'] = 'gzip';
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers,
    body: options.gzip ? gzipSync(raw) : raw,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

export interface PartialSuccessBody {
  rejectedSpans: number;
  errorMessage: string;
}

/** ExportTraceServiceResponse bytes → its partial_success (null when absent). */
export function decodeTraceResponse(body: Uint8Array): PartialSuccessBody | null {
  const type = otlpProtoTypes().exportTraceResponse;
  const message = type.toObject(type.decode(body), { longs: Number }) as {
    partial_success?: { rejected_spans?: number; error_message?: string };
  };
  if (!message.partial_success) return null;
  return {
    rejectedSpans: message.partial_success.rejected_spans ?? 0,
    errorMessage: message.partial_success.error_message ?? '',
  };
}

export interface RpcStatus {
  code: number;
  message: string;
  details: { type_url: string; value: Uint8Array }[];
}

export function decodeRpcStatus(body: Uint8Array): RpcStatus {
  const type = internalProtoTypes().rpcStatus;
  return type.toObject(type.decode(body), { defaults: true }) as RpcStatus;
}

/** Seconds of the google.rpc.RetryInfo in a failed call's grpc-status-details-bin, or null. */
export function grpcRetryDelaySeconds(metadata: grpc.Metadata): number | null {
  const [details] = metadata.get('grpc-status-details-bin');
  if (!(details instanceof Buffer)) return null;
  const retryInfo = decodeRpcStatus(details).details.find(
    (detail) => detail.type_url === 'type.googleapis.com/google.rpc.RetryInfo',
  );
  if (!retryInfo) return null;
  const type = internalProtoTypes().retryInfo;
  const decoded = type.toObject(type.decode(retryInfo.value), { longs: Number, defaults: true }) as {
    retry_delay?: { seconds: number; nanos: number };
  };
  return decoded.retry_delay ? decoded.retry_delay.seconds + decoded.retry_delay.nanos / 1e9 : null;
}
