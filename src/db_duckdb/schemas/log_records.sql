-- OTLP log records that belong to a span (spans/rows.ts LogRecordRow), e.g. the prompt and completion
-- events of the GenAI instrumentations. No foreign key to spans: an SDK exports logs and traces
-- independently, so a span's records may be stored before the span itself.
CREATE TABLE IF NOT EXISTS log_records (
  log_id VARCHAR PRIMARY KEY,
  trace_id VARCHAR(32) NOT NULL,
  span_id VARCHAR(16) NOT NULL,
  service_name VARCHAR NOT NULL,
  time TIMESTAMPTZ NOT NULL,
  observed_time TIMESTAMPTZ NOT NULL,
  sequence INTEGER NOT NULL,
  severity_number INTEGER NOT NULL,
  severity_text VARCHAR NOT NULL,
  event_name VARCHAR NOT NULL,
  body_json JSON NOT NULL,
  attributes_json JSON NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_log_records_trace_id_span_id
  ON log_records (trace_id, span_id);
