// AppError → gRPC status, in one place. Retryable refusals carry google.rpc.RetryInfo in
// grpc-status-details-bin so OTLP exporters know when to try again.

import type { ServiceError } from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import { AppError, type ErrorKind } from '../errors.ts';
import { internalProtoTypes } from './internal_proto.ts';

const codeOf: Record<ErrorKind, status> = {
  invalid_input: status.INVALID_ARGUMENT,
  unauthorized: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  conflict: status.ALREADY_EXISTS,
  too_large: status.RESOURCE_EXHAUSTED,
  too_many: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  bad_gateway: status.UNAVAILABLE,
  upstream_timeout: status.DEADLINE_EXCEEDED,
};

/** Fits both a handler's callback (a partial ServiceError) and an interceptor's sendStatus. */
export function toGrpcError(error: unknown): Pick<ServiceError, 'code' | 'details' | 'metadata'> {
  const code = error instanceof AppError ? codeOf[error.kind] : status.INTERNAL;
  const details = error instanceof AppError ? error.message : 'Internal server error';
  const metadata = new Metadata();
  if (error instanceof AppError && error.retryAfterSeconds !== undefined) {
    const types = internalProtoTypes();
    const retryInfo = types.retryInfo
      .encode({ retry_delay: { seconds: error.retryAfterSeconds, nanos: 0 } })
      .finish();
    const statusDetails = types.rpcStatus
      .encode({
        code,
        message: details,
        details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }],
      })
      .finish();
    metadata.set('grpc-status-details-bin', Buffer.from(statusDetails));
  }
  return { code, details, metadata };
}
