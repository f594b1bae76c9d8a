// Users: first-user setup (public while the table is empty, from this machine or with the setup token),
// then listing, creating and deleting users.
import type { HttpPlugin } from '../../http/app.ts';
import { Message } from '../auth/schemas.ts';
import { FirstUser, NewUser, UserIdParams, UserList, UsersExist } from './schemas.ts';
import type { SetupAccess } from './setup_access.ts';
import type { UsersService } from './users_service.ts';

const tags = ['users'];

export function userRoutes(users: UsersService, setup: SetupAccess): HttpPlugin {
  return async (app) => {
    app.get(
      '/users/db-has-users',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'Whether first-user setup has happened, and whether this client needs the setup token',
          response: { 200: UsersExist },
        },
      },
      async (request) => ({ usersExist: users.hasUsers(), setupTokenRequired: setup.tokenRequired(request) }),
    );
    app.post(
      '/users/create-first-user',
      {
        config: { public: true, csrfExempt: true },
        schema: {
          tags,
          summary:
            'Create the first user (only while there are no users; 409 afterwards; 403 from another machine without the setup token). Does not sign in.',
          body: FirstUser,
          response: { 200: Message },
        },
      },
      async (request) => {
        setup.admit(request, request.body.setupToken);
        await users.createFirstUser(request.body.email, request.body.password);
        return { message: 'First user created successfully' };
      },
    );
    app.get(
      '/users',
      { schema: { tags, summary: 'List users, newest first', response: { 200: UserList } } },
      async () => users.list(),
    );
    app.post(
      '/users',
      {
        schema: {
          tags,
          summary: 'Create a user (409 when the email is taken)',
          body: NewUser,
          response: { 200: Message },
        },
      },
      async (request) => {
        await users.create(request.body.email, request.body.password);
        return { message: 'User created successfully' };
      },
    );
    app.delete(
      '/users/:id',
      {
        schema: {
          tags,
          summary: 'Delete a user and end their sessions (409 for the last remaining user)',
          params: UserIdParams,
          response: { 200: Message },
        },
      },
      async (request) => {
        users.delete(request.params.id);
        return { message: 'User deleted successfully' };
      },
    );
  };
}
