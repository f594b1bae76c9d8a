// The seam between the poller and wherever accepted exports wait: the local write-ahead log in
// single-process mode, or the ingestion role's ReadSpans service in split mode.
import type { WalRecord } from './wal/record_format.ts';

export interface ReadLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface WalSource {
  /** Records with key > afterKey (from the beginning when null), oldest first, within the limits. */
  read(afterKey: bigint | null, limits: ReadLimits): Promise<WalRecord[]>;
  /** Everything up to `key` is committed downstream; the source may delete it. */
  release(key: bigint): Promise<void>;
  /** Wakes the poller when records arrive (local mode); a source without it is polled. */
  onAppend?(listener: () => void): () => void;
}
