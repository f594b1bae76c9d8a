// The seam between the poller and wherever accepted exports wait: the ingestion worker thread's
// write-ahead log in single-process mode (worker/ingestion_thread.ts), or the ingestion role's
// ReadSpans service in split mode (read_spans_service.ts).
import type { WalRecord } from './wal/record_format.ts';
import type { ReadLimits } from './wal/wal.ts';

export type { ReadLimits };

/** A WAL record as a source hands it out: the export exactly as received, which the poller converts. */
export type SourceRecord = WalRecord;

export interface WalSource {
  /** Records with key > afterKey (from the beginning when null), oldest first, within the limits. */
  read(afterKey: bigint | null, limits: ReadLimits): Promise<SourceRecord[]>;
  /** Everything up to `key` is committed downstream; the source may delete it. */
  release(key: bigint): Promise<void>;
  /** Wakes the poller when records arrive (local mode); a source without it is polled. */
  onAppend?(listener: () => void): () => void;
  /**
   * The id of the ingestion node behind the source (split mode): positions are kept per node id,
   * and later reads are refused with NodeChangedError if another node answers. A source without it
   * is this process's own WAL.
   */
  identify?(): Promise<string>;
}

/**
 * The source refused a read because it never handed out a key as high as the reader's position:
 * its log was lost or replaced (split mode). Everything it holds is then new to the reader.
 */
export class PositionAheadError extends Error {}

/**
 * Another ingestion node answered than the one identified (its address now leads elsewhere): the
 * reader's position belongs to the old node, so identify again and use the new node's position.
 */
export class NodeChangedError extends Error {}
