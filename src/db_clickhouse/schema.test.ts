// The DDL schema.ts generates, one server and a cluster. chdb is one server, so the cluster form is
// checked as text here (what runs on a real cluster is described in docs/scale-out.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapStatements, MIGRATIONS, retentionStatements, TABLES, tableNames } from './schema.ts';

const single = { database: 'junjo', cluster: '' };
const cluster = { database: 'junjo', cluster: 'traces' };
const ddl = (target: typeof single) => MIGRATIONS.flatMap((m) => m.statements(target));

test('one server: MergeTree-family tables partitioned by day, ordered for the lists and the trace lookups', () => {
  const statements = ddl(single);
  const spans = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS junjo.spans_v2 '))!;
  assert.match(spans, /ENGINE = ReplacingMergeTree\n/);
  assert.match(spans, /PARTITION BY toDate\(start_time\)/);
  assert.match(spans, /ORDER BY \(service_name, start_time, span_id, trace_id\)/);
  assert.match(spans, /start_time DateTime64\(6, 'UTC'\) CODEC\(Delta, ZSTD\(1\)\)/);
  assert.match(spans, /service_name LowCardinality\(String\)/);
  assert.match(spans, /attributes_json String CODEC/, 'attributes stay exact JSON text');
  assert.match(spans, /INDEX idx_trace_id trace_id TYPE bloom_filter/);
  assert.match(
    spans,
    /SETTINGS ttl_only_drop_parts = 1, index_granularity_bytes = 1048576$/,
    'small granules',
  );
  assert.ok(
    statements.some((s) =>
      /MATERIALIZED VIEW IF NOT EXISTS junjo\.trace_index_v2_mv\nTO junjo\.trace_index AS[\s\S]*FROM junjo\.spans_v2 GROUP BY/.test(
        s,
      ),
    ),
  );
  // Version 8 feeds trace_index_v2, of 1,024-id granules, from spans_v2 before copying the index
  // into it; version 9 drops the old index and the view into it.
  const index = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS junjo.trace_index_v2 '))!;
  assert.match(
    index,
    /ENGINE = AggregatingMergeTree\n[\s\S]*SETTINGS ttl_only_drop_parts = 1, index_granularity = 1024$/,
  );
  const indexView = statements.findIndex((s) =>
    /VIEW IF NOT EXISTS junjo\.trace_index_v2_of_spans_v2_mv\nTO junjo\.trace_index_v2 AS[\s\S]*FROM junjo\.spans_v2 GROUP BY/.test(
      s,
    ),
  );
  assert.ok(indexView > 0);
  assert.match(
    statements[indexView + 1]!,
    /^INSERT INTO junjo\.trace_index_v2 [\s\S]*FROM junjo\.trace_index$/,
  );
  const dropped = statements.indexOf('DROP VIEW IF EXISTS junjo.trace_index_v2_mv SYNC');
  assert.ok(dropped > indexView + 1);
  assert.equal(statements[dropped + 1], 'DROP TABLE IF EXISTS junjo.trace_index SYNC');
  assert.ok(!statements.some((s) => /ON CLUSTER|Replicated|Distributed|distributed_/.test(s)));
  // Version 1's spans, state_patches and trace_index, every table of today, the Null table spans
  // are inserted through, and span_deletions (no TTL: it records what retention deleted).
  assert.equal(statements.filter((s) => s.startsWith('CREATE TABLE')).length, TABLES.length + 5);
  assert.match(
    statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS junjo.span_deletions '))!,
    /deleted_before DateTime64\(6, 'UTC'\)[\s\S]*ENGINE = MergeTree\nORDER BY deleted_before$/,
  );
  const ingest = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS junjo.spans_ingest '))!;
  assert.match(ingest, /\)\nENGINE = Null$/);
  assert.ok(
    statements.some((s) =>
      /VIEW IF NOT EXISTS junjo\.spans_ingest_v2_mv\nTO junjo\.spans_v2 AS\nSELECT trace_id, span_id, /.test(
        s,
      ),
    ),
  );
  // Version 5 moves the writer's view to spans_v2 before copying the spans; version 6 drops the old table.
  const moved = statements.indexOf('DROP VIEW IF EXISTS junjo.spans_ingest_mv SYNC');
  assert.ok(moved > 0);
  assert.match(statements[moved + 1]!, /VIEW IF NOT EXISTS junjo\.spans_ingest_v2_mv\n/);
  assert.match(statements[moved + 2]!, /^INSERT INTO junjo\.spans_v2 \(trace_id, [\s\S]*FROM junjo\.spans$/);
  assert.ok(statements.includes('DROP VIEW IF EXISTS junjo.trace_index_mv SYNC'));
  assert.ok(statements.includes('DROP TABLE IF EXISTS junjo.spans SYNC'));
  const summary = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS junjo.service_summary '))!;
  assert.match(summary, /ENGINE = AggregatingMergeTree\n/);
  assert.match(summary, /spans SimpleAggregateFunction\(sum, UInt64\)/);
  assert.ok(
    statements.some((s) =>
      /VIEW IF NOT EXISTS junjo\.service_summary_mv\nTO junjo\.service_summary AS[\s\S]*FROM junjo\.spans_ingest GROUP BY/.test(
        s,
      ),
    ),
  );
  // The backfill of an existing store starts from an empty summary and counts spans once (FINAL).
  const backfill = statements.findIndex((s) => s.startsWith('INSERT INTO junjo.service_summary '));
  assert.equal(statements[backfill - 1], 'TRUNCATE TABLE IF EXISTS junjo.service_summary');
  assert.match(statements[backfill]!, /FROM junjo\.spans FINAL GROUP BY service_name, hour$/);
  const patches = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS junjo.state_patches_v2 '))!;
  assert.match(patches, /patch_id String ALIAS /, 'the full patch id is given back to queries');
  assert.match(patches, /ORDER BY \(trace_id, event_time, patch_key\)/);
  assert.ok(statements.includes('DROP TABLE IF EXISTS junjo.state_patches SYNC'));
});

