// User payloads: request validation, response shape, OpenAPI and the TypeScript types (shared with the web UI).
import { type Static, Type } from 'typebox';

export { Credentials as NewUser } from '../auth/schemas.ts';

export const User = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof User>;

export const UserList = Type.Array(User);

export const UsersExist = Type.Object({ usersExist: Type.Boolean() });
export type UsersExist = Static<typeof UsersExist>;

export const UserIdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
export type UserIdParams = Static<typeof UserIdParams>;
