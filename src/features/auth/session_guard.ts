// Deny by default: every request's session is loaded here, and every route that has not declared
// `config: { public: true }` is refused without one — including routes added later and unknown paths.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { unauthorized } from '../../errors.ts';
import type { HttpPlugin } from '../../http/app.ts';
import { SESSION_COOKIE } from './cookies.ts';
import type { AuthContext, SessionsService } from './sessions_service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user, or null on a public route visited without a session. */
    auth: AuthContext | null;
  }
}

export const NO_VALID_SESSION = 'Unauthorized: No valid session';

export function sessionGuard(sessions: SessionsService): HttpPlugin {
  return fp(
    async (app) => {
      app.decorateRequest('auth', null);
      app.addHook('onRequest', async (request) => {
        request.auth = sessions.resolve(request.cookies[SESSION_COOKIE]);
        if (!request.auth && request.routeOptions.config.public !== true)
          throw unauthorized(NO_VALID_SESSION);
      });
    },
    { name: 'junjo-session-guard', dependencies: ['@fastify/cookie'] },
  );
}

/** The signed-in user of a protected route (the guard already refused requests without one). */
export function signedInUser(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthorized(NO_VALID_SESSION);
  return request.auth;
}

/**
 * Makes every route that `plugin` registers public — for static web files, which a browser must load
 * before anyone can sign in. Works for fastify-plugin-wrapped plugins such as @fastify/static.
 */
export function publicRoutes(plugin: HttpPlugin): HttpPlugin {
  return async (app) => {
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await app.register(plugin);
  };
}
