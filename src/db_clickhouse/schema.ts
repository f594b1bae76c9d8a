// The ClickHouse schema, designed for the span query API rather than copied from the DuckDB DDL
// (docs/scale-out.md "ClickHouse span store" explains each choice):
// - spans_v2: partitioned by day of start_time, ordered (service_name, start_time, span_id, trace_id)
//   so the per-service lists read newest-first in key order and stop after a page; a bloom-filter
//   skip index on trace_id. Granules of at most 1 MiB (see SPANS): a trace lookup decompresses
//   the granules holding its spans, whole. (Version 1's `spans` had ClickHouse's 10 MiB ones.)
// - trace_index_v2: trace_id → first/last span start, kept by a materialized view on spans (as
//   Jaeger and SigNoz do): a trace lookup reads only the partitions of its time range, and the
//   writer's replay check ("which of these traces have stored spans?") is a primary-key lookup.
//   Granules of 1,024 ids (see TRACE_INDEX; version 1's `trace_index` had 8,192).
// - state_patches_v2 and log_records: ordered by trace_id first (they are only ever read by trace).
//   A patch id is `<trace_id>:<span_id>:<event id>` (spans/span_processor.ts), and the trace and
//   span ids are columns already: the table keeps only `patch_key` (see PATCH_KEY) and gives
//   `patch_id` back as an ALIAS, so queries still read and order by the full id. (Version 1 kept
//   the whole id in `state_patches`: about a tenth of the disk per span.)
// - llm_traces: traces holding an LLM span (spans/llm_span.ts), for the "LLM only" root list.
// Every table is a ReplacingMergeTree: a row written twice (a replay that slipped past the
// writer's check) collapses at the next merge, and reads use FINAL so they are exact before it.
// JSON columns stay String: ClickHouse's JSON type splits dotted keys such as `http.method`.
//
// - service_summary: per service and hour, the spans, root spans and newest start that the writer
//   added, kept by a materialized view on spans_ingest (a Null table the writer inserts into, which
//   forwards the rows to spans); see SERVICE_SUMMARY for why it is exact.
//
// With a cluster name every statement runs ON CLUSTER, each table is a Replicated* engine named
// `<table>_local`, and `<table>` is a Distributed table over it sharded by trace id, so a trace,
// its patches and its log records live on one shard (FINAL and the replay check stay shard-local).

/** Where the store's tables live. */
export interface SchemaTarget {
  database: string;
  /** '' for one server. */
  cluster: string;
}

export type TableName =
  | 'spans'
  | 'spans_v2'
  | 'trace_index'
  | 'trace_index_v2'
  | 'state_patches'
  | 'state_patches_v2'
  | 'log_records'
  | 'llm_traces'
  | 'spans_ingest'
  | 'service_summary'
  | 'span_deletions';

/** How statements name a table: `read` for queries and inserts, `local` for mutations and DDL. */
export interface TableNames {
  read: string;
  local: string;
}

export function tableNames(target: SchemaTarget, table: TableName): TableNames {
  const read = `${target.database}.${table}`;
  return { read, local: target.cluster ? `${read}_local` : read };
}

/** ` ON CLUSTER name`, or nothing on one server. */
export function onCluster(target: SchemaTarget): string {
  return target.cluster ? ` ON CLUSTER ${target.cluster}` : '';
}

const TIME = "DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1))";
const ID = 'String CODEC(ZSTD(1))';
const JSON_TEXT = 'String CODEC(ZSTD(3))';

interface TableSpec {
  name: TableName;
  columns: string;
  /** The MergeTree family member without its Replicated prefix and arguments. */
  engine: 'ReplacingMergeTree' | 'AggregatingMergeTree';
  partitionBy: string;
  orderBy: string;
  /** Column whose day a row expires after with JUNJO_RETENTION_DAYS (retention.ts). */
  ttlColumn: string;
  /** Days kept beyond JUNJO_RETENTION_DAYS (a table whose rows must outlive the spans they count). */
  ttlGraceDays?: number;
  /** The Distributed table's sharding key on a cluster; by trace id unless said otherwise. */
  shardBy?: string;
  /** MergeTree settings beyond ttl_only_drop_parts (fixed when the table is created). */
  settings?: string;
}

