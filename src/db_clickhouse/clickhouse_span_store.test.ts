// The SpanStore contract (spans/span_store_contract.ts) on ClickHouse, run by chdb: the ClickHouse
// engine in this process, through the same @clickhouse/client code the server uses over HTTP. chdb
// binds one data directory per process, so every store of this file is a database of its own in
// one directory, on one small tmpfs: the unavailable-store test fills it and ClickHouse's own
// writes fail for lack of space (mounting needs root, as for the DuckDB contract).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { createLogger } from '../logger.ts';
import { runSpanStoreContract } from '../spans/span_store_contract.ts';
import { ClickHouseSpanStore } from './clickhouse_span_store.ts';

let disk: string;
let stores = 0;

before(() => {
  disk = mkdtempSync(path.join(os.tmpdir(), 'junjo-clickhouse-contract-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', disk], { stdio: 'pipe' });
  } catch (error) {
    rmSync(disk, { recursive: true, force: true });
    throw new Error(`the ClickHouse store contract mounts a tmpfs and must run as root: ${String(error)}`);
  }
});
after(() => {
  execFileSync('umount', ['-l', disk]);
  rmSync(disk, { recursive: true, force: true });
});

runSpanStoreContract('ClickHouse (chdb)', async () => {
  const database = `contract_${process.pid}_${++stores}`;
  const store = await ClickHouseSpanStore.open(
    {
      url: `chdb://${path.join(disk, 'chdb')}`,
      user: 'default',
      password: '',
      database,
      cluster: '',
      retentionDays: null,
    },
    createLogger('silent'),
  );
  await store.prepare();
  let closed = false;
  return {
    store,
    exhaustStorage: async () => {
      const filler = path.join(disk, 'filler');
      const { bavail, bsize } = statfsSync(disk);
      writeFileSync(filler, Buffer.alloc(bavail * bsize));
      return async () => rmSync(filler);
    },
    dispose: async () => {
      if (closed) return;
      closed = true;
      await store.client.command({ query: `DROP DATABASE IF EXISTS ${database} SYNC` });
      await store.close();
    },
  };
});
