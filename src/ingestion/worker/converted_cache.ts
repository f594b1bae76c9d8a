// On the ingestion worker thread (single-process mode): the receiver has already converted each
// accepted request to rows (it had to, to validate it), so it leaves them here until the poller reads
// the record, and they travel with it (wal_source.ts SourceRecord) instead of the poller decoding the
// same bytes again. Bounded by the payload bytes it stands for; a miss (restart, replay, full cache)
// just means the poller decodes the WAL record itself.
import type { SpanBatch } from '../../spans/rows.ts';

export class ConvertedCache {
  readonly stats = { hits: 0, misses: 0, skipped_full: 0 };
  readonly #entries = new Map<bigint, { rows: SpanBatch; bytes: number }>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxPayloadBytes: number) {
    this.#maxBytes = maxPayloadBytes;
  }

  /** Payload bytes of the entries held. */
  get bytes(): number {
    return this.#bytes;
  }

  put(key: bigint, rows: SpanBatch, payloadBytes: number): void {
    if (this.#bytes + payloadBytes > this.#maxBytes) {
      this.stats.skipped_full += 1;
      return;
    }
    this.#entries.set(key, { rows, bytes: payloadBytes });
    this.#bytes += payloadBytes;
  }

  take(key: bigint): SpanBatch | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.stats.misses += 1;
      return undefined;
    }
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    this.stats.hits += 1;
    return entry.rows;
  }

  /** Forgets everything up to `key` (committed, or skipped by the poller). */
  dropUpTo(key: bigint): void {
    for (const [entryKey, entry] of this.#entries) {
      if (entryKey > key) continue;
      this.#entries.delete(entryKey);
      this.#bytes -= entry.bytes;
    }
  }
}
