-- Tables that make the span query API fast at millions of spans. They are derived from `spans`
-- and maintained by summaries.ts in the same transaction as every insert, so a reader never sees
-- them disagree with `spans`. DuckDB is columnar: a top-N over `spans` scans every row group of
-- the filter columns, and fetching a few hundred whole rows scattered through a large table costs
-- about a quarter of a millisecond each. These tables keep what the list endpoints need small
-- and together.

-- One row per service: the service list and the services page.
CREATE TABLE IF NOT EXISTS service_summaries (
  service_name VARCHAR PRIMARY KEY,
  span_count BIGINT NOT NULL,
  -- Traces whose root span belongs to this service (the rows its traces list shows).
  trace_count BIGINT NOT NULL,
  -- Start of the newest span of this service.
  last_seen TIMESTAMPTZ NOT NULL
);

-- Every root span and every workflow span (about one span in ten), as the list endpoints serve
-- it: the span JSON of api.md §5.1 rendered once at insert and deflated (list_json.ts says why), so
-- a page reads one narrow column instead of 22 and only inflates its own rows. Rows are in arrival
-- order, which is close to time order, so the zone maps on start_time skip most row groups for
-- "newest first". has_llm, for root spans only (NULL on the others): the trace holds an LLM span in
-- any service.
CREATE TABLE IF NOT EXISTS span_list_entries (
  trace_id VARCHAR(32) NOT NULL,
  span_id VARCHAR(16) NOT NULL,
  parent_span_id VARCHAR(16),
  service_name VARCHAR NOT NULL,
  start_time TIMESTAMPTZ NOT NULL,
  junjo_span_type VARCHAR,
  has_llm BOOLEAN,
  span_json_deflated BLOB NOT NULL,
  -- Roots are stored when they end, so end_time follows the insert order and its zone maps find
  -- the recently stored roots that an LLM span arriving after its root must flag.
  end_time TIMESTAMPTZ
);
-- For tables created before end_time existed (it stays NULL there).
ALTER TABLE span_list_entries ADD COLUMN IF NOT EXISTS end_time TIMESTAMPTZ;

-- How many span_list_entries rows of each kind a service has per hour of start_time. A list page first
-- finds, from here, the hour from which on there are enough rows, and then reads span_list_entries from
-- that hour only: DuckDB's top-N reads every row group otherwise (it does not visit the
-- newest first), which grows with the table; with the bound, the zone maps skip the rest.
CREATE TABLE IF NOT EXISTS span_list_hours (
  service_name VARCHAR NOT NULL,
  hour TIMESTAMPTZ NOT NULL,
  roots BIGINT NOT NULL,
  llm_roots BIGINT NOT NULL,
  workflows BIGINT NOT NULL,
  PRIMARY KEY (service_name, hour)
);

-- One row per trace and insert batch that brought LLM spans: the earliest one's start.
CREATE TABLE IF NOT EXISTS llm_traces (
  trace_id VARCHAR(32) NOT NULL,
  start_time TIMESTAMPTZ NOT NULL
);

-- state_patches has only a (trace_id, span_id) index, which a lookup by trace alone cannot use.
CREATE INDEX IF NOT EXISTS idx_state_patches_trace_id ON state_patches (trace_id);

-- One row per top-level attribute of each span (span_attributes.ts), for trace search: its
-- conditions read these narrow columns instead of parsing attributes_json for every span of the
-- window. Rows are in arrival order, so the zone maps on start_time bound a search's window; no
-- index (the zone maps do the pruning, an index would only add disk). `text` is json_extract_string's
-- text of the value, as the search defines it, NULL for a JSON null and for a text longer than the
-- cap; `long` marks the latter, whose conditions are decided on attributes_json instead.
CREATE TABLE IF NOT EXISTS span_attributes (
  service_name VARCHAR NOT NULL,
  start_time TIMESTAMPTZ NOT NULL,
  trace_id VARCHAR NOT NULL,
  span_id VARCHAR NOT NULL,
  key VARCHAR NOT NULL,
  text VARCHAR,
  -- The value when it is a JSON number.
  number DOUBLE,
  long BOOLEAN NOT NULL
);
