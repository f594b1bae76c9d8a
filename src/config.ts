// Environment → typed, validated settings. One table lists every variable, its default and its
// meaning; the README table is checked against it by config.test.ts.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PRIVATE_DIR_MODE, restrictNewFiles, restrictTree } from './file_modes.ts';

export type Role = 'all' | 'ingestion' | 'backend';

export class ConfigError extends Error {}

interface VarSpec<T> {
  default: string;
  describe: string;
  parse: (raw: string, name: string) => T;
}

const fail = (name: string, expected: string, raw: string): never => {
  throw new ConfigError(`Invalid ${name}=${JSON.stringify(raw)}: expected ${expected}`);
};

const port = (raw: string, name: string): number => {
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= 1 && n <= 65535 ? n : fail(name, 'a TCP port number 1-65535', raw);
};
const positiveInt = (raw: string, name: string): number => {
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= 1 && Number.isSafeInteger(n) ? n : fail(name, 'a positive integer', raw);
};
const nonNegativeInt = (raw: string, name: string): number => {
  const n = Number(raw);
  return /^\d+$/.test(raw) && Number.isSafeInteger(n) ? n : fail(name, 'a non-negative integer', raw);
};
const text = (raw: string): string => raw;
const oneOf =
  <T extends string>(...values: T[]) =>
  (raw: string, name: string): T =>
    (values as string[]).includes(raw) ? (raw as T) : fail(name, `one of ${values.join(', ')}`, raw);
const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
// A secret's value never goes into the error message: it would land in logs and terminals.
const longSecret = (raw: string, name: string): string =>
  raw.length >= 32 ? raw : fail(name, 'at least 32 characters', `<${raw.length} characters>`);
/** `name=baseURL,…`: OpenAI-compatible endpoints of the prompt playground (keys come from their own variables). */
const llmProviders = (raw: string, name: string): Array<{ name: string; baseURL: string }> => {
  const expected =
    'comma-separated name=http(s)://base-url pairs with distinct names (letters, digits, _ or -)';
  const providers = list(raw).map((entry) => {
    const [providerName = '', ...rest] = entry.split('=');
    const baseURL = rest.join('=').trim();
    let url: URL | null = null;
    try {
      url = new URL(baseURL);
    } catch {
      url = null;
    }
    // Credentials in the URL would be shown by GET /llm/providers: keys belong in JUNJO_LLM_KEY_<NAME>.
    const valid =
      /^[A-Za-z0-9][\w-]{0,39}$/.test(providerName.trim()) &&
      url !== null &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.username === '' &&
      url.password === '';
    return valid
      ? { name: providerName.trim(), baseURL: baseURL.replace(/\/+$/, '') }
      : fail(name, expected, raw);
  });
  const names = providers.map((p) => p.name.toLowerCase());
  return new Set(names).size === names.length ? providers : fail(name, expected, raw);
};

/** The variable holding a provider's API key: JUNJO_LLM_KEY_ + the name upper-cased, `-` as `_`. */
export const llmKeyVariable = (providerName: string): string =>
  `JUNJO_LLM_KEY_${providerName.toUpperCase().replaceAll('-', '_')}`;

/** Fastify's `trustProxy`: false, true (every hop), a hop count, or the proxies' addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];
const isIpOrCidr = (entry: string): boolean => {
  const [ip = '', bits, ...rest] = entry.split('/');
  const family = net.isIP(ip);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
};
const trustProxy = (raw: string, name: string): TrustProxy => {
  if (raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return positiveInt(raw, name);
  const entries = list(raw);
  return entries.length > 0 && entries.every(isIpOrCidr)
    ? entries
    : fail(name, 'false, true, a hop count, or a comma-separated list of IP addresses/CIDRs', raw);
};
/** A database or cluster name: it goes into DDL as an identifier, so only a strict grammar passes. */
const identifier = (raw: string, name: string): string =>
  /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(raw)
    ? raw
    : fail(name, 'letters, digits and _ (not first), at most 63', raw);
