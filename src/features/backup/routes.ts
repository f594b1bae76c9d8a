// POST /admin/backup: what `npm run backup` calls. Only from loopback, with the token the server
// keeps in <data>/admin_token (0600: whoever can read it can read the data directory anyway).
// The answer streams NDJSON lines — {"progress"}…, then {"done": manifest} or {"error"} — because a
// backup of a large database outlasts any sensible request timeout.
import { createHash, timingSafeEqual } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Type } from 'typebox';
import { forbidden, unauthorized } from '../../errors.ts';
import type { HttpPlugin } from '../../http/app.ts';
import type { BackupService } from './backup_service.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function backupRoutes(deps: { token: string; backups: BackupService }): HttpPlugin {
  const expected = digest(deps.token);
  return async (app) => {
    app.post(
      '/admin/backup',
      {
        config: { public: true, csrfExempt: true },
        schema: {
          tags: ['operations'],
          summary: 'Back up SQLite and DuckDB into a new directory while the server runs (npm run backup)',
          description:
            'Loopback only. Bearer token: the contents of <data>/admin_token. Streams NDJSON progress.',
          security: [{ adminToken: [] }],
          body: Type.Object(
            { dir: Type.String({ minLength: 1, maxLength: 4096 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        if (!LOOPBACK.has(request.socket.remoteAddress ?? ''))
          throw forbidden('backups are only taken from loopback');
        const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (!given || !timingSafeEqual(digest(given), expected)) {
          throw unauthorized('Unauthorized: a valid admin token is required');
        }
        const { dir } = request.body;
        await deps.backups.prepare(dir);
        const lines = new PassThrough();
        const send = (line: object) => lines.write(`${JSON.stringify(line)}\n`);
        deps.backups
          .run(dir, (progress) => send({ progress }))
          .then(
            (done) => lines.end(`${JSON.stringify({ done })}\n`),
            (error: unknown) => {
              request.log.error({ err: error, dir }, 'backup failed');
              lines.end(
                `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`,
              );
            },
          );
        return reply.type('application/x-ndjson').send(lines);
      },
    );
  };
}
