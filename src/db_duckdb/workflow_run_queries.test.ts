// The run filter's slices on DuckDB (spans/run_filter_slice_contract.ts), beyond the store
// contract; DuckDB's substring pre-test (requiredStateTexts) is what the escaped documents check.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../logger.ts';
import { runRunFilterSliceContract } from '../spans/run_filter_slice_contract.ts';
import { DuckDbSpanStore } from './duckdb_span_store.ts';

runRunFilterSliceContract('DuckDB', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-run-filter-test-'));
  const store = await DuckDbSpanStore.open(path.join(dir, 'otel.duckdb'), createLogger('silent'));
  await store.prepare();
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
