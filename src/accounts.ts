// Composition of everything about accounts: users, sessions, CSRF, API keys and the key check used by
// ingestion. src/main.ts calls createAccounts once and hands `guards` and `features` to buildHttpApp.

import type { Config } from './config.ts';
import { createApiKeysRepository } from './db_sqlite/api_keys/api_keys_repository.ts';
import type { Sqlite } from './db_sqlite/connection.ts';
import { createSessionsRepository } from './db_sqlite/sessions/sessions_repository.ts';
import { createSignInAttemptsRepository } from './db_sqlite/sign_in_attempts/sign_in_attempts_repository.ts';
import { createUsersRepository } from './db_sqlite/users/users_repository.ts';
import { createApiKeysService } from './features/api_keys/api_keys_service.ts';
import { apiKeyRoutes } from './features/api_keys/routes.ts';
import { type Clock, systemClock } from './features/auth/clock.ts';
import { createCsrf } from './features/auth/csrf.ts';
import { httpSecurity } from './features/auth/http_security.ts';
import { createKnownDevices } from './features/auth/known_devices.ts';
import { authRoutes } from './features/auth/routes.ts';
import { sessionGuard } from './features/auth/session_guard.ts';
import { createSessionsService, type SessionsService } from './features/auth/sessions_service.ts';
import { createSignInService, type SignInLimits } from './features/auth/sign_in_service.ts';
import { type ApiKeyValidator, LocalApiKeyValidator } from './features/internal_auth/api_key_validator.ts';
import { userRoutes } from './features/users/routes.ts';
import { createSetupAccess } from './features/users/setup_access.ts';
import { createUsersService } from './features/users/users_service.ts';
import type { HttpPlugin } from './http/app.ts';
import type { Logger } from './logger.ts';

export { publicRoutes } from './features/auth/session_guard.ts';
export type { ApiKeyValidator } from './features/internal_auth/api_key_validator.ts';

export interface AccountsOptions {
  sqlite: Sqlite;
  config: Pick<Config, 'sessionSecret' | 'allowOrigins' | 'production' | 'prodAuthDomain' | 'trustProxy'>;
  logger: Logger;
  /** Defaults to the system clock; tests move it to expire sessions and rate-limit windows. */
  clock?: Clock;
  /** Defaults to 10 attempts per email, 50 per client address and 10 per known device in 15 minutes. */
  signInLimits?: Partial<SignInLimits>;
}

export interface Accounts {
  /** Register before any feature, in this order: headers/CORS/cookies, session (deny by default), CSRF. */
  guards: HttpPlugin[];
  /** Routes: sign-in/out, auth-test, csrf, users, API keys. */
  features: HttpPlugin[];
  /** The key check for ingestion, reading the same api_keys table. */
  apiKeyValidator: ApiKeyValidator;
  sessions: SessionsService;
}

export function createAccounts(options: AccountsOptions): Accounts {
  const { sqlite, config, logger } = options;
  if (config.sessionSecret.length < 32)
    throw new Error('createAccounts needs a session secret of at least 32 characters');
  const clock = options.clock ?? systemClock;
  const users = createUsersRepository(sqlite);
  const apiKeys = createApiKeysRepository(sqlite);
  const sessions = createSessionsService({ sessions: createSessionsRepository(sqlite), clock, logger });
  const cookiePolicy = { production: config.production, prodAuthDomain: config.prodAuthDomain };
  const csrf = createCsrf(config.sessionSecret, cookiePolicy);
  const signIn = createSignInService({
    users,
    attempts: createSignInAttemptsRepository(sqlite),
    knownDevices: createKnownDevices(config.sessionSecret),
    clock,
    logger,
    limits: options.signInLimits,
  });
  return {
    guards: [httpSecurity({ allowOrigins: config.allowOrigins }), sessionGuard(sessions), csrf.guard],
    features: [
      authRoutes({ signIn, sessions, csrf, cookiePolicy }),
      userRoutes(
        createUsersService({ users, clock, logger }),
        createSetupAccess({
          hasUsers: () => users.hasUsers(),
          trustsProxy: config.trustProxy !== false,
          logger,
        }),
      ),
      apiKeyRoutes(createApiKeysService({ keys: apiKeys, clock, logger })),
    ],
    apiKeyValidator: new LocalApiKeyValidator(apiKeys),
    sessions,
  };
}