const PATCH_COLUMNS = `
  service_name LowCardinality(String),
  trace_id ${ID},
  span_id ${ID},
  workflow_id ${ID},
  node_id ${ID},
  event_time ${TIME},
  patch_json ${JSON_TEXT},
  patch_store_id ${ID}`;

/** Version 1's layout, which the version 2 migration copies from and version 3 drops. */
const STATE_PATCHES_V1: TableSpec = {
  name: 'state_patches',
  columns: `
  patch_id ${ID},${PATCH_COLUMNS}`,
  engine: 'ReplacingMergeTree',
  partitionBy: 'toDate(event_time)',
  orderBy: '(trace_id, event_time, patch_id)',
  ttlColumn: 'event_time',
};

/**
 * How a patch id is kept: `:<rest>` when it is `<trace_id>:<span_id>:<rest>` (every patch of an
 * event with an id), `=<id>` otherwise (the sha256 form, or any other id), so that the two never
 * meet and the key gives back exactly one id. `fromId` is the SQL of the version 2 migration's copy.
 */
export const PATCH_KEY = {
  toId: "if(startsWith(patch_key, ':'), concat(trace_id, ':', span_id, patch_key), substring(patch_key, 2))",
  fromId:
    "if(startsWith(patch_id, concat(trace_id, ':', span_id, ':')), substring(patch_id, length(trace_id) + length(span_id) + 2), concat('=', patch_id))",
};

/** A patch id as `patch_key` (PATCH_KEY): the same mapping as its SQL `fromId`. */
export function patchKey(patch: { patch_id: string; trace_id: string; span_id: string }): string {
  const prefix = `${patch.trace_id}:${patch.span_id}:`;
  return patch.patch_id.startsWith(prefix) ? patch.patch_id.slice(prefix.length - 1) : `=${patch.patch_id}`;
}

const STATE_PATCHES: TableSpec = {
  name: 'state_patches_v2',
  columns: `
  patch_key ${ID},
  patch_id String ALIAS ${PATCH_KEY.toId},${PATCH_COLUMNS}`,
  engine: 'ReplacingMergeTree',
  partitionBy: 'toDate(event_time)',
  orderBy: '(trace_id, event_time, patch_key)',
  ttlColumn: 'event_time',
};

const SPAN_COLUMNS = `
  trace_id ${ID},
  span_id ${ID},
  parent_span_id Nullable(String) CODEC(ZSTD(1)),
  service_name LowCardinality(String),
  name LowCardinality(String),
  kind LowCardinality(String),
  start_time ${TIME},
  end_time ${TIME},
  status_code LowCardinality(String),
  status_message String CODEC(ZSTD(1)),
  attributes_json ${JSON_TEXT},
  events_json ${JSON_TEXT},
  links_json ${JSON_TEXT},
  trace_flags UInt32 CODEC(ZSTD(1)),
  trace_state Nullable(String) CODEC(ZSTD(1)),
  junjo_id ${ID},
  junjo_parent_id ${ID},
  junjo_span_type LowCardinality(String),
  junjo_wf_state_start ${JSON_TEXT},
  junjo_wf_state_end ${JSON_TEXT},
  junjo_wf_graph_structure ${JSON_TEXT},
  junjo_wf_store_id ${ID}`;

/** The spans columns in table order: what spans_ingest_mv forwards. */
export const SPAN_COLUMN_NAMES = [...SPAN_COLUMNS.matchAll(/^\s+(\w+) /gm)].map((match) => match[1]!);

/**
 * Per service and hour: spans, root spans and the newest start, summed over what the writer
 * inserted (service_summary_mv on spans_ingest). Exact because only the writer's rows reach it:
 * the writer inserts a span only once (its replay check), and rows stored twice in `spans` by any
 * other path are not counted here. Retention deletes a prefix in time, so the reader takes the
 * hours after the oldest stored span's hour from here and that one hour from `spans FINAL`
 * (span_queries.ts `services`); while no span was ever deleted (span_deletions empty, no TTL), every
 * hour from here.
 */
