// Single-process mode: the poller reads the write-ahead log of this process directly.
import type { WriteAheadLog } from './wal/wal.ts';
import type { ReadLimits, WalSource } from './wal_source.ts';

export function localWalSource(wal: WriteAheadLog): WalSource {
  return {
    read: (afterKey: bigint | null, limits: ReadLimits) => wal.readAfter(afterKey, limits),
    release: (key: bigint) => wal.releaseUpTo(key),
    onAppend: (listener: () => void) => wal.onAppend(listener),
  };
}
