// Auth payloads: request validation, response shape, OpenAPI and the TypeScript types (shared with the web UI).
import { type Static, Type } from 'typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.ts';

export const Email = Type.String({ format: 'email', maxLength: 254 });

/** A password being chosen: the length policy applies. */
export const NewPassword = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });

export const Credentials = Type.Object({ email: Email, password: NewPassword });
export type Credentials = Static<typeof Credentials>;

// Any non-empty password may be tried: a too-short one is simply wrong, not a different answer.
export const SignInBody = Type.Object({
  email: Email,
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
});
export type SignInBody = Static<typeof SignInBody>;

export const Message = Type.Object({ message: Type.String() });
export type Message = Static<typeof Message>;

export const AuthTest = Type.Object({ userEmail: Type.String() });
export type AuthTest = Static<typeof AuthTest>;

export const CsrfToken = Type.Object({
  csrfToken: Type.String({ description: 'Send back as the X-CSRF-Token header on POST/PUT/PATCH/DELETE' }),
});
export type CsrfToken = Static<typeof CsrfToken>;
