// Positional file I/O that never silently stops short: a short read or write is continued until done
// (or until the OS reports the real error, e.g. ENOSPC).
import { type FileHandle, open } from 'node:fs/promises';

export async function readFullyAt(handle: FileHandle, target: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Fills `targets` in order from the bytes at `position` (one vectored read where the OS allows). */
export async function readFullyIntoAt(
  handle: FileHandle,
  targets: Buffer[],
  position: number,
): Promise<void> {
  let pending = targets.filter((target) => target.length > 0);
  let at = position;
  while (pending.length > 0) {
    const { bytesRead } = await handle.readv(pending, at);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${at}`);
    at += bytesRead;
    pending = dropBytes(pending, bytesRead);
  }
}

export async function writeFullyAt(
  handle: FileHandle,
  buffers: Uint8Array[],
  position: number,
): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    if (bytesWritten === 0) throw new Error(`write made no progress at byte ${at}`);
    at += bytesWritten;
    pending = dropBytes(pending, bytesWritten);
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