test('a cluster: ON CLUSTER everywhere, Replicated* local tables and Distributed tables sharded by trace id', () => {
  const statements = [...bootstrapStatements(cluster), ...ddl(cluster), ...retentionStatements(cluster, 30)];
  for (const statement of statements.filter((s) => !s.startsWith('INSERT'))) {
    assert.match(statement, / ON CLUSTER traces\b/, statement);
  }
  for (const { name, shardBy } of TABLES) {
    const local = statements.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS junjo.${name}_local `))!;
    assert.match(
      local,
      new RegExp(
        `ENGINE = Replicated\\w+MergeTree\\('/clickhouse/tables/\\{shard\\}/junjo/${name}_local', '\\{replica\\}'\\)`,
      ),
    );
    const distributed = statements.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS junjo.${name} `))!;
    assert.match(
      distributed,
      new RegExp(
        `AS junjo\\.${name}_local\\nENGINE = Distributed\\(traces, junjo, ${name}_local, ${
          // The summary has no trace id; its reads sum over every shard.
          shardBy === undefined ? 'cityHash64\\(trace_id\\)' : 'rand\\(\\)'
        }\\)`,
      ),
    );
  }
  // The version 2 copy goes through the Distributed tables and waits for the shards.
  assert.ok(
    statements.some((s) =>
      /^INSERT INTO junjo\.state_patches_v2\n[\s\S]*FROM junjo\.state_patches\nSETTINGS distributed_foreground_insert = 1$/.test(
        s,
      ),
    ),
  );
  // Spans go in through a Null table on each shard, sharded by trace id, and its views.
  assert.ok(
    statements.some((s) =>
      /^CREATE TABLE IF NOT EXISTS junjo\.spans_ingest_local ON CLUSTER traces \([\s\S]*\)\nENGINE = Null$/.test(
        s,
      ),
    ),
  );
  assert.ok(
    statements.some((s) =>
      /^CREATE TABLE IF NOT EXISTS junjo\.spans_ingest ON CLUSTER traces AS junjo\.spans_ingest_local\nENGINE = Distributed\(traces, junjo, spans_ingest_local, cityHash64\(trace_id\)\)$/.test(
        s,
      ),
    ),
  );
  assert.ok(
    statements.some((s) =>
      /spans_ingest_v2_mv ON CLUSTER traces\nTO junjo\.spans_v2_local AS\nSELECT [\s\S]*FROM junjo\.spans_ingest_local$/.test(
        s,
      ),
    ),
  );
  assert.ok(
    statements.some((s) =>
      /^INSERT INTO junjo\.spans_v2 [\s\S]*FROM junjo\.spans\nSETTINGS distributed_foreground_insert = 1$/.test(
        s,
      ),
    ),
  );
  assert.ok(statements.includes('DROP TABLE IF EXISTS junjo.spans_local ON CLUSTER traces SYNC'));
  assert.ok(
    statements.some((s) =>
      /service_summary_mv ON CLUSTER traces\nTO junjo\.service_summary_local AS[\s\S]*FROM junjo\.spans_ingest_local GROUP BY/.test(
        s,
      ),
    ),
  );
  assert.ok(statements.includes('TRUNCATE TABLE IF EXISTS junjo.service_summary_local ON CLUSTER traces'));
  assert.ok(
    statements.some((s) =>
      /^INSERT INTO junjo\.service_summary [\s\S]*FROM junjo\.spans FINAL GROUP BY service_name, hour\nSETTINGS distributed_foreground_insert = 1$/.test(
        s,
      ),
    ),
  );
  // The view reads the shard's own spans into the shard's own index.
  assert.ok(
    statements.some((s) => /TO junjo\.trace_index_local AS[\s\S]*FROM junjo\.spans_v2_local/.test(s)),
  );
  assert.ok(
    statements.some((s) => /TO junjo\.trace_index_v2_local AS[\s\S]*FROM junjo\.spans_v2_local/.test(s)),
  );
  assert.ok(
    statements.some((s) =>
      /^INSERT INTO junjo\.trace_index_v2 [\s\S]*FROM junjo\.trace_index\nSETTINGS distributed_foreground_insert = 1$/.test(
        s,
      ),
    ),
  );
  assert.ok(statements.includes('DROP TABLE IF EXISTS junjo.trace_index_local ON CLUSTER traces SYNC'));
  // Mutations and TTLs address the local tables.
  assert.deepEqual(tableNames(cluster, 'spans_v2'), {
    read: 'junjo.spans_v2',
    local: 'junjo.spans_v2_local',
  });
  assert.match(
    retentionStatements(cluster, 30)[0]!,
    /^ALTER TABLE junjo\.spans_v2_local ON CLUSTER traces MODIFY TTL toDateTime\(start_time\) \+ INTERVAL 30 DAY$/,
  );
});

test('retention days become TTLs on every table, and no retention removes them', () => {
  assert.deepEqual(
    retentionStatements(single, 7),
    TABLES.map(
      (t) =>
        `ALTER TABLE junjo.${t.name} MODIFY TTL toDateTime(${t.ttlColumn}) + INTERVAL ${t.name === 'service_summary' ? 8 : 7} DAY`,
    ),
  );
  assert.deepEqual(
    retentionStatements(single, null),
    TABLES.map((t) => `ALTER TABLE junjo.${t.name} REMOVE TTL`),
  );
});
