// The run filter on a cluster, as text (no cluster runs here; docs/scale-out.md): ClickHouse denies
// a Distributed table inside an IN over a Distributed table, so the filter must read the shard-local
// table and the outer read the Distributed one, with a final LIMIT over the shards' pages. Then the
// slices every store shares (spans/run_filter_slice_contract.ts), on chdb.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '../logger.ts';
import { runRunFilterSliceContract } from '../spans/run_filter_slice_contract.ts';
import type { WorkflowRunFilter } from '../spans/workflow_run_filter.ts';
import { ClickHouseSpanStore } from './clickhouse_span_store.ts';
import { tableNames } from './schema.ts';
import { workflowRunPageQuery } from './workflow_run_queries.ts';

const filter: WorkflowRunFilter = {
  nodes: ['Fetch'],
  notNodes: [],
  failedNodes: [],
  stateOf: 'end',
  state: [],
};

test('on a cluster the run filter reads shard-local tables inside and the Distributed table outside', () => {
  const spans = tableNames({ database: 'junjo', cluster: 'main' }, 'spans');
  const { sql, params } = workflowRunPageQuery(
    spans,
    'svc',
    { ...filter, nodes: [...filter.nodes], state: [] },
    {
      limit: 50,
    },
  );
  const [outer, inner] = sql.split('IN (');
  assert.match(outer!, /FROM junjo\.spans FINAL/);
  assert.doesNotMatch(inner!, /junjo\.spans\b(?!_local)/, 'no Distributed table inside the filter');
  assert.equal(
    sql.match(/junjo\.spans_local FINAL/g)?.length,
    3,
    'runs (twice: page and node join) and nodes',
  );
  assert.match(sql, /ORDER BY start_time DESC, span_id DESC LIMIT \{limit:UInt32\}\s*$/);
  assert.equal(params.node_0, 'Fetch', 'the node name is a parameter');
  assert.doesNotMatch(sql, /Fetch/);
});

let slicesDir: string;
before(() => {
  slicesDir = mkdtempSync(path.join(os.tmpdir(), 'junjo-clickhouse-run-filter-'));
});
after(() => rmSync(slicesDir, { recursive: true, force: true }));

runRunFilterSliceContract('ClickHouse (chdb)', async () => {
  const store = await ClickHouseSpanStore.open(
    {
      url: `chdb://${slicesDir}`,
      user: 'default',
      password: '',
      database: 'run_filter',
      cluster: '',
      retentionDays: null,
    },
    createLogger('silent'),
  );
  await store.prepare();
  return { store, close: () => store.close() };
});