/** http(s)://host[:port] of a ClickHouse server, or chdb:///absolute/dir for the embedded engine. */
const clickHouseUrl = (raw: string, name: string): string => {
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    url = null;
  }
  const valid =
    url !== null &&
    (((url.protocol === 'http:' || url.protocol === 'https:') &&
      url.username === '' &&
      url.password === '') ||
      (url.protocol === 'chdb:' && url.host === '' && url.pathname.length > 1));
  return valid
    ? raw
    : fail(
        name,
        'http(s)://host:port without credentials (they go in their own variables), or chdb:///absolute/dir',
        raw,
      );
};
/** A byte size as DuckDB reads it (`512MB`, `1.5GiB`); bound by this grammar before it reaches SQL. */
const byteSize = (raw: string, name: string): string =>
  /^\d+(\.\d+)?\s?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(raw)
    ? raw
    : fail(name, 'a size such as 256MiB or 1GB (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)', raw);
const address = (raw: string, name: string): string =>
  /^[\w.-]+:\d+$|^\[[\da-f:]+\]:\d+$/i.test(raw) && port(raw.slice(raw.lastIndexOf(':') + 1), name)
    ? raw
    : fail(name, 'host:port', raw);
/** Comma-separated host:port entries, at least one, none twice (two pollers on one node would race). */
const addresses = (raw: string, name: string): string[] => {
  const entries = raw.split(',').map((entry) => entry.trim());
  const expected = 'a comma-separated list of distinct host:port entries';
  if (entries.some((entry) => entry === '')) return fail(name, expected, raw);
  for (const entry of entries) address(entry, name);
  const distinct = new Set(entries.map((entry) => entry.toLowerCase()));
  return distinct.size === entries.length ? entries : fail(name, `${expected} (one is repeated)`, raw);
};

