// How span_list_entries keeps each listed span's rendered JSON: deflated (raw DEFLATE, no header).
// DuckDB's own string compression left these multi-KB texts larger than the text itself (5.3 KB
// stored per 4.5 KB row at 1M spans: a string over 4 KB goes to overflow blocks whole), and a page
// read decompressed the column for every row of each 2,048-row vector it touched. Deflated, a row
// is about a third of the text and stays inside its segment, so the vectors a page reads are
// smaller and are not decompressed by DuckDB; only the page's own rows are inflated, here.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** The stored form of a span's JSON (text or UTF-8 bytes). */
export function deflateListJson(json: string | Uint8Array): Uint8Array {
  return deflateRawSync(json);
}

/** The JSON's UTF-8 bytes from its stored form. */
export function inflateListJson(stored: Uint8Array): Uint8Array {
  return inflateRawSync(stored, { chunkSize: outputChunkSize(stored.length) });
}

// zlib's sync inflate writes into an output buffer of `chunkSize` bytes (16 KiB by default) and
// returns a view of it, so each listed row held 16 KiB of Node's buffer pool for a ~4.5 KB text.
// V8 counts that memory towards the old generation's limit: a 50-row page added ~0.8 MB, which set
// off a full collection of the main thread's heap every ~9 pages at 10M spans (docs/memory.md).
// Rendered span JSON deflates to about a third (2.5–3.8× on generated data); a text that inflates
// to more than the guess takes further chunks (and one copy): correct, only slower.
// Capped, so that a large row that barely deflated (random or already compressed data) does not
// hold four times its size: past the cap it inflates in chunks and is copied into one buffer.
const INFLATE_RATIO_GUESS = 4;
const MIN_CHUNK = 1024;
const MAX_CHUNK = 1024 * 1024;

function outputChunkSize(storedBytes: number): number {
  return Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, storedBytes * INFLATE_RATIO_GUESS));
}
