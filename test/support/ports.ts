import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Ports are drawn below Linux's ephemeral range (32768–60999 by default). A port the OS handed out
// for `listen(0)` and that we closed again can be taken, before the server under test binds it, by
// any outgoing connection of any process (seen under load: EADDRINUSE at start-up); ports outside
// that range are only ever taken by someone binding them on purpose.
const LOWEST = 20_000;
const RANGE = 12_000;

// Test files run as separate processes, two at a time. A test that stops a server and starts it
// again on the same port (a restarted node) needs the port to stay its own in between, so each
// port handed out is reserved across processes by a lock file holding the owner's pid, until the
// owner exits. A dead owner's file (kill -9, a crash) is taken over.
const LOCK_DIR = path.join(os.tmpdir(), 'junjo-test-ports');
const ownLocks = new Set<string>();
process.once('exit', releaseAll);

function ownerAlive(lockFile: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(lockFile, 'utf8'));
  } catch {
    return true; // being written or just removed: leave that port alone
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function createLock(lockFile: string): boolean {
  try {
    fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Reserves `port` for this process; false when another live process (or this one) holds it. */
export function reservePort(port: number): boolean {
  fs.mkdirSync(LOCK_DIR, { recursive: true });
  const lockFile = path.join(LOCK_DIR, String(port));
  if (ownLocks.has(lockFile)) return false;
  if (!createLock(lockFile)) {
    if (ownerAlive(lockFile)) return false;
    // Two processes may both find the owner dead: only one of them wins the fresh `wx` create.
    fs.rmSync(lockFile, { force: true });
    if (!createLock(lockFile)) return false;
  }
  ownLocks.add(lockFile);
  return true;
}

function release(lockFile: string): void {
  fs.rmSync(lockFile, { force: true });
  ownLocks.delete(lockFile);
}

/** Gives up this process's reservation of `port`. */
export function releasePort(port: number): void {
  release(path.join(LOCK_DIR, String(port)));
}

function releaseAll(): void {
  for (const lockFile of ownLocks) release(lockFile);
}

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that is free now, outside the ephemeral range, and not handed to any
 * other live process using this function (so it can be bound again after a restart).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * RANGE);
    if (!reservePort(port)) continue;
    if (await listenable(port)) return port;
    releasePort(port);
  }
}
