// One error type per meaning; HTTP and gRPC status mapping lives in one place each
// (http/error_handler.ts and ingestion/grpc_status.ts).
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
  constructor(message: string, kind: ErrorKind, retryAfterSeconds?: number) {
    super(message);
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