export const variables = {
  JUNJO_ROLE: {
    default: 'all',
    describe:
      '`all` runs ingestion and backend in one process; `ingestion` / `backend` run one role each (split mode)',
    parse: oneOf<Role>('all', 'ingestion', 'backend'),
  },
  JUNJO_HOST: {
    default: '0.0.0.0',
    describe: 'interface the public listeners bind to (REST API, web UI, OTLP receivers)',
    parse: text,
  },
  JUNJO_INTERNAL_HOST: {
    default: '127.0.0.1',
    describe:
      'interface the internal gRPC listeners bind to (split mode); a private address when roles run apart',
    parse: text,
  },
  JUNJO_INTERNAL_SECRET: {
    default: '',
    describe: 'secret every internal gRPC call carries; required in split mode, at least 32 characters',
    parse: (raw: string, name: string) => (raw === '' ? '' : longSecret(raw, name)),
  },
  JUNJO_HTTP_PORT: { default: '1323', describe: 'REST API and web UI', parse: port },
  JUNJO_OTLP_GRPC_PORT: { default: '50051', describe: 'public OTLP/gRPC receiver', parse: port },
  JUNJO_OTLP_HTTP_PORT: {
    default: '4318',
    describe: 'public OTLP/HTTP receiver (`POST /v1/traces`)',
    parse: port,
  },
  JUNJO_READ_SPANS_PORT: {
    default: '50052',
    describe: 'internal gRPC ReadSpans service (ingestion role, split mode)',
    parse: port,
  },
  JUNJO_INTERNAL_AUTH_PORT: {
    default: '50053',
    describe: 'internal gRPC ValidateApiKey service (backend role, split mode)',
    parse: port,
  },
  JUNJO_INGESTION_ADDRESS: {
    default: '127.0.0.1:50052',
    describe:
      'where the backend role reaches ReadSpans (split mode): one `host:port` per ingestion node, comma-separated; one poller each',
    parse: addresses,
  },
  JUNJO_BACKEND_AUTH_ADDRESS: {
    default: '127.0.0.1:50053',
    describe: 'where the ingestion role reaches ValidateApiKey (split mode)',
    parse: address,
  },
  JUNJO_DATA_DIR: { default: './.data', describe: 'root of every file the server writes', parse: text },
  JUNJO_SQLITE_PATH: {
    default: '<data>/sqlite/junjo.db',
    describe: 'SQLite file: users, sessions, API keys, poller state',
    parse: text,
  },
  JUNJO_DUCKDB_PATH: {
    default: '<data>/duckdb/otel_data.duckdb',
    describe: 'DuckDB file: spans, state patches',
    parse: text,
  },
  JUNJO_SPAN_STORE: {
    default: 'duckdb',
    describe: 'where spans are kept: `duckdb` (the embedded file) or `clickhouse` (see docs/scale-out.md)',
    parse: oneOf('duckdb', 'clickhouse'),
  },
  JUNJO_CLICKHOUSE_URL: {
    default: 'http://127.0.0.1:8123',
    describe:
      'ClickHouse HTTP interface (`http(s)://host:port`); `chdb:///abs/dir` runs the embedded engine in-process (tests, single-machine trials; needs the `chdb` dev dependency)',
    parse: clickHouseUrl,
  },
  JUNJO_CLICKHOUSE_USER: { default: 'default', describe: 'ClickHouse user', parse: text },
  JUNJO_CLICKHOUSE_PASSWORD: { default: '', describe: 'ClickHouse password', parse: text },
  JUNJO_CLICKHOUSE_DATABASE: {
    default: 'junjo',
    describe: 'ClickHouse database of the span tables (created when missing)',
    parse: identifier,
  },
  JUNJO_CLICKHOUSE_CLUSTER: {
    default: '',
    describe:
      'ClickHouse cluster name: DDL `ON CLUSTER`, `Replicated*` tables and `Distributed` tables sharded by trace id (empty: one server)',
    parse: (raw: string, name: string) => (raw === '' ? '' : identifier(raw, name)),
  },
  JUNJO_DUCKDB_MEMORY_LIMIT: {
    default: '128MiB',
    describe:
      "DuckDB's memory cap (buffer manager: cached blocks, indexes, un-checkpointed rows, query state); the writer checkpoints once un-checkpointed rows pass a quarter of it, and opens the file again once index nodes (loaded or changed) pass half of it; more caches more of a large table, see docs/memory.md",
    parse: byteSize,
  },
  JUNJO_DUCKDB_THREADS: {
    default: '1',
    describe:
      'threads DuckDB may run queries and checkpoints on; 1 indexes at less CPU per span than 2, with or without the memory limit (src/db_duckdb/README.md, One thread); more parallelises scans of large tables',
    parse: positiveInt,
  },
  JUNJO_WAL_DIR: {
    default: '<data>/wal',
    describe: 'write-ahead log segments of accepted exports',
    parse: text,
  },
  JUNJO_SESSION_SECRET: {
    default: '(generated into `<data>/session_secret`)',
    describe: 'key of the HMAC that binds CSRF tokens to sessions; at least 32 characters',
    parse: longSecret,
  },
  JUNJO_ALLOW_ORIGINS: {
    default: '',
    describe: 'comma-separated exact origins allowed by CORS with credentials (empty: same origin only)',
    parse: list,
  },
  JUNJO_TRUST_PROXY: {
    default: 'false',
    describe:
      'proxies whose `X-Forwarded-For` is the client address: IPs/CIDRs, a hop count, or `true` (any client)',
    parse: trustProxy,
  },
  JUNJO_ENV: {
    default: 'development',
    describe: '`development` or `production`',
    parse: oneOf('development', 'production'),
  },
  JUNJO_PROD_AUTH_DOMAIN: {
    default: '',
    describe: 'in production, cookie `Domain` (e.g. `example.com`)',
    parse: text,
  },
  JUNJO_LOG_LEVEL: {
    default: 'info',
    describe: '`trace`, `debug`, `info`, `warn`, `error` or `fatal`',
    parse: oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal'),
  },
  JUNJO_TLS_CERT: {
    default: '',
    describe: 'PEM certificate file; with the key, OTLP/gRPC uses TLS',
    parse: text,
  },
  JUNJO_TLS_KEY: { default: '', describe: 'PEM private key file for `JUNJO_TLS_CERT`', parse: text },
  JUNJO_POLL_INTERVAL_MS: {
    default: '5000',
    describe: 'poller fallback interval (it wakes at once on new records in single-process mode)',
    parse: positiveInt,
  },
  JUNJO_WAL_GROUP_COMMIT_MS: {
    default: '2',
    describe: 'longest wait to gather concurrent exports into one fsync',
    parse: nonNegativeInt,
  },
  JUNJO_MAX_REQUEST_BYTES: {
    default: '67108864',
    describe: 'largest accepted export request, after decompression (bytes)',
    parse: positiveInt,
  },
  JUNJO_MAX_INFLIGHT_BYTES: {
    // Above JUNJO_MAX_REQUEST_BYTES, so one request of the largest accepted size gets its size-limit
    // answer (413), not a retryable refusal; 64 MiB made gzip bombs answer 429 (fuzz suite).
    default: '268435456',
    describe:
      'export bytes (decompressed) held in memory at once by all requests; beyond it, retryable refusals',
    parse: positiveInt,
  },
  JUNJO_MAX_BACKLOG_BYTES: {
    default: '1073741824',
    describe: 'unindexed WAL bytes above which exports are refused as retryable',
    parse: positiveInt,
  },
  JUNJO_MIN_FREE_DISK_BYTES: {
    default: '268435456',
    describe: 'free disk below which exports are refused as retryable',
    parse: nonNegativeInt,
  },
  JUNJO_METRICS_TOKEN: {
    default: '',
    describe:
      'bearer token that enables `GET /metrics` (Prometheus); at least 16 characters (empty: metrics off)',
    // The token itself never goes into the error message.
    parse: (raw: string, name: string) =>
      raw === '' || raw.length >= 16 ? raw : fail(name, 'at least 16 characters', '…'),
  },
  JUNJO_RETENTION_DAYS: {
    default: '',
    describe: 'delete spans older than this many days (empty: keep forever)',
    parse: (raw: string, name: string) => (raw === '' ? null : positiveInt(raw, name)),
  },
  JUNJO_LLM_PROVIDERS: {
    default: '',
    describe:
      'prompt playground providers (OpenAI-compatible), comma-separated `name=baseURL`, e.g. `openai=https://api.openai.com/v1,ollama=http://127.0.0.1:11434/v1`; each key from `JUNJO_LLM_KEY_<NAME>`',
    parse: llmProviders,
  },
  JUNJO_LLM_TIMEOUT_MS: {
    default: '120000',
    describe: 'longest a playground generation may take, streaming included (ms)',
    parse: positiveInt,
  },
  JUNJO_LLM_RATE_PER_MINUTE: {
    default: '20',
    describe: 'playground generations each user may start per minute',
    parse: positiveInt,
  },
} satisfies Record<string, VarSpec<unknown>>;

