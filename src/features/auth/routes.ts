// Sign-in, sign-out, "who am I" and the CSRF token.
import type { HttpPlugin } from '../../http/app.ts';
import { type CookiePolicy, CSRF_COOKIE, clearCookie, cookieOptions, SESSION_COOKIE } from './cookies.ts';
import type { Csrf } from './csrf.ts';
import { DEVICE_COOKIE, DEVICE_TTL_MS } from './known_devices.ts';
import { AuthTest, CsrfToken, Message, SignInBody } from './schemas.ts';
import { signedInUser } from './session_guard.ts';
import { SESSION_TTL_MS, type SessionsService } from './sessions_service.ts';
import type { SignInService } from './sign_in_service.ts';

const tags = ['auth'];

export function authRoutes(deps: {
  signIn: SignInService;
  sessions: SessionsService;
  csrf: Csrf;
  cookiePolicy: CookiePolicy;
}): HttpPlugin {
  const { signIn, sessions, csrf, cookiePolicy } = deps;
  return async (app) => {
    app.post(
      '/sign-in',
      {
        config: { public: true, csrfExempt: true },
        schema: {
          tags,
          summary:
            'Sign in; sets the session cookie and a known-device cookie (rate limited per client address and per email, or per known device)',
          body: SignInBody,
          response: { 200: Message },
        },
      },
      async (request, reply) => {
        const { userId, deviceToken } = await signIn.verify({
          email: request.body.email,
          password: request.body.password,
          ip: request.ip,
          deviceToken: request.cookies[DEVICE_COOKIE],
        });
        // A fresh id on every sign-in: a session id planted before sign-in never becomes authenticated.
        sessions.end(request.cookies[SESSION_COOKIE]);
        const sessionId = sessions.start(userId);
        reply.setCookie(SESSION_COOKIE, sessionId, cookieOptions(request, cookiePolicy, SESSION_TTL_MS));
        // Only sign-in needs to see the device token.
        reply.setCookie(DEVICE_COOKIE, deviceToken, {
          ...cookieOptions(request, cookiePolicy, DEVICE_TTL_MS),
          path: '/sign-in',
        });
        return { message: 'signed in' };
      },
    );
    app.post(
      '/sign-out',
      { schema: { tags, summary: 'End the current session', response: { 200: Message } } },
      async (request, reply) => {
        sessions.end(request.cookies[SESSION_COOKIE]);
        clearCookie(reply, request, cookiePolicy, SESSION_COOKIE);
        if (request.cookies[CSRF_COOKIE] !== undefined)
          clearCookie(reply, request, cookiePolicy, CSRF_COOKIE);
        return { message: 'signed out' };
      },
    );
    app.get(
      '/auth-test',
      {
        schema: { tags, summary: 'The signed-in user (401 when not signed in)', response: { 200: AuthTest } },
      },
      async (request) => ({ userEmail: signedInUser(request).email }),
    );
    app.get(
      '/csrf',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'The CSRF token to send as X-CSRF-Token on unsafe requests',
          response: { 200: CsrfToken },
        },
      },
      async (request, reply) => ({ csrfToken: csrf.issue(request, reply) }),
    );
  };
}
