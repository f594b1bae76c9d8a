// The security headers every response carries (helmet), applied to the raw response so that answers
// produced outside the route pipeline (a malformed URL) carry them too.
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

export type SetSecurityHeaders = (request: IncomingMessage, response: ServerResponse) => void;

/** HSTS only in production: browsers are then told to use HTTPS only. */
export function securityHeaders(production: boolean): SetSecurityHeaders {
  const middleware = helmet({
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
    strictTransportSecurity: production,
  });
  return (request, response) =>
    middleware(request, response, (error?: unknown) => {
      if (error) throw error;
    });
}