type Vars = typeof variables;
export type VarName = keyof Vars;
type Parsed = { [K in VarName]: ReturnType<Vars[K]['parse']> };

export interface Config {
  role: Role;
  host: string;
  /** Internal listeners (split mode) and the secret their callers must present. */
  internal: { host: string; secret: string };
  ports: { http: number; otlpGrpc: number; otlpHttp: number; readSpans: number; internalAuth: number };
  /** ingestion: the ReadSpans address of every ingestion node the backend reads. */
  addresses: { ingestion: string[]; backendAuth: string };
  paths: { dataDir: string; sqlite: string; duckdb: string; wal: string };
  spanStore: SpanStoreConfig;
  duckdb: { memoryLimit: string; threads: number };
  sessionSecret: string;
  allowOrigins: string[];
  trustProxy: TrustProxy;
  production: boolean;
  prodAuthDomain: string;
  logLevel: Parsed['JUNJO_LOG_LEVEL'];
  tls: { cert: string; key: string } | null;
  pollIntervalMs: number;
  walGroupCommitMs: number;
  maxRequestBytes: number;
  maxInflightRequestBytes: number;
  maxBacklogBytes: number;
  minFreeDiskBytes: number;
  retentionDays: number | null;
  metricsToken: string;
  llm: { providers: LlmProviderConfig[]; timeoutMs: number; generationsPerMinute: number };
}

