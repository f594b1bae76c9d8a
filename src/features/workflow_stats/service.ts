// The overview charts' rules: which range and bucket size a request means (defaults, rounding to
// bucket boundaries, limits) and the response's shape, on top of any span store's reader.
import { invalidInput } from '../../errors.ts';
import { formatTimestamp, parseTimestamp } from '../../spans/span_json.ts';
import type { SpanReader, WorkflowStatsQuery } from '../../spans/span_store.ts';
import type { WorkflowStats, WorkflowStatsQuerystring } from './schemas.ts';

const MINUTE = 60n * 1_000_000n;
const HOUR = 60n * MINUTE;
const DAY = 24n * HOUR;
/** Bucket sizes the default picks from: the smallest that gives at most TARGET_BUCKETS. */
const BUCKET_STEPS = [1n, 2n, 5n, 10n, 15n, 30n, 60n, 120n, 180n, 360n, 720n, 1440n, 10080n].map(
  (minutes) => minutes * MINUTE,
);
const TARGET_BUCKETS = 120n;
/** A requested bucket size may give up to this many buckets (a chart cannot show more). */
export const MAX_BUCKETS = 1000n;
export const MAX_RANGE_DAYS = 400n;

export class WorkflowStatsService {
  readonly #store: SpanReader;
  readonly #now: () => bigint;

  constructor(store: SpanReader, now: () => bigint = () => BigInt(Date.now()) * 1000n) {
    this.#store = store;
    this.#now = now;
  }

  async workflowStats(serviceName: string, request: WorkflowStatsQuerystring): Promise<WorkflowStats> {
    const query = statsQuery(request, this.#now());
    const series = await this.#store.workflowStats(serviceName, query);
    return {
      from: formatTimestamp(query.startMicros),
      to: formatTimestamp(query.endMicros),
      bucket_seconds: Number(query.bucketMicros / 1_000_000n),
      workflows: series.map(({ workflow, buckets }) => ({
        workflow,
        buckets: buckets.map((bucket) => ({
          start: formatTimestamp(bucket.startMicros),
          runs: bucket.runs,
          errors: bucket.errors,
          p50_ms: bucket.p50Ms,
          p95_ms: bucket.p95Ms,
          p99_ms: bucket.p99Ms,
        })),
      })),
    };
  }
}

/** Checks the parameters together (the schema has checked each one's shape). */
export function statsQuery(request: WorkflowStatsQuerystring, nowMicros: bigint): WorkflowStatsQuery {
  const to = request.to === undefined ? nowMicros : timestamp('to', request.to);
  const from = request.from === undefined ? to - DAY : timestamp('from', request.from);
  if (from >= to) throw invalidInput('from must be before to');
  if (to - from > MAX_RANGE_DAYS * DAY)
    throw invalidInput(`from: the range may span at most ${MAX_RANGE_DAYS} days`);
  const bucket = request.bucket === undefined ? defaultBucket(to - from) : requestedBucket(request.bucket);
  const startMicros = floorTo(from, bucket);
  const endMicros = -floorTo(-to, bucket); // rounded up
  if ((endMicros - startMicros) / bucket > MAX_BUCKETS) {
    throw invalidInput(`bucket: the range holds more than ${MAX_BUCKETS} buckets of ${request.bucket} s`);
  }
  return {
    startMicros,
    endMicros,
    bucketMicros: bucket,
    ...(request.workflow === undefined ? {} : { workflow: request.workflow }),
  };
}

function timestamp(field: 'from' | 'to', text: string): bigint {
  const micros = parseTimestamp(text);
  if (micros === null)
    throw invalidInput(`${field} must be an RFC 3339 timestamp, e.g. 2025-10-12T17:00:00Z`);
  return micros;
}

function requestedBucket(seconds: number): bigint {
  if (!Number.isSafeInteger(seconds) || seconds % 60 !== 0) {
    throw invalidInput('bucket must be a whole number of minutes, in seconds (e.g. 300)');
  }
  return BigInt(seconds) * 1_000_000n;
}

function defaultBucket(range: bigint): bigint {
  return BUCKET_STEPS.find((step) => range / step <= TARGET_BUCKETS) ?? BUCKET_STEPS.at(-1)!;
}

/** Floor to a multiple of `step`, also before 1970. */
function floorTo(micros: bigint, step: bigint): bigint {
  const rest = micros % step;
  return micros - (rest < 0n ? rest + step : rest);
}
