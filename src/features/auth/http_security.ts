// Cookie parsing and CORS for every route (security headers are set by the app itself, see
// http/security_headers.ts). CORS answers preflights in its own hook, before the session and CSRF
// guards, and allows only the exact configured origins, with credentials.
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import fp from 'fastify-plugin';
import type { HttpPlugin } from '../../http/app.ts';

export interface HttpSecurityOptions {
  /** Exact origins (scheme://host[:port]) allowed to call the API with credentials; empty = none. */
  allowOrigins: string[];
}

export function httpSecurity(options: HttpSecurityOptions): HttpPlugin {
  return fp(
    async (app) => {
      await app.register(cookie);
      await app.register(cors, {
        origin: options.allowOrigins.length > 0 ? options.allowOrigins : false,
        credentials: true,
        methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['Content-Type', 'X-CSRF-Token'],
      });
    },
    { name: 'junjo-http-security' },
  );
}
