// Everything the server writes holds secrets or span data (password hashes, session and key hashes,
// prompts and outputs in spans): only the server's own user may read it. New files get 0600 and new
// directories 0700 through the process umask (which also covers what SQLite and DuckDB create), and
// files left by an older version are tightened at every start.
import { chmodSync, existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Applies to every file this process creates from now on (worker threads included). */
export function restrictNewFiles(): void {
  process.umask(0o077);
}

/** Tightens `root` and everything under it (symbolic links are left alone, never followed). */
export function restrictTree(root: string): void {
  if (!existsSync(root)) return;
  const stat = lstatSync(root);
  if (stat.isDirectory()) {
    chmodSync(root, PRIVATE_DIR_MODE);
    for (const entry of readdirSync(root)) restrictTree(path.join(root, entry));
  } else if (stat.isFile()) {
    chmodSync(root, PRIVATE_FILE_MODE);
  }
}
