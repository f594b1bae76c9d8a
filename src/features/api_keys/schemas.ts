// API-key payloads: request validation, response shape, OpenAPI and the TypeScript types (shared with the web UI).
import { type Static, Type } from 'typebox';

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  key_prefix: Type.String({ description: 'First 8 characters of the key, to recognise it' }),
  created_at: Type.String({ format: 'date-time' }),
});
export type ApiKey = Static<typeof ApiKey>;

export const ApiKeyList = Type.Array(ApiKey);

export const CreatedApiKey = Type.Object({
  ...ApiKey.properties,
  key: Type.String({ description: 'The full key. Shown only in this response; only its hash is stored.' }),
});
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const NewApiKey = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: 200,
    pattern: '\\S',
    description: 'A label, e.g. "prod app"',
  }),
});
export type NewApiKey = Static<typeof NewApiKey>;

export const ApiKeyIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export type ApiKeyIdParams = Static<typeof ApiKeyIdParams>;
