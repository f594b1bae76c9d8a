// How span_list_entries keeps each listed span's rendered JSON: deflated (raw DEFLATE, no header).
// DuckDB's own string compression left these multi-KB texts larger than the text itself (5.3 KB
// stored per 4.5 KB row at 1M spans: a string over 4 KB goes to overflow blocks whole), and a page
// read decompressed the column for every row of each 2,048-row vector it touched. Deflated, a row
// is about a third of the text and stays inside its segment, so the vectors a page reads are
// smaller and are not decompressed by DuckDB; only the page's own rows are inflated, here.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { GrowingBytes, keptContextsWork, keptDeflateRaw, keptInflateRaw } from '../kept_zlib.ts';
import { JSON_ARRAY_BYTE, markLaidOutJsonArray } from '../spans/span_json.ts';

const deflate = keptDeflateRaw();
const inflate = keptInflateRaw();

/** The stored form of a span's JSON (text or UTF-8 bytes), deflated on one kept context. */
export function deflateListJson(json: string | Uint8Array): Uint8Array {
  if (!keptContextsWork) return deflateRawSync(json);
  return deflate.oneShot(typeof json === 'string' ? Buffer.from(json) : json);
}

/**
 * Each row's JSON (UTF-8 bytes) from its stored form, inflated on one kept context into one
 * buffer laid out as the page's JSON array (`[row,row,…]`), so that jsonArrayBytes sends it
 * without a copy. A context and a buffer per row, and then the joined array, were what the memory
 * a page reports to V8 was made of, and it set off full collections of the main thread's heap
 * (kept_zlib.ts, docs/memory.md); the page's rows live and die together.
 */
export function inflateListPage(stored: readonly Uint8Array[]): Uint8Array[] {
  if (!keptContextsWork) return stored.map((row) => inflateRawSync(row));
  const storedBytes = stored.reduce((sum, row) => sum + row.byteLength, 0);
  const page = new GrowingBytes(2 + stored.length + storedBytes * INFLATE_RATIO_GUESS);
  const bounds: number[] = [];
  for (const [i, row] of stored.entries()) {
    appendByte(page, i === 0 ? OPEN : COMMA);
    bounds.push(page.length);
    inflate.writeThrough(row, page);
    bounds.push(page.length);
  }
  appendByte(page, CLOSE);
  // A guess far over what came out (rows that barely deflated) is not held with the page. The copy
  // gets a buffer of its own: a small Buffer.from would be a view of Buffer's shared pool.
  const bytes =
    page.bytes.length > page.length * 2 ? ownCopy(page.bytes.subarray(0, page.length)) : page.bytes;
  markLaidOutJsonArray(bytes);
  return stored.map((_, i) => bytes.subarray(bounds[2 * i], bounds[2 * i + 1]));
}

/** One row's JSON from its stored form. */
export function inflateListJson(stored: Uint8Array): Uint8Array {
  return inflateListPage([stored])[0] as Uint8Array;
}

const { open: OPEN, comma: COMMA, close: CLOSE } = JSON_ARRAY_BYTE;

function ownCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

function appendByte(page: GrowingBytes, byte: number): void {
  page.makeRoom(1);
  page.bytes[page.length++] = byte;
}

// Rendered span JSON deflates to about a third (2.5–3.8× on generated data); a page that inflates
// to more than the guess grows its buffer (one copy): correct, only slower.
const INFLATE_RATIO_GUESS = 4;
