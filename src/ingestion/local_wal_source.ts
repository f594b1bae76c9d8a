// This process's write-ahead log as a WalSource, without rows (only the receiver that converted an
// export has them): what the ingestion role's ReadSpans service serves in split mode. In
// single-process mode the WAL lives on the ingestion worker thread, and the poller reads it through
// IngestionThread instead.
import type { WriteAheadLog } from './wal/wal.ts';
import type { ReadLimits, WalSource } from './wal_source.ts';

export function localWalSource(wal: WriteAheadLog): WalSource {
  return {
    read: (afterKey: bigint | null, limits: ReadLimits) => wal.readAfter(afterKey, limits),
    release: (key: bigint) => wal.releaseUpTo(key),
    onAppend: (listener: () => void) => wal.onAppend(listener),
  };
}
