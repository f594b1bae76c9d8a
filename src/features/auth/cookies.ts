// The attributes of the `session` and `csrf` cookies: HttpOnly, SameSite=Strict, Secure on HTTPS or in
// production, and the production Domain — the same on set and on clear, or the browser keeps the old one.
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'session';
export const CSRF_COOKIE = 'csrf';

export interface CookiePolicy {
  production: boolean;
  /** Cookie Domain in production; empty = host-only cookie. */
  prodAuthDomain: string;
}

export function cookieOptions(
  request: FastifyRequest,
  policy: CookiePolicy,
  maxAgeMs: number,
): CookieSerializeOptions {
  const domain = policy.production && policy.prodAuthDomain ? policy.prodAuthDomain : undefined;
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: policy.production || request.protocol === 'https',
    maxAge: Math.floor(maxAgeMs / 1000),
    ...(domain ? { domain } : {}),
  };
}

export function clearCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  policy: CookiePolicy,
  name: string,
): void {
  reply.clearCookie(name, cookieOptions(request, policy, 0));
}
