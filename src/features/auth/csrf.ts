// CSRF double-submit: an unsafe request must repeat its token in the `X-CSRF-Token` header, which a
// cross-site form or fetch cannot do. Signed in, the token is an HMAC of the session (so it cannot be
// planted by a sibling subdomain and it changes when sign-in rotates the session); signed out, it is the
// random value of the `csrf` cookie that GET /csrf issued.
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden } from '../../errors.ts';
import type { HttpPlugin } from '../../http/app.ts';
import { type CookiePolicy, CSRF_COOKIE, cookieOptions } from './cookies.ts';
import { RANDOM_TOKEN_PATTERN, randomToken, safeEqual } from './tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Unsafe methods on this route need no CSRF token (only sign-in and first-user setup). */
    csrfExempt?: boolean;
  }
}

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ANONYMOUS_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export interface Csrf {
  /** The token this request must send back; issues the anonymous cookie when needed. */
  issue(request: FastifyRequest, reply: FastifyReply): string;
  guard: HttpPlugin;
}

export function createCsrf(secret: string, policy: CookiePolicy): Csrf {
  const sessionToken = (sessionIdHash: string) =>
    createHmac('sha256', secret).update(`csrf:${sessionIdHash}`).digest('base64url');

  const expectedToken = (request: FastifyRequest): string | undefined => {
    if (request.auth) return sessionToken(request.auth.sessionIdHash);
    const cookie = request.cookies[CSRF_COOKIE];
    return cookie && RANDOM_TOKEN_PATTERN.test(cookie) ? cookie : undefined;
  };

  const guard: HttpPlugin = fp(
    async (app) => {
      app.addHook('onRequest', async (request) => {
        if (SAFE_METHODS.has(request.method) || request.routeOptions.config.csrfExempt === true) return;
        const sent = request.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || sent === '') throw forbidden('Forbidden: missing CSRF token');
        const expected = expectedToken(request);
        if (!expected || !safeEqual(sent, expected)) throw forbidden('Forbidden: invalid CSRF token');
      });
    },
    { name: 'junjo-csrf-guard', dependencies: ['junjo-session-guard'] },
  );

  return {
    issue(request, reply) {
      const expected = expectedToken(request);
      if (expected) return expected;
      const token = randomToken();
      reply.setCookie(CSRF_COOKIE, token, cookieOptions(request, policy, ANONYMOUS_TOKEN_TTL_MS));
      return token;
    },
    guard,
  };
}
