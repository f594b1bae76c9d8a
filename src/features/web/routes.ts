// Serves the built web UI (web/dist, made by `npm run build:web`) on the API's port.
// - /assets/* are Vite's content-hashed files: cached for a year, and sent as the .br or .gz file
//   the build wrote beside each (web/vite.config.ts) when the browser accepts that encoding.
// - Any other GET that a browser navigates to (Accept: text/html) and that no API route claims gets
//   index.html, so client-side routes (/services/…, /traces/…) survive a reload or a shared link.
//   API routes are never shadowed: they are matched before this catch-all, and a non-HTML request
//   to an unknown path still gets the JSON 404.
// Everything here is public: the browser needs these files before anyone can sign in.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpPlugin } from '../../http/app.ts';
import { publicRoutes } from '../auth/session_guard.ts';

export const DEFAULT_WEB_DIST = path.resolve(import.meta.dirname, '../../../web/dist');

/** Files Vite copies to the root of dist (web/public): favicon.ico, robots.txt… */
const ROOT_FILE = /^[\w-]+(\.[\w-]+)*\.[a-z0-9]+$/i;

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Junjo Server — web UI not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}
code{background:#eef0f4;padding:.1em .3em;border-radius:4px}</style></head>
<body><h1>The web UI has not been built</h1>
<p>The API is running, but <code>web/dist</code> does not exist yet. Build the UI and reload this page:</p>
<p><code>npm run build:web</code></p>
<p>(<code>npm start</code> builds it before starting the server.)</p></body></html>`;

function wantsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

export function webUiRoutes(options: { distDir?: string } = {}): HttpPlugin {
  const distDir = options.distDir ?? DEFAULT_WEB_DIST;
  const indexFile = path.join(distDir, 'index.html');

  const sendApp = (reply: FastifyReply) => {
    if (!existsSync(indexFile)) return reply.code(503).type('text/html; charset=utf-8').send(notBuiltPage);
    // Always revalidated: a new build must reach browsers at once (its assets have new names).
    return reply.header('cache-control', 'no-cache').sendFile('index.html', distDir, { cacheControl: false });
  };

  return publicRoutes(async (app) => {
    if (!existsSync(indexFile)) app.log.warn({ distDir }, 'web UI not built: run `npm run build:web`');
    await app.register(fastifyStatic, {
      root: path.join(distDir, 'assets'),
      prefix: '/assets/',
      index: false,
      immutable: true,
      preCompressed: true,
      maxAge: '365d',
      suppressWarning: true,
      schemaHide: true,
    });
    app.get('/', { schema: { hide: true } }, async (_request, reply) => sendApp(reply));
    app.get<{ Params: { '*': string } }>('/*', { schema: { hide: true } }, async (request, reply) => {
      const file = request.params['*'];
      if (ROOT_FILE.test(file) && existsSync(path.join(distDir, file))) {
        return reply.sendFile(file, distDir, { maxAge: '1h' });
      }
      if (wantsHtml(request) && !ROOT_FILE.test(path.basename(file))) return sendApp(reply);
      return reply.code(404).send({ message: 'Not Found' });
    });
  });
}
