// Public OTLP/HTTP receiver (:4318, POST /v1/traces and /v1/logs): binary protobuf or JSON, gzip or
// not. Status codes, bodies and Retry-After follow the OTLP/HTTP specification: 200 with an
// Export{Trace,Logs}ServiceResponse (partial_success when spans or log records were rejected), 400 for bad data,
// 429/503 + Retry-After when saturated, and google.rpc.Status bodies in the request's encoding.
import { type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { status as grpcStatus } from '@grpc/grpc-js';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RequestPayload,
} from 'fastify';
import { AppError } from '../errors.ts';
import { internalProtoTypes } from '../grpc/internal_proto.ts';
import { limitConnections } from '../http/connection_limits.ts';
import { httpStatusOf } from '../http/error_handler.ts';
import type { Logger } from '../logger.ts';
import type { OtlpPayloadFormat, OtlpSignal } from '../otlp/decode.ts';
import {
  encodeLogsResponse,
  encodeLogsResponseJson,
  encodeTraceResponse,
  encodeTraceResponseJson,
} from '../otlp/encode.ts';
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

const RESPONSE_ENCODERS = {
  traces: { protobuf: encodeTraceResponse, json: encodeTraceResponseJson },
  logs: { protobuf: encodeLogsResponse, json: encodeLogsResponseJson },
};

function sendSuccess(
  reply: FastifyReply,
  signal: OtlpSignal,
  format: OtlpPayloadFormat,
  partial: PartialSuccess | null,
): FastifyReply {
  const encode = RESPONSE_ENCODERS[signal];
  if (format === 'json') return reply.status(200).type(JSON_TYPE).send(encode.json(partial));
  return reply
    .status(200)
    .type(PROTOBUF)
    .send(Buffer.from(encode.protobuf(partial)));
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
  // No body parser outside the export routes: a request for an unknown path is answered without
  // reading its body.
  app.removeAllContentTypeParsers();

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
      `No route ${request.method} ${request.url}; POST /v1/traces or /v1/logs`,
    ),
  );

  // The key is checked as soon as the headers arrive: a refused request's body is never
  // decompressed or buffered (Node reads and drops it, so the client still gets its answer).
  const apiKeyIds = new WeakMap<FastifyRequest, string>();
  const authenticate = async (request: FastifyRequest) => {
    const apiKey = request.headers['x-junjo-api-key'];
    apiKeyIds.set(request, await ingest.authenticate(typeof apiKey === 'string' ? apiKey : undefined));
  };

  // Then, before Fastify reads the body: decompress it, so the body limit bounds the decoded size
  // too, and count the decoded bytes against the budget shared by every request of both receivers
  // until the answer is sent.
  const decodeBody = async (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip')
      throw new AppError(`Unsupported Content-Encoding "${encoding}"; use gzip or none`, 'invalid_input');
    const share = ingest.shareOfBudget();
    if (!share) throw ingest.tooBusy();
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        done(share.add(chunk.length) ? null : ingest.tooBusy(), chunk);
      },
    }) as Transform & { receivedEncodedLength?: number };
    // Once answered, the rest of the body is nobody's: stop inflating it and give its bytes back.
    reply.raw.once('close', () => {
      share.release();
      counted.destroy();
    });
    // Fastify compares Content-Length with the bytes received on the wire, which a replacement
    // stream must report as receivedEncodedLength (without it every gzip body was a 400).
    let encodedBytes = 0;
    payload.on('data', (chunk: Buffer) => {
      encodedBytes += chunk.length;
      counted.receivedEncodedLength = encodedBytes;
    });
    // Not pipeline(): it would destroy the request, and with it the socket the refusal goes out on.
    let decoded: Readable = payload;
    if (encoding === 'gzip') {
      const gunzip = createGunzip();
      payload.on('error', (error) => gunzip.destroy(error));
      // A refused body stops being decompressed at once.
      counted.once('close', () => gunzip.destroy());
      decoded = payload.pipe(gunzip);
    }
    decoded.on('error', (error) => counted.destroy(error));
    // Fastify stops listening to the body once it has its answer (body over the size limit, a read
    // error, the client gone); a refusal raised by a chunk still in the pipe after that has nobody to
    // go to, and unheard it was an uncaught error that ended the ingestion thread (fuzz suite).
    counted.on('error', (error) => request.log.debug({ err: error }, 'export body refused after its answer'));
    return decoded.pipe(counted);
  };
  const exportRoutes = async (scope: FastifyInstance) => {
    scope.addHook('onRequest', authenticate);
    scope.addHook('preParsing', decodeBody);
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    for (const signal of ['traces', 'logs'] as const) {
      scope.post(`/v1/${signal}`, async (request, reply) => {
        const format = formatOf(request.headers['content-type']);
        if (!format) {
          return sendStatus(reply, 'json', 415, `Unsupported Content-Type; use ${PROTOBUF} or ${JSON_TYPE}`);
        }
        const body = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
        const outcome = await ingest.export(apiKeyIds.get(request)!, body, format, signal);
        return sendSuccess(reply, signal, format, outcome.partialSuccess);
      });
    }
    // Metrics are answered (accepted and discarded) so stock SDKs sharing the endpoint log no errors.
    scope.post('/v1/metrics', async (request, reply) => {
      const format = formatOf(request.headers['content-type']) ?? 'json';
      return format === 'json' ? reply.type(JSON_TYPE).send({}) : reply.type(PROTOBUF).send(Buffer.alloc(0));
    });
  };
  await app.register(exportRoutes);
  return app;
}
