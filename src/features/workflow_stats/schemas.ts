// The service overview charts' payloads: one schema per payload, for validation, /openapi.json and
// the web UI's types.
import { type Static, Type } from 'typebox';

const Timestamp = (description: string) =>
  Type.String({ description, examples: ['2025-10-12T17:00:00.000000Z'], maxLength: 64 });

export const WorkflowStatsQuerystring = Type.Object({
  from: Type.Optional(Timestamp('start of the range, RFC 3339 (default: 24 hours before `to`)')),
  to: Type.Optional(Timestamp('end of the range, RFC 3339, exclusive (default: now)')),
  bucket: Type.Optional(
    Type.Integer({
      minimum: 60,
      // 400 days: no range may be longer
      maximum: 34_560_000,
      description:
        'bucket size in seconds, a whole number of minutes (default: chosen from the range for 60 to 120 buckets)',
    }),
  ),
  workflow: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1024, description: 'only the workflow of this name' }),
  ),
});
export type WorkflowStatsQuerystring = Static<typeof WorkflowStatsQuerystring>;

const Quantile = (q: string) =>
  Type.Union([Type.Number(), Type.Null()], {
    description: `${q} of the runs' durations in ms (linear interpolation between ranks); null without runs`,
  });

export const WorkflowStatsBucket = Type.Object({
  start: Timestamp('start of the bucket; it holds the runs that started in [start, start + bucket_seconds)'),
  runs: Type.Integer({ description: 'workflow runs (workflow spans, subflows excluded) that started in it' }),
  errors: Type.Integer({ description: 'of those, runs with status STATUS_CODE_ERROR' }),
  p50_ms: Quantile('median'),
  p95_ms: Quantile('95th percentile'),
  p99_ms: Quantile('99th percentile'),
});
export type WorkflowStatsBucket = Static<typeof WorkflowStatsBucket>;

export const WorkflowStats = Type.Object({
  from: Timestamp('start of the first bucket: the requested `from` rounded down to a bucket boundary'),
  to: Timestamp('end of the last bucket: the requested `to` rounded up to a bucket boundary'),
  bucket_seconds: Type.Integer(),
  workflows: Type.Array(
    Type.Object({
      workflow: Type.String({ description: 'the workflow spans’ name' }),
      buckets: Type.Array(WorkflowStatsBucket, {
        description: 'every bucket from `from` to `to`, also empty ones',
      }),
    }),
    { description: 'one series per workflow with a run in the range, by name; [] when none' },
  ),
});
export type WorkflowStats = Static<typeof WorkflowStats>;