export type SpanStoreConfig =
  | { kind: 'duckdb' }
  | {
      kind: 'clickhouse';
      url: string;
      user: string;
      password: string;
      database: string;
      /** '' for one server. */
      cluster: string;
    };

export interface LlmProviderConfig {
  name: string;
  baseURL: string;
  /** From JUNJO_LLM_KEY_<NAME>; null for endpoints that need none (Ollama, vLLM, LM Studio). */
  apiKey: string | null;
}

/** Reads every variable; throws ConfigError naming the first invalid one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const v = {} as Parsed;
  for (const [name, spec] of Object.entries(variables) as [VarName, VarSpec<unknown>][]) {
    const raw = env[name];
    const given = raw !== undefined && (raw !== '' || name === 'JUNJO_SESSION_SECRET');
    // Defaults written as <…> or (…) are derived below (paths under the data dir, the generated secret).
    const derived = /^[<(]/.test(spec.default);
    (v as Record<string, unknown>)[name] = given
      ? spec.parse(raw, name)
      : derived
        ? null
        : spec.parse(spec.default, name);
  }
  const dataDir = path.resolve(v.JUNJO_DATA_DIR);
  const under = (value: string | null, rel: string) => path.resolve(value ?? path.join(dataDir, rel));
  if (Boolean(v.JUNJO_TLS_CERT) !== Boolean(v.JUNJO_TLS_KEY)) {
    throw new ConfigError('Invalid JUNJO_TLS_CERT / JUNJO_TLS_KEY: expected both set or both empty');
  }
  // A budget below one request's limit would refuse the largest valid exports forever.
  if (v.JUNJO_MAX_INFLIGHT_BYTES < v.JUNJO_MAX_REQUEST_BYTES) {
    throw new ConfigError('Invalid JUNJO_MAX_INFLIGHT_BYTES: expected at least JUNJO_MAX_REQUEST_BYTES');
  }
  if (v.JUNJO_ROLE !== 'all' && !v.JUNJO_INTERNAL_SECRET) {
    throw new ConfigError(
      `Missing JUNJO_INTERNAL_SECRET: expected at least 32 characters, the same on both roles (required when JUNJO_ROLE=${v.JUNJO_ROLE})`,
    );
  }
  return {
    role: v.JUNJO_ROLE,
    host: v.JUNJO_HOST,
    internal: { host: v.JUNJO_INTERNAL_HOST, secret: v.JUNJO_INTERNAL_SECRET },
    ports: {
      http: v.JUNJO_HTTP_PORT,
      otlpGrpc: v.JUNJO_OTLP_GRPC_PORT,
      otlpHttp: v.JUNJO_OTLP_HTTP_PORT,
      readSpans: v.JUNJO_READ_SPANS_PORT,
      internalAuth: v.JUNJO_INTERNAL_AUTH_PORT,
    },
    addresses: { ingestion: v.JUNJO_INGESTION_ADDRESS, backendAuth: v.JUNJO_BACKEND_AUTH_ADDRESS },
    paths: {
      dataDir,
      sqlite: under(v.JUNJO_SQLITE_PATH, 'sqlite/junjo.db'),
      duckdb: under(v.JUNJO_DUCKDB_PATH, 'duckdb/otel_data.duckdb'),
      wal: under(v.JUNJO_WAL_DIR, 'wal'),
    },
    spanStore:
      v.JUNJO_SPAN_STORE === 'duckdb'
        ? { kind: 'duckdb' }
        : {
            kind: 'clickhouse',
            url: v.JUNJO_CLICKHOUSE_URL,
            user: v.JUNJO_CLICKHOUSE_USER,
            password: v.JUNJO_CLICKHOUSE_PASSWORD,
            database: v.JUNJO_CLICKHOUSE_DATABASE,
            cluster: v.JUNJO_CLICKHOUSE_CLUSTER,
          },
    duckdb: { memoryLimit: v.JUNJO_DUCKDB_MEMORY_LIMIT, threads: v.JUNJO_DUCKDB_THREADS },
    sessionSecret: v.JUNJO_SESSION_SECRET ?? '',
    allowOrigins: v.JUNJO_ALLOW_ORIGINS,
    trustProxy: v.JUNJO_TRUST_PROXY,
    production: v.JUNJO_ENV === 'production',
    prodAuthDomain: v.JUNJO_PROD_AUTH_DOMAIN,
    logLevel: v.JUNJO_LOG_LEVEL,
    tls: v.JUNJO_TLS_CERT ? { cert: v.JUNJO_TLS_CERT, key: v.JUNJO_TLS_KEY } : null,
    pollIntervalMs: v.JUNJO_POLL_INTERVAL_MS,
    walGroupCommitMs: v.JUNJO_WAL_GROUP_COMMIT_MS,
    maxRequestBytes: v.JUNJO_MAX_REQUEST_BYTES,
    maxInflightRequestBytes: v.JUNJO_MAX_INFLIGHT_BYTES,
    maxBacklogBytes: v.JUNJO_MAX_BACKLOG_BYTES,
    minFreeDiskBytes: v.JUNJO_MIN_FREE_DISK_BYTES,
    retentionDays: v.JUNJO_RETENTION_DAYS,
    metricsToken: v.JUNJO_METRICS_TOKEN,
    llm: {
      providers: v.JUNJO_LLM_PROVIDERS.map((p) => ({ ...p, apiKey: env[llmKeyVariable(p.name)] || null })),
      timeoutMs: v.JUNJO_LLM_TIMEOUT_MS,
      generationsPerMinute: v.JUNJO_LLM_RATE_PER_MINUTE,
    },
  };
}

/**
 * Creates the data directories, makes every file in them private to this user (see file_modes.ts) and
 * fills in a persisted session secret when none was given.
 */