const SERVICE_SUMMARY: TableSpec = {
  name: 'service_summary',
  columns: `
  service_name LowCardinality(String),
  hour DateTime('UTC'),
  spans SimpleAggregateFunction(sum, UInt64),
  roots SimpleAggregateFunction(sum, UInt64),
  last_start SimpleAggregateFunction(max, DateTime64(6, 'UTC'))`,
  engine: 'AggregatingMergeTree',
  partitionBy: 'toYYYYMM(hour)',
  orderBy: '(service_name, hour)',
  ttlColumn: 'hour',
  // TTL drops whole parts, a summary part as soon as its newest hour expires, while the spans of
  // that hour can stay in a part with newer rows: a day more keeps every hour the reader sums
  // (those after the oldest stored span's hour) in the summary.
  ttlGraceDays: 1,
  // Reads sum over every shard; the backfill may place a row on any of them.
  shardBy: 'rand()',
};

/** Version 1's spans table, which version 5 copies into SPANS and version 6 drops. */
const SPANS_V1: TableSpec = {
  name: 'spans',
  columns: `${SPAN_COLUMNS},
  INDEX idx_trace_id trace_id TYPE bloom_filter(0.01) GRANULARITY 1`,
  engine: 'ReplacingMergeTree',
  partitionBy: 'toDate(start_time)',
  orderBy: '(service_name, start_time, span_id, trace_id)',
  ttlColumn: 'start_time',
};

/**
 * The spans in granules of at most 1 MiB uncompressed (~800 spans of the Junjo mix) instead of
 * ClickHouse's 10 MiB (~7,500): a trace lookup is pruned to the granules holding its spans and
 * decompresses their JSON columns whole, so this is most of its cost. Measured on a merged 200k
 * store: ~3× less CPU per lookup for ~3% more disk (more marks, a bloom filter per granule).
 */
const SPANS: TableSpec = {
  ...SPANS_V1,
  name: 'spans_v2',
  settings: 'index_granularity_bytes = 1048576',
};

/** Version 1's trace index, which version 8 copies into TRACE_INDEX and version 9 drops. */
const TRACE_INDEX_V1: TableSpec = {
  name: 'trace_index',
  columns: `
  trace_id ${ID},
  first_start SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
  last_start SimpleAggregateFunction(max, DateTime64(6, 'UTC'))`,
  engine: 'AggregatingMergeTree',
  // By day too, so that retention's TTL drops whole old parts; a lookup aggregates across them.
  partitionBy: 'toDate(last_start)',
  orderBy: 'trace_id',
  ttlColumn: 'last_start',
};

/**
 * The trace index in granules of 1,024 trace ids instead of ClickHouse's 8,192: a lookup meets
 * every part (one or more per day) and decompresses a granule of each, ~34 KB of ids instead of
 * ~270 KB. Measured on a 10M store (13 parts): ~10.2 → ~7.5 ms p50 per lookup, under load 2.7;
 * disk +0.08 B per span.
 */
const TRACE_INDEX: TableSpec = {
  ...TRACE_INDEX_V1,
  name: 'trace_index_v2',
  settings: 'index_granularity = 1024',
};

export const TABLES: TableSpec[] = [
  SPANS,
  TRACE_INDEX,
  STATE_PATCHES,
  {
    name: 'log_records',
    columns: `
  log_id ${ID},
  trace_id ${ID},
  span_id ${ID},
  service_name LowCardinality(String),
  time ${TIME},
  observed_time ${TIME},
  sequence UInt32 CODEC(ZSTD(1)),
  severity_number UInt8,
  severity_text LowCardinality(String),
  event_name LowCardinality(String),
  body_json ${JSON_TEXT},
  attributes_json ${JSON_TEXT}`,
    engine: 'ReplacingMergeTree',
    partitionBy: 'toDate(time)',
    orderBy: '(trace_id, span_id, time, sequence, log_id)',
    ttlColumn: 'time',
  },
  {
    name: 'llm_traces',
    columns: `
  trace_id ${ID},
  -- Start of the trace's earliest LLM span of the insert that recorded it.
  start_time ${TIME}`,
    engine: 'ReplacingMergeTree',
    partitionBy: 'toDate(start_time)',
    orderBy: 'trace_id',
    ttlColumn: 'start_time',
  },
  SERVICE_SUMMARY,
];

