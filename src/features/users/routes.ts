// Users: first-user setup (public while the table is empty), then listing, creating and deleting users.
import type { HttpPlugin } from '../../http/app.ts';
import { Message } from '../auth/schemas.ts';
import { NewUser, UserIdParams, UserList, UsersExist } from './schemas.ts';
import type { UsersService } from './users_service.ts';

const tags = ['users'];

export function userRoutes(users: UsersService): HttpPlugin {
  return async (app) => {
    app.get(
      '/users/db-has-users',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'Whether first-user setup has happened',
          response: { 200: UsersExist },
        },
      },
      async () => ({ usersExist: users.hasUsers() }),
    );
    app.post(
      '/users/create-first-user',
      {
        config: { public: true, csrfExempt: true },
        schema: {
          tags,
          summary: 'Create the first user (only while there are no users; 409 afterwards). Does not sign in.',
          body: NewUser,
          response: { 200: Message },
        },
      },
      async (request) => {
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
