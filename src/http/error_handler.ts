// Maps every error to `{"message": "..."}` with the right status. No stack traces or SQL reach a client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorKind } from '../errors.ts';
import type { SetSecurityHeaders } from './security_headers.ts';

/** The HTTP status of each error kind (also used by the OTLP/HTTP receiver). */
export const httpStatusOf: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  too_many: 429,
  unavailable: 503,
  bad_gateway: 502,
  upstream_timeout: 504,
};

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.status(httpStatusOf[error.kind]).send({ message: error.message });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      return reply.status(400).send({ message: `Invalid request: ${fastifyError.message}` });
    }
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ message: fastifyError.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ message: 'Internal server error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ message: 'Not Found' }));
}

/**
 * Errors Fastify raises before routing (a URL that cannot be decoded, an over-long parameter): no hook
 * runs for them, so this handler adds the security headers itself. The URL is not echoed back.
 */
export function frameworkErrorHandler(setSecurityHeaders: SetSecurityHeaders) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    setSecurityHeaders(request.raw, reply.raw);
    const status = error.statusCode ?? 400;
    reply
      .status(status >= 400 && status < 500 ? status : 400)
      .header('cache-control', 'no-store')
      .send({
        message: error.code === 'FST_ERR_BAD_URL' ? 'Invalid request: malformed URL' : 'Invalid request',
      });
  };
}