/** The summary row of a group of span rows (the view, and the migration's backfill). */
const SERVICE_SUMMARY_SELECT = `service_name, toStartOfHour(start_time) AS hour, count() AS spans,
  countIf(parent_span_id IS NULL) AS roots, max(start_time) AS last_start`;

/** The Null table the writer inserts spans into; its views forward them to spans and the summary. */
function createSpansIngest(target: SchemaTarget): string[] {
  const names = tableNames(target, 'spans_ingest');
  const local = `CREATE TABLE IF NOT EXISTS ${names.local}${onCluster(target)} (${SPAN_COLUMNS}
)
ENGINE = Null`;
  return target.cluster ? [local, distributedTable(target, 'spans_ingest', 'cityHash64(trace_id)')] : [local];
}

/** `engine` (a MergeTree family member), replicated per shard on a cluster. */
function engineClause(target: SchemaTarget, table: TableName, engine: string): string {
  if (!target.cluster) return engine;
  return `Replicated${engine}('/clickhouse/tables/{shard}/${target.database}/${table}_local', '{replica}')`;
}

/** On a cluster: the table reads and inserts name, over every shard's `<table>_local`. */
function distributedTable(target: SchemaTarget, table: TableName, shardBy: string): string {
  const names = tableNames(target, table);
  return `CREATE TABLE IF NOT EXISTS ${names.read}${onCluster(target)} AS ${names.local}
ENGINE = Distributed(${target.cluster}, ${target.database}, ${table}_local, ${shardBy})`;
}

function createTable(target: SchemaTarget, spec: TableSpec): string[] {
  const names = tableNames(target, spec.name);
  const local = `CREATE TABLE IF NOT EXISTS ${names.local}${onCluster(target)} (${spec.columns}
)
ENGINE = ${engineClause(target, spec.name, spec.engine)}
PARTITION BY ${spec.partitionBy}
ORDER BY ${spec.orderBy}
SETTINGS ttl_only_drop_parts = 1${spec.settings ? `, ${spec.settings}` : ''}`;
  if (!target.cluster) return [local];
  return [local, distributedTable(target, spec.name, spec.shardBy ?? 'cityHash64(trace_id)')];
}

