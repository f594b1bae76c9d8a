import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, llmKeyVariable, loadConfig, variables } from './config.ts';

test('defaults give the documented ports and a ./.data directory', () => {
  const config = loadConfig({});
  assert.deepEqual(config.ports, {
    http: 1323,
    otlpGrpc: 50051,
    otlpHttp: 4318,
    readSpans: 50052,
    internalAuth: 50053,
  });
  assert.equal(config.paths.dataDir, path.resolve('.data'));
  assert.equal(config.paths.duckdb, path.resolve('.data/duckdb/otel_data.duckdb'));
  assert.equal(config.retentionDays, null);
  assert.equal(config.role, 'all');
});

test('DuckDB memory limit and threads default to the measured values and take DuckDB sizes', () => {
  assert.deepEqual(loadConfig({}).duckdb, { memoryLimit: '128MiB', threads: 1 });
  assert.deepEqual(loadConfig({ JUNJO_DUCKDB_MEMORY_LIMIT: '1.5GB', JUNJO_DUCKDB_THREADS: '4' }).duckdb, {
    memoryLimit: '1.5GB',
    threads: 4,
  });
});

test('file paths follow JUNJO_DATA_DIR unless set on their own', () => {
  const config = loadConfig({ JUNJO_DATA_DIR: '/srv/junjo', JUNJO_WAL_DIR: '/fast/wal' });
  assert.equal(config.paths.sqlite, '/srv/junjo/sqlite/junjo.db');
  assert.equal(config.paths.wal, '/fast/wal');
});

for (const [name, value, expected] of [
  ['JUNJO_OTLP_GRPC_PORT', '70000', 'a TCP port number'],
  ['JUNJO_ROLE', 'both', 'one of all, ingestion, backend'],
  ['JUNJO_SESSION_SECRET', 'short', 'at least 32 characters'],
  ['JUNJO_RETENTION_DAYS', '-3', 'a positive integer'],
  ['JUNJO_INGESTION_ADDRESS', 'nowhere', 'host:port'],
  ['JUNJO_INGESTION_ADDRESS', '10.0.0.1:50052,nowhere', 'host:port'],
  ['JUNJO_INGESTION_ADDRESS', '10.0.0.1:50052,,10.0.0.2:50052', 'distinct host:port entries'],
  ['JUNJO_INGESTION_ADDRESS', '10.0.0.1:50052, 10.0.0.1:50052', 'one is repeated'],
  ['JUNJO_INGESTION_ADDRESS', 'Node-A:50052,node-a:50052', 'one is repeated'],
  ['JUNJO_INGESTION_ADDRESS', '10.0.0.1:0', 'a TCP port number'],
  ['JUNJO_LOG_LEVEL', 'loud', 'one of trace'],
  ['JUNJO_LLM_PROVIDERS', 'openai', 'name=http(s)://base-url'],
  ['JUNJO_LLM_PROVIDERS', 'local=ftp://127.0.0.1/v1', 'name=http(s)://base-url'],
  ['JUNJO_LLM_PROVIDERS', 'proxy=https://user:sk-secret@llm.example/v1', 'name=http(s)://base-url'],
  ['JUNJO_LLM_PROVIDERS', 'a=http://x/v1,A=http://y/v1', 'distinct names'],
  ['JUNJO_DUCKDB_MEMORY_LIMIT', '512', 'a size such as 256MiB'],
  ['JUNJO_DUCKDB_MEMORY_LIMIT', "1GB'; SET threads=64; --", 'a size such as 256MiB'],
  ['JUNJO_DUCKDB_THREADS', '0', 'a positive integer'],
  ['JUNJO_DUCKDB_THREADS', 'all', 'a positive integer'],
] as const) {
  test(`${name}=${value} is refused with the expected form`, () => {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes(name) && error.message.includes(expected),
    );
  });
}

test('JUNJO_INGESTION_ADDRESS lists one ReadSpans address per ingestion node', () => {
  assert.deepEqual(loadConfig({}).addresses.ingestion, ['127.0.0.1:50052']);
  assert.deepEqual(
    loadConfig({ JUNJO_INGESTION_ADDRESS: ' 10.0.0.1:50052, ingest-b.internal:50052,[fd00::3]:50052' })
      .addresses.ingestion,
    ['10.0.0.1:50052', 'ingest-b.internal:50052', '[fd00::3]:50052'],
  );
});

