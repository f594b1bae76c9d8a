// Server-side sessions: the browser holds a random id, the database holds its SHA-256, the user and
// the expiry. Sign-out deletes the row; deleting the user deletes it by cascade; expiry is checked on read.
import type { SessionsRepository } from '../../db_sqlite/sessions/sessions_repository.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, isoAt } from './clock.ts';
import { RANDOM_TOKEN_PATTERN, randomToken, sha256Hex } from './tokens.ts';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Who is signed in on this request. */
export interface AuthContext {
  userId: number;
  email: string;
  /** Identifies the session without being a credential (CSRF tokens are derived from it). */
  sessionIdHash: string;
}

export interface SessionsService {
  /** Creates a session and returns its id — the cookie value, which is never stored. */
  start(userId: number): string;
  resolve(sessionId: string | undefined): AuthContext | null;
  end(sessionId: string | undefined): void;
}

export function createSessionsService(deps: {
  sessions: SessionsRepository;
  clock: Clock;
  logger: Logger;
}): SessionsService {
  const { sessions, clock } = deps;
  const hashOf = (sessionId: string | undefined) =>
    sessionId && RANDOM_TOKEN_PATTERN.test(sessionId) ? sha256Hex(sessionId) : undefined;

  return {
    start(userId) {
      const now = isoAt(clock);
      // Sign-in is rare, so it is a fine moment to drop rows that can never be used again.
      const expired = sessions.deleteExpired(now);
      if (expired > 0) deps.logger.debug({ expired }, 'removed expired sessions');
      const sessionId = randomToken();
      sessions.insert(sha256Hex(sessionId), userId, now, new Date(clock() + SESSION_TTL_MS).toISOString());
      return sessionId;
    },
    resolve(sessionId) {
      const idHash = hashOf(sessionId);
      if (!idHash) return null;
      const owner = sessions.findLive(idHash, isoAt(clock));
      return owner ? { userId: owner.user_id, email: owner.email, sessionIdHash: idHash } : null;
    },
    end(sessionId) {
      const idHash = hashOf(sessionId);
      if (idHash) sessions.delete(idHash);
    },
  };
}
