// Batches written in chunks sized by the index memory they load.
//
// Each new key's path through the seed's random-key indexes (trace, span, parent, Junjo and patch
// ids) ends at a node somewhere in the file; DuckDB loads the whole block that node lives in and
// keeps it until a checkpoint or a reopen (connection.ts, INDEX_MEMORY_REOPEN_SHARE). Into a store
// of 10M generated spans a 512-span request loaded ~180 MiB of index nodes: past the 128 MiB
// default, the insert failed out of memory, and so did every retry of it, so nothing was indexed
// again (docs/memory.md, Inserts into a 10M-span store). So once an insert has run out of memory,
// a batch is written in chunks, each expected to load at most CHUNK_SHARE of the limit, judged from
// what the last chunks loaded per span; the loaded nodes are released between chunks once they pass
// their share. Until then batches go in whole, as before (IndexLoadEstimate says why).
import type { SpanBatch, StatePatchRow } from '../spans/rows.ts';

/** Share of DuckDB's memory limit one chunk's index loads may take. */
export const CHUNK_SHARE = 1 / 4;

/** Weight of the newest chunk in an estimate that falls. */
const FALLING_WEIGHT = 0.25;

/**
 * Index bytes an inserted span (with its state patches) loads, once an insert has run out of
 * memory: until then batches go in whole (splitting them before that need cost a 1M-span store a
 * quarter of its rate, and a 200k-span one its freshness: each chunk ran the writer's memory check,
 * whose checkpoints released the index nodes the next chunk loaded again). From then on a chunk
 * that loaded more than its share raises the figure at once, a lower one lowers it a quarter of the
 * way, and a chunk that runs out of memory halves the next.
 */
export class IndexLoadEstimate {
  #bytesPerSpan = 0;

  get bytesPerSpan(): number {
    return this.#bytesPerSpan;
  }

  /** Whether batches are split (an insert has run out of memory): only then is a chunk measured. */
  get splitting(): boolean {
    return this.#bytesPerSpan > 0;
  }

  /** Spans per chunk under a memory limit (at least one). */
  chunkSpans(limitBytes: number): number {
    if (!this.splitting) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.floor((limitBytes * CHUNK_SHARE) / this.#bytesPerSpan));
  }

  /** What an insert of `spans` spans added to DuckDB's index memory, under a memory limit. */
  observe(spans: number, grownBytes: number, limitBytes: number): void {
    if (spans <= 0 || !this.splitting) return;
    const perSpan = Math.max(0, grownBytes) / spans;
    if (grownBytes > limitBytes * CHUNK_SHARE) this.#bytesPerSpan = Math.max(this.#bytesPerSpan, perSpan);
    else if (perSpan < this.#bytesPerSpan)
      this.#bytesPerSpan += FALLING_WEIGHT * (perSpan - this.#bytesPerSpan);
  }

  /** An insert of `spans` spans ran out of memory: the next chunk takes at most half of them. */
  outOfMemory(spans: number, limitBytes: number): void {
    const halfFits = (limitBytes * CHUNK_SHARE) / Math.max(1, Math.floor(spans / 2));
    this.#bytesPerSpan = Math.max(this.#bytesPerSpan * 2, halfFits);
  }
}

/**
 * The first `spans` spans of the batch as a chunk, and the rest (null when nothing is left). A state
 * patch rides with its span (the foreign key then holds inside the chunk, with no lookup of stored
 * spans); patches of spans outside the batch and the log records go with the first chunk.
 */
export function takeChunk(batch: SpanBatch, spans: number): { chunk: SpanBatch; rest: SpanBatch | null } {
  if (batch.spans.length <= spans) return { chunk: batch, rest: null };
  const later = new Set(batch.spans.slice(spans).map((span) => `${span.trace_id}/${span.span_id}`));
  const laterPatch = (patch: StatePatchRow) => later.has(`${patch.trace_id}/${patch.span_id}`);
  return {
    chunk: {
      spans: batch.spans.slice(0, spans),
      patches: batch.patches.filter((patch) => !laterPatch(patch)),
      ...(batch.logRecords && { logRecords: batch.logRecords }),
    },
    rest: { spans: batch.spans.slice(spans), patches: batch.patches.filter(laterPatch) },
  };
}