/** One version of the schema: statements run in order, each idempotent (IF NOT EXISTS). */
export interface Migration {
  version: number;
  description: string;
  statements: (target: SchemaTarget) => string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'spans, trace_index (+ view), state_patches, log_records, llm_traces',
    statements: (target) => {
      const spans = tableNames(target, 'spans');
      const traceIndex = tableNames(target, 'trace_index');
      const v1Of = new Map([
        [STATE_PATCHES, STATE_PATCHES_V1],
        [SPANS, SPANS_V1],
        [TRACE_INDEX, TRACE_INDEX_V1],
      ]);
      const v1Tables = TABLES.filter((spec) => spec !== SERVICE_SUMMARY).map(
        (spec) => v1Of.get(spec) ?? spec,
      );
      return [
        ...v1Tables.flatMap((spec) => createTable(target, spec)),
        traceIndexView(target, 'trace_index_mv', spans, traceIndex),
      ];
    },
  },
  {
    version: 2,
    description: 'state_patches_v2: patch ids without the trace and span ids they repeat',
    // Run again after an interruption, the copy writes its rows twice: the ReplacingMergeTree and
    // FINAL reads answer them once (as for a replayed batch).
    statements: (target) => [
      ...createTable(target, STATE_PATCHES),
      `INSERT INTO ${tableNames(target, 'state_patches_v2').read}
  (patch_key, service_name, trace_id, span_id, workflow_id, node_id, event_time, patch_json, patch_store_id)
SELECT ${PATCH_KEY.fromId}, service_name, trace_id, span_id, workflow_id, node_id, event_time, patch_json, patch_store_id
FROM ${tableNames(target, 'state_patches').read}${onShardsBeforeReturning(target)}`,
    ],
  },
  {
    version: 3,
    description: 'drop state_patches (copied into state_patches_v2)',
    // A version of its own, so that the copy above can always run again until it is recorded.
    statements: (target) => dropReplaced(target, 'state_patches'),
  },
  {
    version: 4,
    description: 'service_summary (+ view) fed through spans_ingest, for the service list',
    // Run at start-up before the poller writes. The backfill is preceded by a TRUNCATE, so an
    // interrupted migration run again counts every span once.
    statements: (target) => {
      const spans = tableNames(target, 'spans');
      const ingest = tableNames(target, 'spans_ingest');
      const summary = tableNames(target, 'service_summary');
      return [
        ...createTable(target, SERVICE_SUMMARY),
        ...createSpansIngest(target),
        ingestView(target, 'spans_ingest_mv', ingest, spans),
        `CREATE MATERIALIZED VIEW IF NOT EXISTS ${target.database}.service_summary_mv${onCluster(target)}
TO ${summary.local} AS
SELECT ${SERVICE_SUMMARY_SELECT}
FROM ${ingest.local} GROUP BY service_name, hour`,
        `TRUNCATE TABLE IF EXISTS ${summary.local}${onCluster(target)}`,
        `INSERT INTO ${summary.read} (service_name, hour, spans, roots, last_start)
SELECT ${SERVICE_SUMMARY_SELECT}
FROM ${spans.read} FINAL GROUP BY service_name, hour${onShardsBeforeReturning(target)}`,
      ];
    },
  },
  {
    version: 5,
    description: 'spans_v2: the spans in granules of at most 1 MiB, for trace lookups',
    // Run at start-up before the poller writes: the writer's view moves to spans_v2 before the
    // copy, the index view of spans_v2 feeds the same trace_index (min/max: rows seen twice change
    // nothing). Run again after an interruption, the copy writes its rows twice: FINAL reads and
    // the merges answer them once, as for a replayed batch.
    statements: (target) => {
      const old = tableNames(target, 'spans');
      const spans = tableNames(target, 'spans_v2');
      const ingest = tableNames(target, 'spans_ingest');
      const columns = SPAN_COLUMN_NAMES.join(', ');
      return [
        ...createTable(target, SPANS),
        traceIndexView(target, 'trace_index_v2_mv', spans, tableNames(target, 'trace_index')),
        `DROP VIEW IF EXISTS ${target.database}.spans_ingest_mv${onCluster(target)} SYNC`,
        ingestView(target, 'spans_ingest_v2_mv', ingest, spans),
        `INSERT INTO ${spans.read} (${columns})
SELECT ${columns} FROM ${old.read}${onShardsBeforeReturning(target)}`,
      ];
    },
  },
  {
    version: 6,
    description: 'drop spans (copied into spans_v2) and its index view',
    // A version of its own, so that the copy above can always run again until it is recorded.
    statements: (target) => dropReplaced(target, 'spans', ['trace_index_mv']),
  },
  {
    version: 7,
    description:
      'span_deletions: the retention steps that deleted spans, so the service list reads spans only then',
    // Without it the service list read the oldest stored hour of spans FINAL on every call, in case
    // retention had cut into it (SERVICE_SUMMARY): most of the list's cost (~10 of ~14 ms of CPU at
    // 1M spans). A retention step records its bound before it deletes; removing the TTL records now.
    statements: (target) => {
      const local = `CREATE TABLE IF NOT EXISTS ${tableNames(target, 'span_deletions').local}${onCluster(target)} (
  deleted_before DateTime64(6, 'UTC'),
  recorded_at DateTime('UTC') DEFAULT now()
)
ENGINE = ${engineClause(target, 'span_deletions', 'MergeTree')}
ORDER BY deleted_before`;
      return target.cluster ? [local, distributedTable(target, 'span_deletions', 'rand()')] : [local];
    },
  },
  {
    version: 8,
    description: 'trace_index_v2: the trace index in granules of 1,024 trace ids, for trace lookups',
    // Run at start-up before the poller writes: the view from spans_v2 feeds the new index before
    // the copy. Run again after an interruption, the copy writes its rows twice: min and max make
    // them change nothing.
    statements: (target) => {
      const index = tableNames(target, 'trace_index_v2');
      return [
        ...createTable(target, TRACE_INDEX),
        traceIndexView(target, 'trace_index_v2_of_spans_v2_mv', tableNames(target, 'spans_v2'), index),
        `INSERT INTO ${index.read} (trace_id, first_start, last_start)
SELECT trace_id, first_start, last_start FROM ${tableNames(target, 'trace_index').read}${onShardsBeforeReturning(target)}`,
      ];
    },
  },
  {
    version: 9,
    description: 'drop trace_index (copied into trace_index_v2) and its view',
    // A version of its own, so that the copy above can always run again until it is recorded.
    statements: (target) => dropReplaced(target, 'trace_index', ['trace_index_v2_mv']),
  },
];

