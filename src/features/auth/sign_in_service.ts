// Checks credentials under two rate limits. Every attempt counts (not only failures), so a burst of
// parallel guesses is limited as strictly as a sequence; a successful sign-in clears its email's count.

import type { UsersRepository } from '../../db_sqlite/users/users_repository.ts';
import { type AppError, tooMany, unauthorized } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from './clock.ts';
import { normalizeEmail } from './email.ts';
import { verifyAgainstDummy, verifyPassword } from './passwords.ts';
import { createSlidingWindowLimiter, type WindowLimit } from './rate_limiter.ts';

export interface SignInLimits {
  perEmail: WindowLimit;
  perIp: WindowLimit;
}

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perEmail: { max: 10, windowMs: FIFTEEN_MINUTES_MS },
  perIp: { max: 50, windowMs: FIFTEEN_MINUTES_MS },
};

export const INVALID_CREDENTIALS = 'invalid credentials';

export interface SignInService {
  /** The user's id when the password matches; throws 401 (same text for unknown email) or 429. */
  verify(email: string, password: string, ip: string): Promise<number>;
}

export function createSignInService(deps: {
  users: UsersRepository;
  clock: Clock;
  logger: Logger;
  limits?: SignInLimits;
}): SignInService {
  const limits = deps.limits ?? DEFAULT_SIGN_IN_LIMITS;
  const byEmail = createSlidingWindowLimiter(limits.perEmail, deps.clock);
  const byIp = createSlidingWindowLimiter(limits.perIp, deps.clock);

  const refuseWhenLimited = (email: string, ip: string): AppError | undefined => {
    const waitMs = Math.max(byEmail.retryAfterMs(email), byIp.retryAfterMs(ip));
    if (waitMs === 0) return undefined;
    deps.logger.warn({ ip }, 'sign-in rate limit reached');
    return tooMany('Too many sign-in attempts; try again later', Math.ceil(waitMs / 1000));
  };

  return {
    async verify(rawEmail, password, ip) {
      const email = normalizeEmail(rawEmail);
      const limited = refuseWhenLimited(email, ip);
      if (limited) throw limited;
      byEmail.record(email);
      byIp.record(ip);
      const user = deps.users.findCredentialsByEmail(email);
      const valid = user
        ? await verifyPassword(user.password_hash, password)
        : await verifyAgainstDummy(password);
      if (!user || !valid) {
        deps.logger.info({ ip, reason: user ? 'wrong_password' : 'unknown_email' }, 'sign-in refused');
        throw unauthorized(INVALID_CREDENTIALS);
      }
      byEmail.reset(email);
      return user.id;
    },
  };
}
