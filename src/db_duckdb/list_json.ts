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
  return inflateRawSync(stored);
}
