// API keys for OTLP exporters: GET/POST /api_keys, DELETE /api_keys/{id}.
import { Type } from 'typebox';
import type { HttpPlugin } from '../../http/app.ts';
import type { ApiKeysService } from './api_keys_service.ts';
import { ApiKeyIdParams, ApiKeyList, CreatedApiKey, NewApiKey } from './schemas.ts';

const tags = ['api_keys'];

export function apiKeyRoutes(apiKeys: ApiKeysService): HttpPlugin {
  return async (app) => {
    app.get(
      '/api_keys',
      {
        schema: {
          tags,
          summary: 'List API keys (prefix only, never the key)',
          response: { 200: ApiKeyList },
        },
      },
      async () => apiKeys.list(),
    );
    app.post(
      '/api_keys',
      {
        schema: {
          tags,
          summary: 'Create an API key; the response is the only time the full key is shown',
          body: NewApiKey,
          response: { 201: CreatedApiKey },
        },
      },
      async (request, reply) => reply.status(201).send(apiKeys.create(request.body.name)),
    );
    app.delete(
      '/api_keys/:id',
      {
        schema: {
          tags,
          summary: 'Delete an API key by id; ingestion refuses it from then on',
          params: ApiKeyIdParams,
          response: { 204: Type.Null({ description: 'Deleted' }) },
        },
      },
      async (request, reply) => {
        apiKeys.delete(request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
