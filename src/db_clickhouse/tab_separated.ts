// Rows as TabSeparated text for INSERT. The store's text columns hold JSON; as JSONEachRow every
// quote of that JSON is escaped again and ClickHouse matches each key and unescapes each string,
// which the insert profile showed as most of a batch's cost (docs/scale-out.md "Indexing"). In
// TabSeparated only backslash, tab, newline and carriage return are escaped, and columns come in
// the order the INSERT names them.
import { formatTimestamp } from '../spans/span_json.ts';

export type Cell = string | number | null;

/** The columns an INSERT names, and each row's cells in that order. */
export interface RowLayout<Row> {
  columns: [string, ...string[]];
  cells: (row: Row) => Cell[];
}

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const TAB = 9;
const NEWLINE = 10;

function cell(value: Cell): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return SPECIAL.test(value) ? value.replace(SPECIALS, (c) => ESCAPES[c]!) : value;
}

/**
 * The rows as one TabSeparated body. Each cell is encoded straight into one growing buffer: joining
 * the cells into one string first (the JSON columns make it a two-byte string as soon as one cell
 * holds a non-Latin-1 character) and encoding that cost 2–3× the CPU in a profile of a batch.
 */
export function tabSeparated<Row>(layout: RowLayout<Row>, rows: Row[]): Buffer {
  let body = Buffer.allocUnsafe(1 << 16);
  let length = 0;
  for (const row of rows) {
    const cells = layout.cells(row);
    for (let i = 0; i < cells.length; i++) {
      const text = cell(cells[i]!);
      // A UTF-16 code unit takes at most 3 bytes of UTF-8, and one byte for the separator.
      const needed = length + text.length * 3 + 1;
      if (needed > body.length) {
        const bigger = Buffer.allocUnsafe(Math.max(body.length * 2, needed));
        body.copy(bigger, 0, 0, length);
        body = bigger;
      }
      length += body.write(text, length);
      body[length++] = i === cells.length - 1 ? NEWLINE : TAB;
    }
  }
  return body.subarray(0, length);
}

/** DateTime64(6) text in UTC; every instant ClickHouse can hold (1900–2299) round-trips. */
export const dateTime64 = (micros: bigint): string => formatTimestamp(micros).slice(0, -1).replace('T', ' ');