/**
 * The end of an INSERT … SELECT into a Distributed table: on a cluster it returns only once the rows
 * are on their shards (a copy before its source is dropped, a deletion record before the delete).
 */
function onShardsBeforeReturning(target: SchemaTarget): string {
  return target.cluster ? '\nSETTINGS distributed_foreground_insert = 1' : '';
}

/** Drops the views named, then a table that a copy replaced (on a cluster, with its local table). */
function dropReplaced(target: SchemaTarget, table: TableName, views: string[] = []): string[] {
  const names = tableNames(target, table);
  const drop = (kind: 'VIEW' | 'TABLE', name: string) =>
    `DROP ${kind} IF EXISTS ${name}${onCluster(target)} SYNC`;
  return [
    ...views.map((view) => drop('VIEW', `${target.database}.${view}`)),
    drop('TABLE', names.read),
    ...(target.cluster ? [drop('TABLE', names.local)] : []),
  ];
}

/**
 * On each shard, from the local spans table into the local index: sharding by trace id keeps a
 * trace's index row beside its spans.
 */
function traceIndexView(target: SchemaTarget, name: string, spans: TableNames, index: TableNames): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${target.database}.${name}${onCluster(target)}
TO ${index.local} AS
SELECT trace_id, min(start_time) AS first_start, max(start_time) AS last_start
FROM ${spans.local} GROUP BY trace_id`;
}

/** On each shard, from the shard's Null table into its spans: a trace's spans stay on its shard. */
function ingestView(target: SchemaTarget, name: string, ingest: TableNames, spans: TableNames): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${target.database}.${name}${onCluster(target)}
TO ${spans.local} AS
SELECT ${SPAN_COLUMN_NAMES.join(', ')} FROM ${ingest.local}`;
}

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** The database and the table recording applied versions (created before any migration). */
export function bootstrapStatements(target: SchemaTarget): string[] {
  const engine = target.cluster
    ? `ReplicatedMergeTree('/clickhouse/tables/${target.database}/junjo_schema_versions', '{replica}')`
    : 'MergeTree';
  return [
    `CREATE DATABASE IF NOT EXISTS ${target.database}${onCluster(target)}`,
    `CREATE TABLE IF NOT EXISTS ${target.database}.junjo_schema_versions${onCluster(target)} (
  version UInt32,
  description String,
  applied_at DateTime DEFAULT now()
)
ENGINE = ${engine}
ORDER BY version`,
  ];
}

/** JUNJO_RETENTION_DAYS as table TTLs (whole day partitions dropped at merges), or none. */
export function retentionStatements(target: SchemaTarget, days: number | null): string[] {
  return TABLES.map((spec) => {
    const table = `${tableNames(target, spec.name).local}${onCluster(target)}`;
    return days === null
      ? `ALTER TABLE ${table} REMOVE TTL`
      : `ALTER TABLE ${table} MODIFY TTL toDateTime(${spec.ttlColumn}) + INTERVAL ${days + (spec.ttlGraceDays ?? 0)} DAY`;
  });
}

/**
 * Records in span_deletions that spans before `bound` (an SQL expression) were deleted: by a
 * retention step, or, up to now, by a TTL that was just removed.
 */
export function recordDeletionStatement(target: SchemaTarget, bound: string): string {
  return `INSERT INTO ${tableNames(target, 'span_deletions').read} (deleted_before) SELECT ${bound}${onShardsBeforeReturning(target)}`;
}
