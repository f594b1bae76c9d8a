// `npm run compact-store` on a store in the old file format (DuckDB's defaults: 256 KiB blocks,
// storage v0.10.2) whose list entries still carry their rendered JSON: every table's rows survive,
// the file comes out in the current format with store migration 4 applied, the real server starts
// on it and serves the same list bytes, and the command refuses to run while the server holds it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbSpanStore } from '../../src/db_duckdb/duckdb_span_store.ts';
import { packRequests, workflowMix } from '../../src/fixtures/junjo_traces.ts';
import { createLogger } from '../../src/logger.ts';
import { jsonArrayBytes } from '../../src/spans/span_json.ts';
import { processTraceRequest } from '../../src/spans/span_processor.ts';
import { signIn } from '../support/accounts.ts';
import { queryDuckDb } from '../support/duckdb_inspect.ts';
import { startServerProcess } from '../support/server_process.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-compact-store-'));
const file = path.join(dataDir, 'duckdb', 'otel_data.duckdb');
after(() => rmSync(dataDir, { recursive: true, force: true }));

const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Every table's row count, and a digest of the rows of the tables compaction must not change. */
async function contents(): Promise<Record<string, string>> {
  const tables = await queryDuckDb<{ name: string }>(
    file,
    "SELECT table_name AS name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1",
  );
  const found: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await queryDuckDb<{ n: bigint }>(file, `SELECT count(*) AS n FROM "${name}"`);
    found[name] = String(row!.n);
  }
  for (const table of ['spans', 'state_patches']) {
    const [row] = await queryDuckDb<{ digest: bigint }>(
      file,
      `SELECT bit_xor(hash(t)) AS digest FROM ${table} t`,
    );
    found[`${table} digest`] = String(row!.digest);
  }
  return found;
}

async function fileFormat(): Promise<{ blockSize: number; renderedJson: boolean; migration4: boolean }> {
  const [size] = await queryDuckDb<{ b: bigint }>(file, 'SELECT block_size AS b FROM pragma_database_size()');
  const [columns] = await queryDuckDb<{ n: bigint }>(
    file,
    "SELECT count(*) AS n FROM duckdb_columns() WHERE table_name = 'span_list_entries' AND column_name = 'span_json'",
  );
  const [applied] = await queryDuckDb<{ n: bigint }>(
    file,
    'SELECT count(*) AS n FROM store_migrations WHERE version = 4',
  );
  return { blockSize: Number(size!.b), renderedJson: columns!.n > 0n, migration4: applied!.n > 0n };
}

/** A copy of the store as an older version left it: DuckDB's default format, span_json kept. */
async function rewriteInOldFormat(): Promise<void> {
  const old = `${file}.old`;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH ${sqlText(file)} AS current_store (READ_ONLY)`);
    await conn.run(`ATTACH ${sqlText(old)} AS old_store`);
    await conn.run('COPY FROM DATABASE current_store TO old_store (SCHEMA)');
    const tables = (
      await conn.runAndReadAll(
        `SELECT table_name FROM duckdb_tables() WHERE database_name = 'current_store'
         ORDER BY table_name <> 'spans', table_name`,
      )
    ).getRows();
    for (const [table] of tables) {
      await conn.run(`INSERT INTO old_store.main."${table}" SELECT * FROM current_store.main."${table}"`);
    }
    await conn.run('ALTER TABLE old_store.span_list_entries ADD COLUMN span_json BLOB');
    await conn.run('UPDATE old_store.span_list_entries SET span_json = \'{"rendered":true}\'::BLOB');
    await conn.run('DELETE FROM old_store.store_migrations WHERE version = 4');
    await conn.run('DETACH current_store');
    await conn.run('DETACH old_store');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  renameSync(old, file);
}

/** Runs the npm script's command; resolves with its exit code and output. */
function compactStore(): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['scripts/compact_store.ts', '--data-dir', dataDir], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('npm run compact-store', () => {
  it('rewrites an old-format store into the current format, rows and list pages unchanged', async () => {
    mkdirSync(path.dirname(file), { recursive: true });
    const store = await DuckDbSpanStore.open(file, createLogger('silent'), { idleCheckpointMs: 0 });
    await store.prepare();
    for (const request of packRequests(workflowMix({ traces: 40, services: 2, seed: 11 }), 128)) {
      await store.insertBatch(processTraceRequest(request));
    }
    const services = await store.serviceNames();
    const pages = new Map<string, Buffer>();
    for (const service of services) {
      pages.set(
        service,
        jsonArrayBytes(await store.rootSpanPage(service, { limit: 500 }, { llmOnly: false })),
      );
    }
    await store.close();
    await rewriteInOldFormat();

    const before = await contents();
    assert.ok(Number(before.spans) > 100 && Number(before.span_list_entries) > 0, JSON.stringify(before));
    assert.deepEqual(await fileFormat(), { blockSize: 262_144, renderedJson: true, migration4: false });

    const compacted = await compactStore();
    assert.equal(compacted.code, 0, compacted.output);
    assert.match(compacted.output, /block size: 262144 → 16384 bytes/);
    assert.match(compacted.output, /bytes: .* → /);
    assert.deepEqual(await fileFormat(), { blockSize: 16_384, renderedJson: false, migration4: true });
    const [tag] = await queryDuckDb<{ version: string }>(
      file,
      "SELECT tags['storage_version']::VARCHAR AS version FROM duckdb_databases() WHERE NOT internal",
    );
    assert.match(tag!.version, /v1\.5\./);
    // Migration 4 is recorded; every other table holds what it held.
    assert.deepEqual(await contents(), {
      ...before,
      store_migrations: String(Number(before.store_migrations) + 1),
    });
    for (const leftover of ['.compacting', '.before-compact', '.wal']) {
      assert.equal(existsSync(`${file}${leftover}`), false, `${leftover} left behind`);
    }

    const server = await startServerProcess({ dataDir });
    try {
      const session = await signIn(server.baseUrl);
      for (const service of services) {
        const response = await session.request(
          'GET',
          `/otel/service/${encodeURIComponent(service)}/root_spans`,
        );
        assert.equal(response.status, 200);
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), pages.get(service), service);
      }
      const size = statSync(file).size;
      const refused = await compactStore();
      assert.notEqual(refused.code, 0);
      assert.match(refused.output, /compact-store failed, .* is unchanged: .*locked by another process/s);
      assert.equal(statSync(file).size, size);
      assert.equal(existsSync(`${file}.compacting`), false);
    } finally {
      await server.stop();
      await server.cleanup();
    }
  });
});
