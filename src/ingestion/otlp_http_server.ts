// Public OTLP/HTTP receiver (:4318, POST /v1/traces): binary protobuf or JSON, gzip or not.
// Status codes, bodies and Retry-After follow the OTLP/HTTP specification: 200 with an
// ExportTraceServiceResponse (partial_success when spans were rejected), 400 for bad data,
// 429/503 + Retry-After when saturated, and google.rpc.Status bodies in the request's encoding.
import { createGunzip } from 'node:zlib';
import { status as grpcStatus } from '@grpc/grpc-js';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import { AppError } from '../errors.ts';
import { internalProtoTypes } from '../grpc/internal_proto.ts';
import { limitConnections } from '../http/connection_limits.ts';
import { httpStatusOf } from '../http/error_handler.ts';
import type { Logger } from '../logger.ts';
import type { OtlpPayloadFormat } from '../otlp/decode.ts';
import { encodeTraceResponse, encodeTraceResponseJson } from '../otlp/encode.ts';
import type { PartialSuccess } from '../otlp/types.ts';
import type { TraceIngest } from './trace_ingest.ts';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

const grpcCodeOf: Record<number, number> = {
  400: grpcStatus.INVALID_ARGUMENT,
  401: grpcStatus.UNAUTHENTICATED,
  404: grpcStatus.NOT_FOUND,
  405: grpcStatus.UNIMPLEMENTED,
  413: grpcStatus.RESOURCE_EXHAUSTED,
  415: grpcStatus.INVALID_ARGUMENT,
  429: grpcStatus.RESOURCE_EXHAUSTED,
  503: grpcStatus.UNAVAILABLE,
};

function sendStatus(
  reply: FastifyReply,
  format: OtlpPayloadFormat,
  httpStatus: number,
  message: string,
): FastifyReply {
  const code = grpcCodeOf[httpStatus] ?? grpcStatus.INTERNAL;
  reply.status(httpStatus);
  if (format === 'json') return reply.type(JSON_TYPE).send({ code, message });
  return reply
    .type(PROTOBUF)
    .send(Buffer.from(internalProtoTypes().rpcStatus.encode({ code, message }).finish()));
}

function sendSuccess(
  reply: FastifyReply,
  format: OtlpPayloadFormat,
  partial: PartialSuccess | null,
): FastifyReply {
  if (format === 'json') return reply.status(200).type(JSON_TYPE).send(encodeTraceResponseJson(partial));
  return reply
    .status(200)
    .type(PROTOBUF)
    .send(Buffer.from(encodeTraceResponse(partial)));
}

const formatOf = (contentType: string | undefined): OtlpPayloadFormat | null => {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === PROTOBUF || type === 'application/protobuf') return 'protobuf';
  if (type === JSON_TYPE) return 'json';
  return null;
};

export async function buildOtlpHttpServer(
  ingest: TraceIngest,
  logger: Logger,
  maxRequestBytes: number,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger.child({ listener: 'otlp-http' }) as FastifyBaseLogger,
    bodyLimit: maxRequestBytes,
    // One log line per export would drown the useful ones; refusals are logged by TraceIngest.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Up to JUNJO_MAX_REQUEST_BYTES (64 MiB) per export: a slow uplink gets two minutes.
  limitConnections(app, { requestTimeoutMs: 120_000, idleTimeoutMs: 120_000 });
  // Decompress before the body limit is applied, so the limit bounds the decoded size too.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') return payload;
    if (encoding !== 'gzip')
      throw new AppError(`Unsupported Content-Encoding "${encoding}"; use gzip or none`, 'invalid_input');
    const gunzip = createGunzip();
    const decoded = payload.pipe(gunzip) as typeof gunzip & { receivedEncodedLength?: number };
    payload.on('error', (error) => gunzip.destroy(error));
    // Fastify compares Content-Length with the bytes received on the wire, which a replacement
    // stream must report as receivedEncodedLength (without it every gzip body was a 400).
    let encodedBytes = 0;
    payload.on('data', (chunk: Buffer) => {
      encodedBytes += chunk.length;
      decoded.receivedEncodedLength = encodedBytes;
    });
    return decoded;
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((caught: Error & { statusCode?: number; code?: string }, request, reply) => {
    const format = formatOf(request.headers['content-type']) ?? 'json';
    // The body limit stops an oversized request before TraceIngest sees it; it is still a refusal to count.
    const error = caught.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? ingest.tooLarge(null) : caught;
    if (error instanceof AppError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return sendStatus(reply, format, httpStatusOf[error.kind], error.message);
    }
    if (error.code === 'Z_DATA_ERROR' || error.code === 'Z_BUF_ERROR') {
      return sendStatus(reply, format, 400, 'Request body is not valid gzip');
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return sendStatus(reply, format, status, error.message);
    request.log.error({ err: error }, 'OTLP/HTTP export failed');
    return sendStatus(reply, format, 500, 'Internal server error');
  });
  app.setNotFoundHandler((request, reply) =>
    sendStatus(
      reply,
      formatOf(request.headers['content-type']) ?? 'json',
      404,
      `No route ${request.method} ${request.url}; POST /v1/traces`,
    ),
  );

  app.post('/v1/traces', async (request, reply) => {
    const format = formatOf(request.headers['content-type']);
    if (!format) {
      return sendStatus(reply, 'json', 415, `Unsupported Content-Type; use ${PROTOBUF} or ${JSON_TYPE}`);
    }
    const apiKey = request.headers['x-junjo-api-key'];
    const body = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
    const outcome = await ingest.export(typeof apiKey === 'string' ? apiKey : undefined, body, format);
    return sendSuccess(reply, format, outcome.partialSuccess);
  });
  for (const path of ['/v1/metrics', '/v1/logs']) {
    app.post(path, async (request, reply) => {
      const format = formatOf(request.headers['content-type']) ?? 'json';
      const apiKey = request.headers['x-junjo-api-key'];
      await ingest.authenticate(typeof apiKey === 'string' ? apiKey : undefined);
      return format === 'json' ? reply.type(JSON_TYPE).send({}) : reply.type(PROTOBUF).send(Buffer.alloc(0));
    });
  }
  return app;
}
