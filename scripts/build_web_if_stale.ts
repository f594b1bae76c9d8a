// `npm start` runs this instead of an unconditional `vite build`: the UI is rebuilt only when a file
// that goes into it (web/ sources, the Vite config, the lockfile) is newer than web/dist/index.html,
// which every build writes. A fresh checkout or a changed source still builds.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const web = path.join(root, 'web');
const builtMarker = path.join(web, 'dist', 'index.html');

/** Newest modification time of `file`, or of any file under it (web/dist excluded). */
function newestMtimeMs(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(file)) {
    const child = path.join(file, entry);
    if (child === path.join(web, 'dist')) continue;
    newest = Math.max(newest, newestMtimeMs(child));
  }
  return newest;
}

function builtAtMs(): number | null {
  try {
    return statSync(builtMarker).mtimeMs;
  } catch {
    return null;
  }
}

const built = builtAtMs();
const sources = Math.max(newestMtimeMs(web), newestMtimeMs(path.join(root, 'package-lock.json')));
if (built !== null && built > sources) {
  process.stdout.write(
    'web UI is up to date (web/dist is newer than every web source); skipping vite build\n',
  );
} else {
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts'], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exitCode = result.status ?? 1;
}
