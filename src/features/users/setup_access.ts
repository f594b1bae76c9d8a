// Who may create the first user while none exists: a client on this machine (loopback), or anyone with
// the one-time setup token printed in the log at a start with no users (the Jenkins approach). Without
// this, a fresh install listening on 0.0.0.0 would belong to whoever reached it first.
// "Loopback" is judged on `request.ip`, which is the forwarded client address behind trusted proxies
// (JUNJO_TRUST_PROXY). With no trusted proxy, a request carrying forwarding headers came through a proxy
// (often on this same machine, so from loopback) and is not counted as local.
import type { FastifyRequest } from 'fastify';
import { forbidden } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { randomToken, safeEqual, sha256Hex } from '../auth/tokens.ts';

export const SETUP_TOKEN_NEEDED =
  'First-user setup from another machine needs the one-time setup token printed in the server log';

export interface SetupAccess {
  /** Whether first-user setup from this client needs the setup token (false once users exist). */
  tokenRequired(request: FastifyRequest): boolean;
  /** Throws 403 when setup is still open and this client may not do it. */
  admit(request: FastifyRequest, setupToken: string | undefined): void;
}

const isLoopback = (ip: string) => /^(127\.|::ffff:127\.)/.test(ip) || ip === '::1';

/** Prints a fresh token and returns its hash: the token itself exists in the log line and nowhere else. */
function announceSetupToken(logger: Logger): string {
  const token = randomToken();
  logger.warn(
    `no user exists yet: create the first one in the web UI from this machine, or from elsewhere with the one-time setup token ${token}`,
  );
  return sha256Hex(token);
}

export function createSetupAccess(deps: {
  hasUsers: () => boolean;
  trustsProxy: boolean;
  logger: Logger;
}): SetupAccess {
  const tokenHash = deps.hasUsers() ? undefined : announceSetupToken(deps.logger);

  const local = (request: FastifyRequest) =>
    isLoopback(request.ip) &&
    (deps.trustsProxy ||
      (request.headers['x-forwarded-for'] === undefined && request.headers.forwarded === undefined));

  const tokenRequired = (request: FastifyRequest) => !deps.hasUsers() && !local(request);

  return {
    tokenRequired,
    admit(request, setupToken) {
      if (!tokenRequired(request)) return;
      if (tokenHash !== undefined && setupToken !== undefined && safeEqual(sha256Hex(setupToken), tokenHash))
        return;
      deps.logger.warn({ ip: request.ip }, 'first-user setup refused: not local and no valid setup token');
      throw forbidden(SETUP_TOKEN_NEEDED);
    },
  };
}
