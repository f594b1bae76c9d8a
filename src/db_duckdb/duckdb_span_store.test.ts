// The SpanStore contract (spans/span_store_contract.ts) on DuckDB. Every store lives on one small
// tmpfs, so that "the disk is full" is real: the contract's unavailable-store test fills it, and
// DuckDB's own write fails with ENOSPC (mounting needs root, as in test/hardening/faults.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { createLogger } from '../logger.ts';
import { runSpanStoreContract } from '../spans/span_store_contract.ts';
import { DuckDbSpanStore } from './duckdb_span_store.ts';

let disk: string;
let stores = 0;

before(() => {
  disk = mkdtempSync(path.join(os.tmpdir(), 'junjo-store-contract-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', disk], { stdio: 'pipe' });
  } catch (error) {
    rmSync(disk, { recursive: true, force: true });
    throw new Error(`the DuckDB store contract mounts a tmpfs and must run as root: ${String(error)}`);
  }
});
after(() => {
  execFileSync('umount', ['-l', disk]);
  rmSync(disk, { recursive: true, force: true });
});

runSpanStoreContract('DuckDB', async () => {
  const dir = path.join(disk, `store-${++stores}`);
  mkdirSync(dir);
  const store = await DuckDbSpanStore.open(path.join(dir, 'otel.duckdb'), createLogger('silent'), {
    idleCheckpointMs: 0,
  });
  await store.prepare();
  return {
    store,
    exhaustStorage: async () => {
      const filler = path.join(disk, 'filler');
      const { bavail, bsize } = statfsSync(disk);
      writeFileSync(filler, Buffer.alloc(bavail * bsize));
      return async () => rmSync(filler);
    },
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
