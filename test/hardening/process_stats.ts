// What Linux says about a running process: resident memory and open file descriptors.
import { readdirSync, readFileSync } from 'node:fs';

const statusField = (pid: number, field: string): number | null => {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
};

/** VmRSS of `pid` in bytes (null once the process is gone). */
export const rssBytes = (pid: number): number | null => statusField(pid, 'VmRSS');

/** VmHWM of `pid` in bytes: the highest RSS since it started, whatever sampling missed (null once gone). */
export const peakRssBytes = (pid: number): number | null => statusField(pid, 'VmHWM');

/** Number of open file descriptors of `pid` (sockets, files, pipes…), null once it is gone. */
export function openFileDescriptors(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Samples RSS every `intervalMs` and keeps the peak. */
export function watchRss(pid: number, intervalMs = 200): { peakBytes: () => number; stop: () => void } {
  let peak = rssBytes(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid) ?? 0);
  }, intervalMs);
  return {
    peakBytes: () => Math.max(peak, rssBytes(pid) ?? 0),
    stop: () => clearInterval(timer),
  };
}

export const mib = (bytes: number): number => Math.round(bytes / 1024 / 1024);
