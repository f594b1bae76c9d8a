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
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function cell(value: Cell): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value;
}

/** The rows as one TabSeparated body. */
export function tabSeparated<Row>(layout: RowLayout<Row>, rows: Row[]): Buffer {
  let text = '';
  for (const row of rows) text += `${layout.cells(row).map(cell).join('\t')}\n`;
  return Buffer.from(text);
}

/** DateTime64(6) text in UTC; every instant ClickHouse can hold (1900–2299) round-trips. */
export const dateTime64 = (micros: bigint): string => formatTimestamp(micros).slice(0, -1).replace('T', ' ');
