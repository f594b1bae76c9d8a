// Builds the web UI into web/dist, which the server serves at `/` (src/features/web).
// `vite --config web/vite.config.ts` runs a dev server that proxies the API to a local backend.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

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
  plugins: [react()],
  // No source maps in the build: the server would publish the UI's full source to anyone.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
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
