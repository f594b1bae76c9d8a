// `npm run restore -- --from DIR`: puts a finished backup (backup_service.ts) in place as the data of
// a server that is not running. Refuses a target that already holds data: a restore never merges.
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.ts';
import { BACKUP_FILES, type BackupManifest } from './backup_service.ts';

export class RestoreError extends Error {}

export async function restoreBackup(
  from: string,
  config: Config,
  progress: (line: string) => void,
): Promise<BackupManifest> {
  const manifestText = await readFile(path.join(from, BACKUP_FILES.manifest), 'utf8').catch(() => null);
  if (manifestText === null) {
    throw new RestoreError(`${from} holds no ${BACKUP_FILES.manifest}: not a finished backup`);
  }
  const manifest = JSON.parse(manifestText) as BackupManifest;
  if (manifest.format !== 1) throw new RestoreError(`unknown backup format ${String(manifest.format)}`);

  const { dataDir, sqlite, duckdb, wal } = config.paths;
  for (const dir of [dataDir, wal]) {
    const entries = await readdir(dir).catch(() => []);
    if (entries.length > 0)
      throw new RestoreError(`${dir} is not empty: restore only into an empty data directory`);
  }
  for (const file of [sqlite, duckdb]) {
    if (await stat(file).catch(() => null)) throw new RestoreError(`${file} already exists`);
  }

  progress(
    `restoring the backup of ${manifest.createdAt}: ${manifest.spans} spans, ${manifest.statePatches} state patches`,
  );
  for (const [source, target] of [
    [BACKUP_FILES.sqlite, sqlite],
    [BACKUP_FILES.duckdb, duckdb],
  ] as const) {
    const file = path.join(from, source);
    const { size } = await stat(file);
    progress(`copying ${file} → ${target} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await copyFile(file, target, constants.COPYFILE_EXCL);
  }
  await mkdir(wal, { recursive: true, mode: 0o700 });
  progress('restored; start the server on this data directory (everyone signs in again)');
  return manifest;
}
