// The REST API and web UI server (:1323). Every capability is a plugin registered here once;
// feature routes are plugins that read like a table of contents.
import zlib from 'node:zlib';
import compress from '@fastify/compress';
import swagger from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TrustProxy } from '../config.ts';
import { keptBrotliCompress, keptContextsWork, keptGzip } from '../kept_zlib.ts';
import type { Logger } from '../logger.ts';
import { limitConnections } from './connection_limits.ts';
import { frameworkErrorHandler, registerErrorHandling } from './error_handler.ts';
import { securityHeaders } from './security_headers.ts';

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
  /** Production adds HSTS to the security headers. */
  production?: boolean;
  /** Which proxies' X-Forwarded-For decides `request.ip` (JUNJO_TRUST_PROXY); default none. */
  trustProxy?: TrustProxy;
  /** Plugins that add hooks applying to every route (auth, CSRF, CORS) — registered before the routes. */
  guards: HttpPlugin[];
  features: HttpPlugin[];
}

/** Responses smaller than this go out uncompressed. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

/**
 * How every API answer is compressed. Span lists and traces are what the pages wait for, and the
 * server's CPU is the wait: brotli quality 1 and gzip level 1 took a tenth of the CPU of the
 * plugin's defaults (quality 4, level 6) for about 7% more bytes, on a 3 MB 10,000-span trace and
 * on a 215 KB 50-row root page alike (at 10M spans the page cost 27 ms of server CPU with the
 * defaults, 19 without compression). Bodies up to `syncThreshold` are compressed in one call: the
 * plugin's stream (its default above 8 KB on two cores) cost the 10,000-span waterfall ~25 ms of
 * CPU against ~15, and at these settings one call holds the event loop 6-10 ms per 3 MB; larger
 * answers still stream. The web UI's files are compressed at build time at the highest settings.
 */
const BROTLI_OPTIONS = {
  params: {
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    [zlib.constants.BROTLI_PARAM_QUALITY]: 1,
  },
};
const GZIP_OPTIONS = { level: 1 };
const COMPRESSION = {
  encodings: ['br', 'gzip'] as Array<'br' | 'gzip'>,
  threshold: COMPRESSION_THRESHOLD_BYTES,
  brotliOptions: BROTLI_OPTIONS,
  zlibOptions: GZIP_OPTIONS,
  syncThreshold: 4 * 1024 * 1024,
  ...(keptContextsWork ? { zlib: keptContextCompressors() } : {}),
};

/**
 * The plugin's one-call path on one kept native context per encoding instead of one per answer
 * (kept_zlib.ts says why); its streams stay Node's own.
 */
function keptContextCompressors() {
  const brotli = keptBrotliCompress(BROTLI_OPTIONS);
  const gzip = keptGzip(GZIP_OPTIONS);
  return {
    brotliCompressSync: (input: Buffer) => brotli.oneShot(input),
    gzipSync: (input: Buffer) => gzip.oneShot(input),
  };
}

/** Fastify takes a hop count as a function of the hop (its typings omit the number form). */
const fastifyTrustProxy = (trust: TrustProxy) =>
  typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;

export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const setSecurityHeaders = securityHeaders(options.production ?? false);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    trustProxy: fastifyTrustProxy(options.trustProxy ?? false),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    frameworkErrors: frameworkErrorHandler(setSecurityHeaders),
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Before every other hook, so CORS preflights and early refusals carry the headers too. API answers
  // hold span data or secrets: no cache keeps them (the static web files set their own caching).
  app.addHook('onRequest', (request, reply, done) => {
    setSecurityHeaders(request.raw, reply.raw);
    reply.header('cache-control', 'no-store');
    done();
  });
  // OpenAPI: a public route needs no session (routes guarded by their own token declare that scheme
  // instead); every other route inherits the document's session scheme.
  app.addHook('onRoute', (route) => {
    if (route.config?.public === true) route.schema = { security: [], ...route.schema };
  });
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
  // Span lists and traces are JSON with the same keys over and over: br or gzip (whichever the
  // client accepts, br first) makes them several times smaller on the wire. Bodies under the
  // threshold gain too little for the CPU; the web UI's files are compressed once at build time
  // (web/vite.config.ts) and served as they are (features/web). Registered before every route, as
  // the static files need it. API request bodies are small JSON and are not decompressed.
  await app.register(compress, { ...COMPRESSION, globalDecompression: false });
  for (const guard of options.guards) await app.register(guard);
  for (const feature of options.features) await app.register(feature);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
