// The errors the code raises on purpose: one AppError whose `kind` says what went wrong. Each kind's
// status is mapped once per protocol: HTTP in http/error_handler.ts (the REST API and the OTLP/HTTP
// receiver), gRPC in grpc/grpc_status.ts. Anything else that escapes is an internal error.
export type ErrorKind =
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'too_many'
  | 'unavailable'
  /** an upstream service (an LLM provider) failed or answered something unusable */
  | 'bad_gateway'
  /** an upstream service did not answer in time */
  | 'upstream_timeout';

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, kind: ErrorKind, retryAfterSeconds?: number, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
export const invalidInput = (message: string) => new AppError(message, 'invalid_input');
export const unauthorized = (message: string) => new AppError(message, 'unauthorized');
export const forbidden = (message: string) => new AppError(message, 'forbidden');
export const notFound = (message: string) => new AppError(message, 'not_found');
export const conflict = (message: string) => new AppError(message, 'conflict');
export const tooMany = (message: string, retryAfterSeconds: number) =>
  new AppError(message, 'too_many', retryAfterSeconds);
export const unavailable = (message: string, retryAfterSeconds: number) =>
  new AppError(message, 'unavailable', retryAfterSeconds);
export const badGateway = (message: string) => new AppError(message, 'bad_gateway');
export const upstreamTimeout = (message: string) => new AppError(message, 'upstream_timeout');

/**
 * The span store cannot work at all (disk full, I/O error, closed), whatever the data: callers wait
 * it out and retry; the poller never blames, or dead-letters, a record for it.
 */
export const storeUnavailable = (message: string, cause: unknown) =>
  new AppError(`span store unavailable: ${message}`, 'unavailable', 5, { cause });

export function isUnavailable(error: unknown): boolean {
  return error instanceof AppError && error.kind === 'unavailable';
}

/**
 * A dependency the server cannot start without is missing or refuses it (e.g. the configured
 * ClickHouse is unreachable, refuses the credentials or is too old): main.ts prints the message,
 * which says what to fix, and exits non-zero without a stack trace.
 */
export class StartupError extends Error {}
