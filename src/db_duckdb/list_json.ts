// How span_list_entries keeps each listed span's rendered JSON: deflated (raw DEFLATE, no header).
// DuckDB's own string compression left these multi-KB texts larger than the text itself (5.3 KB
// stored per 4.5 KB row at 1M spans: a string over 4 KB goes to overflow blocks whole), and a page
// read decompressed the column for every row of each 2,048-row vector it touched. Deflated, a row
// is about a third of the text and stays inside its segment, so the vectors a page reads are
// smaller and are not decompressed by DuckDB; only the page's own rows are inflated, here.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { GrowingBytes, keptContextsWork, keptInflateRaw } from '../kept_zlib.ts';

/** The stored form of a span's JSON (text or UTF-8 bytes). */
export function deflateListJson(json: string | Uint8Array): Uint8Array {
  return deflateRawSync(json);
}

const inflate = keptInflateRaw();

/**
 * Each row's JSON (UTF-8 bytes) from its stored form: views of one buffer for the whole page,
 * inflated on one kept context. A context and a buffer per row were 50 of each per page, and the
 * memory they report to V8 set off full collections of the main thread's heap (kept_zlib.ts,
 * docs/memory.md); the page's rows live and die together.
 */
export function inflateListPage(stored: readonly Uint8Array[]): Uint8Array[] {
  if (!keptContextsWork) return stored.map((row) => inflateRawSync(row));
  const storedBytes = stored.reduce((sum, row) => sum + row.byteLength, 0);
  const page = new GrowingBytes(storedBytes * INFLATE_RATIO_GUESS);
  const ends = stored.map((row) => {
    inflate.writeThrough(row, page);
    return page.length;
  });
  // A guess far over what came out (rows that barely deflated) is not held with the page.
  const bytes =
    page.bytes.length > page.length * 1.25 ? Buffer.from(page.bytes.subarray(0, page.length)) : page.bytes;
  return ends.map((end, i) => bytes.subarray(i === 0 ? 0 : ends[i - 1], end));
}

/** One row's JSON from its stored form. */
export function inflateListJson(stored: Uint8Array): Uint8Array {
  return inflateListPage([stored])[0] as Uint8Array;
}

// Rendered span JSON deflates to about a third (2.5–3.8× on generated data); a page that inflates
// to more than the guess grows its buffer (one copy): correct, only slower.
const INFLATE_RATIO_GUESS = 4;
