// npm run restore -- --from DIR [--data-dir DIR]
// Puts a backup made by `npm run backup` in place as the (empty) data directory of a stopped server.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.ts';
import { RestoreError, restoreBackup } from '../src/features/backup/restore.ts';

const { values } = parseArgs({ options: { from: { type: 'string' }, 'data-dir': { type: 'string' } } });
if (!values.from) {
  process.stderr.write('usage: npm run restore -- --from DIR [--data-dir DIR]\n');
  process.exit(2);
}
try {
  const config = loadConfig({
    ...process.env,
    ...(values['data-dir'] ? { JUNJO_DATA_DIR: values['data-dir'] } : {}),
  });
  await restoreBackup(path.resolve(values.from), config, (line) => process.stdout.write(`${line}\n`));
} catch (error) {
  if (!(error instanceof RestoreError || error instanceof ConfigError)) throw error;
  process.stderr.write(`restore refused: ${error.message}\n`);
  process.exitCode = 1;
}
