// Positional file I/O that never silently stops short: a short read or write is continued until done
// (or until the OS reports the real error, e.g. ENOSPC).
import { type FileHandle, open } from 'node:fs/promises';

export function readFullyAt(handle: FileHandle, target: Buffer, position: number): Promise<void> {
  return readFullyIntoAt(handle, [target], position);
}

/** Fills `targets` in order from the bytes at `position` (one vectored read where the OS allows). */
export function readFullyIntoAt(handle: FileHandle, targets: Buffer[], position: number): Promise<void> {
  return untilDone(
    targets,
    position,
    async (pending, at) => (await handle.readv(pending, at)).bytesRead,
    (at) => `unexpected end of file at byte ${at}`,
  );
}

export function writeFullyAt(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  return untilDone(
    buffers,
    position,
    async (pending, at) => (await handle.writev(pending, at)).bytesWritten,
    (at) => `write made no progress at byte ${at}`,
  );
}

/** Repeats a vectored read or write on what is left until every byte is moved; 0 bytes moved is an error. */
async function untilDone<T extends Uint8Array>(
  buffers: T[],
  position: number,
  transfer: (pending: T[], at: number) => Promise<number>,
  stalled: (at: number) => string,
): Promise<void> {
  let pending = buffers.filter((buffer) => buffer.length > 0);
  let at = position;
  while (pending.length > 0) {
    const moved = await transfer(pending, at);
    if (moved === 0) throw new Error(stalled(at));
    at += moved;
    pending = dropBytes(pending, moved);
  }
}

function dropBytes<T extends Uint8Array>(buffers: T[], count: number): T[] {
  let left = count;
  let index = 0;
  while (index < buffers.length && left >= buffers[index]!.length) {
    left -= buffers[index]!.length;
    index++;
  }
  const rest = buffers.slice(index);
  if (left > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(left) as T;
  return rest;
}

/** Makes file creations, renames and deletions in `dir` survive a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