export function prepareDataDir(config: Config): Config {
  restrictNewFiles();
  for (const p of [
    config.paths.dataDir,
    path.dirname(config.paths.sqlite),
    path.dirname(config.paths.duckdb),
    config.paths.wal,
  ]) {
    mkdirSync(p, { recursive: true, mode: PRIVATE_DIR_MODE });
  }
  // The SQLite and DuckDB files may be configured outside the data dir: only they and their journals
  // are tightened there, never the directories around them.
  const { sqlite, duckdb } = config.paths;
  for (const p of [config.paths.dataDir, config.paths.wal]) restrictTree(p);
  for (const p of [sqlite, `${sqlite}-wal`, `${sqlite}-shm`, `${sqlite}-journal`, duckdb, `${duckdb}.wal`]) {
    restrictTree(p);
  }
  if (config.sessionSecret) return config;
  const file = path.join(config.paths.dataDir, 'session_secret');
  const secret = readOrCreateSecretFile(file);
  if (secret.length < 32)
    throw new ConfigError(`Invalid session secret in ${file}: expected at least 32 characters`);
  return { ...config, sessionSecret: secret };
}

/** A random secret kept in a file only its owner can read; generated on first use. */
export function readOrCreateSecretFile(file: string): string {
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/** Where the running server keeps the token that `npm run backup` presents (see features/backup). */
export const adminTokenFile = (config: Config) => path.join(config.paths.dataDir, 'admin_token');
