// Builds the web UI into web/dist, which the server serves at `/` (src/features/web).
// `vite --config web/vite.config.ts` runs a dev server that proxies the API to a local backend.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt|map)$/;
/** The server's threshold for API answers (src/http/app.ts): smaller files go out as they are. */
const MIN_BYTES = 1024;

/**
 * Writes `<file>.br` and `<file>.gz` beside every built asset worth compressing, at the highest
 * levels (done once per build, not per request); the server sends the one the browser accepts.
 */
function precompress(): Plugin {
  return {
    name: 'junjo-precompress',
    apply: 'build',
    async writeBundle(options) {
      const assets = path.join(options.dir ?? 'dist', 'assets');
      const quality = { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY };
      // In parallel: zlib works on libuv's thread pool.
      const names = (await readdir(assets)).filter((name) => COMPRESSIBLE.test(name));
      await Promise.all(
        names.map(async (name) => {
          const file = path.join(assets, name);
          const bytes = await readFile(file);
          if (bytes.length < MIN_BYTES) return;
          await writeFile(`${file}.br`, await brotli(bytes, { params: quality }));
          await writeFile(`${file}.gz`, await gzipped(bytes, { level: constants.Z_BEST_COMPRESSION }));
        }),
      );
    },
  };
}

const EARLY_ENTRY = 'src/early.ts';

/**
 * Loads web/src/early.ts as a script of its own, ahead of the app: bundled with the app it would
 * wait for the app's code to download, compile and run. The app's chunks import the same client
 * module, so the request it starts is the one the app takes.
 */
function earlyEntry(): Plugin {
  return {
    name: 'junjo-early-entry',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const chunk = Object.values(ctx.bundle ?? {}).find(
          (output) => output.type === 'chunk' && output.isEntry && output.name === 'early',
        );
        // The dev server serves the source; a build, the entry's hashed file.
        const src = chunk ? `/${chunk.fileName}` : `/${EARLY_ENTRY}`;
        // async: it runs as soon as it has loaded, not after the app's scripts in document order.
        const attrs = { type: 'module', async: true, crossorigin: true, src };
        return [{ tag: 'script', attrs, injectTo: 'head' }];
      },
    },
  };
}

const backend = process.env.JUNJO_BACKEND_URL ?? 'http://127.0.0.1:1323';
const apiPrefixes = [
  '/otel',
  '/users',
  '/api_keys',
  '/sign-in',
  '/sign-out',
  '/auth-test',
  '/csrf',
  '/health',
  '/llm',
];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react(), earlyEntry(), precompress()],
  // No source maps in the build: the server would publish the UI's full source to anyone.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        early: fileURLToPath(new URL(EARLY_ENTRY, import.meta.url)),
      },
    },
  },
  server: {
    port: 5151,
    proxy: Object.fromEntries(
      apiPrefixes.map((prefix) => [
        prefix,
        {
          target: backend,
          // A browser navigation to a UI route that shares a prefix stays with the SPA.
          bypass: (req: { headers: Record<string, string | string[] | undefined> }) =>
            String(req.headers.accept ?? '').includes('text/html') ? '/index.html' : undefined,
        },
      ]),
    ),
  },
});
