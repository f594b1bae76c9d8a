// npm run backup -- --out DIR [--data-dir DIR]
// Asks the running server (same environment as `npm start`: JUNJO_DATA_DIR, JUNJO_HTTP_PORT) for an
// online backup into DIR and prints its progress. See src/features/backup/backup_service.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { adminTokenFile, loadConfig } from '../src/config.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, 'data-dir': { type: 'string' } } });
if (!values.out) {
  process.stderr.write('usage: npm run backup -- --out DIR [--data-dir DIR]\n');
  process.exit(2);
}
const config = loadConfig({
  ...process.env,
  ...(values['data-dir'] ? { JUNJO_DATA_DIR: values['data-dir'] } : {}),
});
const tokenFile = adminTokenFile(config);
let token: string;
try {
  token = readFileSync(tokenFile, 'utf8').trim();
} catch {
  process.stderr.write(`cannot read ${tokenFile}: is the server running on this data directory?\n`);
  process.exit(1);
}
const response = await fetch(`http://127.0.0.1:${config.ports.http}/admin/backup`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ dir: path.resolve(values.out) }),
}).catch((error: unknown) => {
  process.stderr.write(`cannot reach the server on port ${config.ports.http}: ${String(error)}\n`);
  process.exit(1);
});
if (!response.ok || !response.body) {
  process.stderr.write(`backup refused (${response.status}): ${await response.text()}\n`);
  process.exit(1);
}
let buffered = '';
let outcome: 'done' | 'error' | null = null;
for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline >= 0) {
    const line = JSON.parse(buffered.slice(0, newline)) as {
      progress?: string;
      done?: object;
      error?: string;
    };
    buffered = buffered.slice(newline + 1);
    newline = buffered.indexOf('\n');
    if (line.progress) process.stdout.write(`${line.progress}\n`);
    if (line.done) {
      outcome = 'done';
      process.stdout.write(`backup complete: ${JSON.stringify(line.done)}\n`);
    }
    if (line.error) {
      outcome = 'error';
      process.stderr.write(`backup failed: ${line.error}\n`);
    }
  }
}
process.exitCode = outcome === 'done' ? 0 : 1;
