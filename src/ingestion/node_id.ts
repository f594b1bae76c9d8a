// The ingestion node's identity: a random id created once and kept beside its WAL segments. It
// belongs to the WAL, not to the address: a backend keeps one position per node id, so a node moved
// to another host or port keeps its position, while a node whose WAL directory was wiped or
// replaced gets a new id and is read from its first record (its keys restart, so the old position
// means nothing there).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory } from './wal/file_io.ts';

const FILE_NAME = 'node_id';
const NODE_ID = /^[0-9a-f]{32}$/;

export const isNodeId = (value: string): boolean => NODE_ID.test(value);

/** Reads `<walDir>/node_id`, creating it (atomically and durably) on a node's first start. */
export async function readOrCreateNodeId(walDir: string): Promise<string> {
  const file = path.join(walDir, FILE_NAME);
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing !== null) {
    const id = existing.trim();
    // Never replaced silently: a new id would make the backend re-read this whole WAL.
    if (!isNodeId(id)) throw new Error(`${file} does not hold a node id (32 hex digits); fix or delete it`);
    return id;
  }
  const id = randomBytes(16).toString('hex');
  await mkdir(walDir, { recursive: true });
  // Written aside and renamed, so a crash leaves either no file or a whole one.
  const temporary = `${file}.tmp`;
  await writeFile(temporary, `${id}\n`, { mode: 0o600, flush: true });
  await rename(temporary, file);
  await syncDirectory(walDir);
  return id;
}