test('split mode needs JUNJO_INTERNAL_SECRET; internal listeners default to loopback', () => {
  const secret = 'i'.repeat(32);
  for (const role of ['ingestion', 'backend']) {
    assert.throws(
      () => loadConfig({ JUNJO_ROLE: role }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.includes('JUNJO_INTERNAL_SECRET') &&
        error.message.includes('at least 32 characters'),
    );
    assert.deepEqual(loadConfig({ JUNJO_ROLE: role, JUNJO_INTERNAL_SECRET: secret }).internal, {
      host: '127.0.0.1',
      secret,
    });
  }
  assert.equal(loadConfig({}).internal.secret, '', 'one process needs no secret');
});

test('a secret that is too short is refused without echoing it', () => {
  for (const name of ['JUNJO_INTERNAL_SECRET', 'JUNJO_SESSION_SECRET']) {
    assert.throws(
      () =>
        loadConfig({
          JUNJO_ROLE: 'backend',
          JUNJO_INTERNAL_SECRET: 'i'.repeat(32),
          [name]: 'hunter2-hunter2',
        }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes(name) && !error.message.includes('hunter2'),
    );
  }
});

test('LLM providers: name=baseURL pairs, each key from JUNJO_LLM_KEY_<NAME>', () => {
  const config = loadConfig({
    JUNJO_LLM_PROVIDERS: 'openai=https://api.openai.com/v1/, my-ollama=http://127.0.0.1:11434/v1',
    JUNJO_LLM_KEY_OPENAI: 'sk-abc',
  });
  assert.deepEqual(config.llm.providers, [
    { name: 'openai', baseURL: 'https://api.openai.com/v1', apiKey: 'sk-abc' },
    { name: 'my-ollama', baseURL: 'http://127.0.0.1:11434/v1', apiKey: null },
  ]);
  assert.equal(llmKeyVariable('my-ollama'), 'JUNJO_LLM_KEY_MY_OLLAMA');
  assert.deepEqual(loadConfig({}).llm.providers, []);
});

test('TLS needs both a certificate and a key', () => {
  assert.throws(() => loadConfig({ JUNJO_TLS_CERT: '/c.pem' }), /JUNJO_TLS_KEY/);
});

test('README documents every environment variable with its default', () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
  for (const [name, spec] of Object.entries(variables)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
    assert.ok(row, `README has a row for ${name}`);
    assert.ok(
      row.includes(spec.default === '' ? '(empty)' : spec.default),
      `README shows the default of ${name}`,
    );
  }
});

test('JUNJO_TRUST_PROXY maps to Fastify trustProxy: false, true, a hop count or a list of addresses', () => {
  const trust = (value: string) => loadConfig({ JUNJO_TRUST_PROXY: value }).trustProxy;
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(trust(''), false);
  assert.equal(trust('false'), false);
  assert.equal(trust('true'), true);
  assert.equal(trust('2'), 2);
  assert.deepEqual(trust('127.0.0.1, 10.0.0.0/8,::1'), ['127.0.0.1', '10.0.0.0/8', '::1']);
  for (const bad of ['yes', '10.0.0.0/33', 'proxy.local', '1.2.3.4/8/1']) {
    assert.throws(() => trust(bad), /JUNJO_TRUST_PROXY/, bad);
  }
});

test('JUNJO_SPAN_STORE=clickhouse carries the ClickHouse settings; names and URLs pass a strict grammar', () => {
  assert.deepEqual(loadConfig({}).spanStore, { kind: 'duckdb' });
  assert.deepEqual(
    loadConfig({
      JUNJO_SPAN_STORE: 'clickhouse',
      JUNJO_CLICKHOUSE_URL: 'chdb:///var/lib/junjo/chdb',
      JUNJO_CLICKHOUSE_CLUSTER: 'traces_cluster',
    }).spanStore,
    {
      kind: 'clickhouse',
      url: 'chdb:///var/lib/junjo/chdb',
      user: 'default',
      password: '',
      database: 'junjo',
      cluster: 'traces_cluster',
    },
  );
  for (const [name, value, expected] of [
    ['JUNJO_SPAN_STORE', 'postgres', 'one of duckdb, clickhouse'],
    ['JUNJO_CLICKHOUSE_DATABASE', 'junjo; DROP TABLE spans', 'letters, digits and _'],
    ['JUNJO_CLICKHOUSE_CLUSTER', 'a-b', 'letters, digits and _'],
    ['JUNJO_CLICKHOUSE_URL', 'http://user:pw@ch:8123', 'without credentials'],
    ['JUNJO_CLICKHOUSE_URL', 'chdb://relative/dir', 'chdb:///absolute/dir'],
    ['JUNJO_CLICKHOUSE_URL', 'tcp://ch:9000', 'http(s)://host:port'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes(name) && error.message.includes(expected),
      `${name}=${value}`,
    );
  }
});
