// Split mode: the two roles trust each other only through JUNJO_INTERNAL_SECRET. Every internal
// call carries `authorization: Bearer <secret>`; the internal servers check it in one interceptor,
// before any handler runs. The standard grpc.health.v1 service stays open: it reveals nothing
// beyond "serving", and orchestrators probe it without credentials.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../logger.ts';

const HEADER = 'authorization';
const HEALTH_SERVICE_PREFIX = '/grpc.health.v1.Health/';

/** Metadata an internal client attaches to each call. */
export function internalSecretMetadata(secret: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(HEADER, `Bearer ${secret}`);
  return metadata;
}

// Comparing fixed-length digests keeps the comparison constant-time whatever the caller sends.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Server interceptor refusing every non-health call without the secret (UNAUTHENTICATED), logged. */
export function requireInternalSecret(secret: string, logger: Logger): grpc.ServerInterceptor {
  const expected = digest(`Bearer ${secret}`);
  const isValid = (metadata: grpc.Metadata) => {
    const [given] = metadata.get(HEADER);
    return typeof given === 'string' && timingSafeEqual(digest(given), expected);
  };
  return (method, call) => {
    if (method.path.startsWith(HEALTH_SERVICE_PREFIX)) return new grpc.ServerInterceptingCall(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (isValid(metadata)) {
          next(metadata);
          return;
        }
        logger.warn(
          { method: method.path, peer: call.getPeer() },
          'internal call refused: missing or wrong JUNJO_INTERNAL_SECRET',
        );
        call.sendStatus({
          code: grpc.status.UNAUTHENTICATED,
          details: 'internal call without the right JUNJO_INTERNAL_SECRET',
        });
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}
