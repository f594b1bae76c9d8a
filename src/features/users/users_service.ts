// Users: first-user setup, creation, listing and deletion. Passwords are hashed before they reach SQL.
import { isUniqueViolation } from '../../db_sqlite/connection.ts';
import type { UsersRepository } from '../../db_sqlite/users/users_repository.ts';
import { conflict, notFound } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, isoAt } from '../auth/clock.ts';
import { normalizeEmail } from '../auth/email.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { User } from './schemas.ts';

export const USERS_ALREADY_EXIST = 'Users already exist, cannot create first user.';

export interface UsersService {
  hasUsers(): boolean;
  /** Exactly one caller ever wins; the others get 409 (enforced by the database, not by this check). */
  createFirstUser(email: string, password: string): Promise<User>;
  create(email: string, password: string): Promise<User>;
  list(): User[];
  delete(id: number): void;
}

export function createUsersService(deps: {
  users: UsersRepository;
  clock: Clock;
  logger: Logger;
}): UsersService {
  const { users, clock, logger } = deps;
  return {
    hasUsers: () => users.hasUsers(),
    async createFirstUser(email, password) {
      // Cheap early refusal, so the public setup route cannot be used to make the server hash passwords.
      if (users.hasUsers()) throw conflict(USERS_ALREADY_EXIST);
      const user = users.insertFirst(normalizeEmail(email), await hashPassword(password), isoAt(clock));
      if (!user) throw conflict(USERS_ALREADY_EXIST);
      logger.info({ userId: user.id }, 'first user created');
      return user;
    },
    async create(email, password) {
      const passwordHash = await hashPassword(password);
      try {
        const user = users.insert(normalizeEmail(email), passwordHash, isoAt(clock));
        logger.info({ userId: user.id }, 'user created');
        return user;
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('A user with this email already exists');
        throw error;
      }
    },
    list: () => users.list(),
    delete(id) {
      const result = users.delete(id);
      if (result === 'not_found') throw notFound('User not found');
      if (result === 'last_user')
        throw conflict('Cannot delete the last remaining user; create another user first');
      logger.info({ userId: id }, 'user deleted; their sessions ended');
    },
  };
}
