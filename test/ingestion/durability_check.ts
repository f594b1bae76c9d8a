// Compares what clients sent with what a STOPPED server stored in DuckDB, in SQL: the expected keys
// go into an in-memory DuckDB that attaches the server's file read-only, so even a million rows
// are checked with a few joins instead of JavaScript sets.
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export interface SentRows {
  /** `<trace_id>:<span_id>` of spans in acknowledged exports: each must be stored exactly once. */
  ackedSpans: Iterable<string>;
  /** Every span sent, acknowledged or not: nothing else may be stored. */
  sentSpans: Iterable<string>;
  ackedPatches: Iterable<string>;
  sentPatches: Iterable<string>;
}

/** Requests that were all acknowledged: each of their rows stored exactly once, and nothing else. */
export function allAcknowledged(requests: Iterable<{ spans: string[]; patches: string[] }>): SentRows {
  const spans: string[] = [];
  const patches: string[] = [];
  for (const request of requests) {
    spans.push(...request.spans);
    patches.push(...request.patches);
  }
  return { ackedSpans: spans, sentSpans: spans, ackedPatches: patches, sentPatches: patches };
}

export interface DurabilityReport {
  storedSpans: number;
  storedPatches: number;
  duplicateSpans: number;
  duplicatePatches: number;
  /** Acknowledged but not stored. */
  missingSpans: number;
  missingPatches: number;
  /** Stored but never sent. */
  unexpectedSpans: number;
  unexpectedPatches: number;
  examples: string[];
}

/** Human-readable violations of "every acknowledged row exactly once, nothing invented"; empty if none. */
export function durabilityProblems(report: DurabilityReport): string[] {
  const problems: string[] = [];
  for (const field of [
    'duplicateSpans',
    'duplicatePatches',
    'missingSpans',
    'missingPatches',
    'unexpectedSpans',
    'unexpectedPatches',
  ] as const) {
    if (report[field] > 0) problems.push(`${field}: ${report[field]}`);
  }
  if (problems.length > 0) problems.push(`examples: ${report.examples.join(', ')}`);
  return problems;
}

export async function checkDurability(duckdbFile: string, sent: SentRows): Promise<DurabilityReport> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${duckdbFile.replaceAll("'", "''")}' AS stored (READ_ONLY)`);
    await fillKeys(conn, 'acked_spans', sent.ackedSpans, true);
    await fillKeys(conn, 'sent_spans', sent.sentSpans, true);
    await fillKeys(conn, 'acked_patches', sent.ackedPatches, false);
    await fillKeys(conn, 'sent_patches', sent.sentPatches, false);
    const count = async (sql: string) => Number((await conn.runAndReadAll(sql)).getRows()[0]![0]);
    const examples = async (sql: string, label: string) =>
      (await conn.runAndReadAll(`${sql} LIMIT 3`)).getRows().map((row) => `${label} ${row.join(':')}`);
    const spanJoin = 'a.trace_id = b.trace_id AND a.span_id = b.span_id';
    const queries = {
      duplicateSpans:
        'SELECT trace_id, span_id FROM stored.spans GROUP BY trace_id, span_id HAVING count(*) > 1',
      duplicatePatches: 'SELECT patch_id FROM stored.state_patches GROUP BY patch_id HAVING count(*) > 1',
      missingSpans: `SELECT a.trace_id, a.span_id FROM acked_spans a ANTI JOIN stored.spans b ON ${spanJoin}`,
      missingPatches:
        'SELECT a.id FROM acked_patches a ANTI JOIN stored.state_patches b ON a.id = b.patch_id',
      unexpectedSpans: `SELECT a.trace_id, a.span_id FROM stored.spans a ANTI JOIN sent_spans b ON ${spanJoin}`,
      unexpectedPatches:
        'SELECT a.patch_id FROM stored.state_patches a ANTI JOIN sent_patches b ON a.patch_id = b.id',
    };
    const report: DurabilityReport = {
      storedSpans: await count('SELECT count(*) FROM stored.spans'),
      storedPatches: await count('SELECT count(*) FROM stored.state_patches'),
      duplicateSpans: 0,
      duplicatePatches: 0,
      missingSpans: 0,
      missingPatches: 0,
      unexpectedSpans: 0,
      unexpectedPatches: 0,
      examples: [],
    };
    for (const [field, sql] of Object.entries(queries) as [keyof typeof queries, string][]) {
      report[field] = await count(`SELECT count(*) FROM (${sql})`);
      if (report[field] > 0) report.examples.push(...(await examples(sql, field)));
    }
    return report;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function fillKeys(
  conn: DuckDBConnection,
  table: string,
  keys: Iterable<string>,
  spanKeys: boolean,
): Promise<void> {
  await conn.run(
    spanKeys
      ? `CREATE TABLE ${table} (trace_id VARCHAR, span_id VARCHAR)`
      : `CREATE TABLE ${table} (id VARCHAR)`,
  );
  const appender = await conn.createAppender(table);
  try {
    for (const key of keys) {
      if (spanKeys) {
        appender.appendVarchar(key.slice(0, 32));
        appender.appendVarchar(key.slice(33));
      } else {
        appender.appendVarchar(key);
      }
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
}
