// User payloads: request validation, response shape, OpenAPI and the TypeScript types (shared with the web UI).
import { type Static, Type } from 'typebox';

import { Credentials } from '../auth/schemas.ts';

export { Credentials as NewUser };

export const FirstUser = Type.Object({
  ...Credentials.properties,
  setupToken: Type.Optional(
    Type.String({
      maxLength: 256,
      description: 'Needed only when setupTokenRequired (not from this machine)',
    }),
  ),
});
export type FirstUser = Static<typeof FirstUser>;

export const User = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof User>;

export const UserList = Type.Array(User);

export const UsersExist = Type.Object({
  usersExist: Type.Boolean(),
  setupTokenRequired: Type.Boolean({
    description: 'First-user setup from this client needs the one-time setup token from the server log',
  }),
});
export type UsersExist = Static<typeof UsersExist>;

export const UserIdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
export type UserIdParams = Static<typeof UserIdParams>;
