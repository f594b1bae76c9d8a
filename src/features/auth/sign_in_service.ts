// Checks credentials under rate limits kept in SQLite (they survive a restart). Every attempt counts
// (not only failures), so a burst of parallel guesses is limited as strictly as a sequence.
// - From an unknown browser: per email and per client address; a success clears its email's count.
// - From a browser holding this user's known-device token: per device only, so guesses from elsewhere
//   (which fill the email and address buckets) never lock the owner out of a browser they used before.

import type { SignInAttemptsRepository } from '../../db_sqlite/sign_in_attempts/sign_in_attempts_repository.ts';
import type { UsersRepository } from '../../db_sqlite/users/users_repository.ts';
import { tooMany, unauthorized } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from './clock.ts';
import { normalizeEmail } from './email.ts';
import type { KnownDevices } from './known_devices.ts';
import { verifyAgainstDummy, verifyPassword } from './passwords.ts';
import { createSlidingWindowLimiter, type SlidingWindowLimiter, type WindowLimit } from './rate_limiter.ts';

export interface SignInLimits {
  perEmail: WindowLimit;
  perIp: WindowLimit;
  perDevice: WindowLimit;
}

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perEmail: { max: 10, windowMs: FIFTEEN_MINUTES_MS },
  perIp: { max: 50, windowMs: FIFTEEN_MINUTES_MS },
  perDevice: { max: 10, windowMs: FIFTEEN_MINUTES_MS },
};

export const INVALID_CREDENTIALS = 'invalid credentials';

export interface SignInAttempt {
  email: string;
  password: string;
  /** The client address (behind trusted proxies, the forwarded one). */
  ip: string;
  /** The known-device cookie, when the browser sent one. */
  deviceToken: string | undefined;
}

export interface SignedIn {
  userId: number;
  /** The known-device token to (re)set in this browser. */
  deviceToken: string;
}

export interface SignInService {
  /** Throws 401 (the same text for an unknown email) or 429 with a retry time. */
  verify(attempt: SignInAttempt): Promise<SignedIn>;
}

export function createSignInService(deps: {
  users: UsersRepository;
  attempts: SignInAttemptsRepository;
  knownDevices: KnownDevices;
  clock: Clock;
  logger: Logger;
  limits?: Partial<SignInLimits>;
}): SignInService {
  const limits = { ...DEFAULT_SIGN_IN_LIMITS, ...deps.limits };
  const limiter = (scope: keyof SignInLimits) =>
    createSlidingWindowLimiter(scope, limits[scope], deps.clock, deps.attempts);
  const byEmail = limiter('perEmail');
  const byIp = limiter('perIp');
  const byDevice = limiter('perDevice');

  /** Refuses when any bucket is full, else counts the attempt in each. */
  const admit = (buckets: Array<[SlidingWindowLimiter, string]>, ip: string) => {
    const waitMs = Math.max(...buckets.map(([bucket, key]) => bucket.retryAfterMs(key)));
    if (waitMs > 0) {
      deps.logger.warn({ ip }, 'sign-in rate limit reached');
      throw tooMany('Too many sign-in attempts; try again later', Math.ceil(waitMs / 1000));
    }
    for (const [bucket, key] of buckets) bucket.record(key);
  };

  return {
    async verify({ email: rawEmail, password, ip, deviceToken }) {
      const email = normalizeEmail(rawEmail);
      const user = deps.users.findCredentialsByEmail(email);
      const device = user ? deps.knownDevices.deviceOf(deviceToken, user.id) : undefined;
      admit(
        device
          ? [[byDevice, device]]
          : [
              [byEmail, email],
              [byIp, ip],
            ],
        ip,
      );
      const valid = user
        ? await verifyPassword(user.password_hash, password)
        : await verifyAgainstDummy(password);
      if (!user || !valid) {
        deps.logger.info({ ip, reason: user ? 'wrong_password' : 'unknown_email' }, 'sign-in refused');
        throw unauthorized(INVALID_CREDENTIALS);
      }
      if (device) byDevice.reset(device);
      else byEmail.reset(email);
      const keep = device !== undefined && deviceToken !== undefined;
      return { userId: user.id, deviceToken: keep ? deviceToken : deps.knownDevices.issue(user.id) };
    },
  };
}
