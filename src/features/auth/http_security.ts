// Cookie parsing, security headers and CORS for every route. CORS answers preflights in its own hook,
// before the session and CSRF guards, and allows only the exact configured origins, with credentials.
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';
import type { HttpPlugin } from '../../http/app.ts';

export interface HttpSecurityOptions {
  /** Exact origins (scheme://host[:port]) allowed to call the API with credentials; empty = none. */
  allowOrigins: string[];
  /** Browsers are told to use HTTPS only (HSTS) when the server runs in production. */
  production: boolean;
}

export function httpSecurity(options: HttpSecurityOptions): HttpPlugin {
  return fp(
    async (app) => {
      await app.register(cookie);
      await app.register(helmet, {
        contentSecurityPolicy: {
          useDefaults: true,
          directives: {
            'default-src': ["'self'"],
            'img-src': ["'self'", 'data:'],
            'style-src': ["'self'", "'unsafe-inline'"],
            // Self-hosted installs often run over plain HTTP on a LAN; upgrading would break them.
            'upgrade-insecure-requests': null,
          },
        },
        strictTransportSecurity: options.production,
      });
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
