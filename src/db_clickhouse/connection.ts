// The ClickHouse client, over HTTP with the official @clickhouse/client, or in-process through chdb
// (`chdb:///dir`: the ClickHouse engine embedded in this process, for tests and single-machine
// trials; chdb is a dev dependency, loaded only for such a URL). Start-up checks say in one line
// what is wrong: unreachable, credentials refused, or a server too old for the schema.
import { Readable } from 'node:stream';
import { type ClickHouseClient, ClickHouseLogLevel, createClient, parseError } from '@clickhouse/client';
import { StartupError } from '../errors.ts';

export interface ClickHouseSettings {
  url: string;
  user: string;
  password: string;
}

/** The oldest server with everything the schema and queries use (lightweight DELETE, TTL, FINAL). */
export const MIN_SERVER_VERSION = [24, 8] as const;

// The client would print each failed request with its stack; the store reports errors itself
// (a start-up failure in one line, a write failure through the poller's log).
const QUIET = { level: ClickHouseLogLevel.OFF };

const CHDB_SESSION_SETTINGS = [
  'log_queries = 0',
  'query_profiler_real_time_period_ns = 0',
  'query_profiler_cpu_time_period_ns = 0',
];

/** One INSERT of a body already in its format: the store's batches, as TabSeparated text. */
export interface InsertBody {
  table: string;
  columns: [string, ...string[]];
  format: 'TabSeparated';
  body: Buffer;
  settings: Record<string, number>;
}

export interface ClickHouseConnection {
  client: ClickHouseClient;
  insertBody: (insert: InsertBody) => Promise<void>;
}

/** Opens a client; nothing is sent until the first query (chdb: the session's settings are set). */
export async function openClickHouse(settings: ClickHouseSettings): Promise<ClickHouseConnection> {
  const url = new URL(settings.url);
  if (url.protocol === 'chdb:') {
    // One engine per process and data directory (chdb's rule): every client of the same path shares it.
    const { createChdbConnection } = await import('chdb/connection').catch((error: unknown) => {
      throw new StartupError(
        `JUNJO_CLICKHOUSE_URL=${settings.url} needs the chdb package (a dev dependency: npm install): ${String(error)}`,
      );
    });
    const connection = createChdbConnection({ path: decodeURIComponent(url.pathname) });
    const client = createClient({ connection: connection as never, log: QUIET });
    // chdb has no system.query_log or system.trace_log to receive them: the query log entries and
    // the sampling profilers' timers of every query were work for nothing (~10% of the CPU of an
    // indexing run). The session keeps these for all later queries and inserts.
    for (const setting of CHDB_SESSION_SETTINGS) await client.command({ query: `SET ${setting}` });
    return {
      client,
      // The client's insert through chdb's connection appends the body to the statement's text,
      // and the engine's SQL lexer then scans every byte of it: 5–10× the CPU of the raw insert,
      // which hands the bytes to the format parser alone (docs/scale-out.md "Indexing").
      insertBody: async ({ table, columns, format, body, settings }) => {
        try {
          await connection.chdb.rawInsert({ table, columns, format, values: body, settings });
        } catch (error) {
          throw asClickHouseError(error);
        }
      },
    };
  }
  const client = createClient({
    url: settings.url,
    username: settings.user,
    password: settings.password,
    // Every statement waits for its work (inserts, DDL, lightweight deletes) before answering.
    clickhouse_settings: { wait_end_of_query: 1 },
    log: QUIET,
  });
  return {
    client,
    insertBody: async ({ table, columns, format, body, settings }) => {
      const values = Readable.from([body], { objectMode: false });
      await client.insert({ table, columns, format, values, clickhouse_settings: settings });
    },
  };
}

/** A chdb error with ClickHouse's code, as the client reports it over HTTP (isClickHouseUnavailable). */
function asClickHouseError(error: unknown): Error {
  const mapped = parseError(String((error as Error)?.message ?? error));
  mapped.cause = error;
  return mapped;
}

/**
 * Checks that the server answers, takes the credentials and is recent enough; throws a
 * StartupError naming the problem otherwise. Returns the server's version.
 */
export async function checkServer(client: ClickHouseClient, settings: ClickHouseSettings): Promise<string> {
  const where = new URL(settings.url).protocol === 'chdb:' ? settings.url : new URL(settings.url).host;
  let version: string;
  try {
    const result = await client.query({ query: 'SELECT version()', format: 'JSONCompactEachRow' });
    version = ((await result.json()) as string[][])[0]![0]!;
  } catch (error) {
    throw new StartupError(describeConnectError(error, where, settings.user));
  }
  if (!isRecentEnough(version)) {
    throw new StartupError(
      `ClickHouse at ${where} is version ${version}; the span store needs ${MIN_SERVER_VERSION.join('.')} or newer`,
    );
  }
  return version;
}

/** `major.minor…` at least MIN_SERVER_VERSION. */
export function isRecentEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [minMajor, minMinor] = MIN_SERVER_VERSION;
  return major > minMajor || (major === minMajor && minor >= minMinor);
}

// ClickHouse error codes: 516 AUTHENTICATION_FAILED, 192 UNKNOWN_USER, 194 REQUIRED_PASSWORD.
const AUTH_CODES = new Set(['516', '192', '194']);

export function describeConnectError(error: unknown, where: string, user: string): string {
  const code = errorCode(error);
  if (AUTH_CODES.has(code)) {
    return `ClickHouse at ${where} refused user "${user}" (check JUNJO_CLICKHOUSE_USER and JUNJO_CLICKHOUSE_PASSWORD): ${firstLine(error)}`;
  }
  if (isNetworkError(error)) {
    return `ClickHouse at ${where} is unreachable (check JUNJO_CLICKHOUSE_URL and that the server runs): ${firstLine(error)}`;
  }
  return `ClickHouse at ${where} failed the start-up check: ${firstLine(error)}`;
}

/** ClickHouse's numeric error code as text, or a Node system error's code (ECONNREFUSED…), or ''. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : '';
}

const NETWORK =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|socket hang up|Timeout error/i;

function isNetworkError(error: unknown): boolean {
  return NETWORK.test(errorCode(error)) || NETWORK.test(String(error));
}

// Codes of a server that cannot take writes whatever the data: 243 NOT_ENOUGH_SPACE, 75/74 file
// descriptor write/read failures (ENOSPC lands here), 241 MEMORY_LIMIT_EXCEEDED, 252 TOO_MANY_PARTS,
// 242 TABLE_IS_READ_ONLY, 202 TOO_MANY_SIMULTANEOUS_QUERIES, 209/210 socket/network, 999 Keeper.
const UNAVAILABLE_CODES = new Set(['243', '75', '74', '241', '252', '242', '202', '209', '210', '999']);

/** The server, not the rows, is the problem: callers wait and retry (errors.ts storeUnavailable). */
export function isClickHouseUnavailable(error: unknown): boolean {
  return (
    UNAVAILABLE_CODES.has(errorCode(error)) ||
    isNetworkError(error) ||
    /No space left|ENOSPC|Cannot reserve .* space/i.test(String(error))
  );
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .trim();
}
