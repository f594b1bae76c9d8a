// The REST API and web UI server (:1323). Every capability is a plugin registered here once;
// feature routes are plugins that read like a table of contents.
import swagger from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.ts';
import { limitConnections } from './connection_limits.ts';
import { registerErrorHandling } from './error_handler.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes are authenticated by default; only routes that set `public: true` skip the session check. */
    public?: boolean;
  }
}

/** A feature or guard: a Fastify plugin whose routes get TypeBox-typed requests. */
export type HttpPlugin = FastifyPluginAsyncTypebox;

export interface HttpAppOptions {
  logger: Logger;
  bodyLimitBytes?: number;
  /** Plugins that add hooks applying to every route (auth, CSRF, CORS) — registered before the routes. */
  guards: HttpPlugin[];
  features: HttpPlugin[];
}

export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // API requests are small JSON bodies (30 s is ample even on a slow link); a minute of silence
  // leaves room for a slow query.
  limitConnections(app, { requestTimeoutMs: 30_000, idleTimeoutMs: 60_000 });
  registerErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Junjo Server API', version: '1' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'session' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'JUNJO_METRICS_TOKEN' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'contents of <data>/admin_token' },
        },
      },
      security: [{ session: [] }],
    },
  });
  for (const guard of options.guards) await app.register(guard);
  for (const feature of options.features) await app.register(feature);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
