// From the query string to a WorkflowRunFilter: what the schema cannot check (times, state
// conditions, bounds that belong together, the total number of conditions), each refusal naming its
// field.
import type { Static } from 'typebox';
import { invalidInput } from '../../errors.ts';
import { parseTimestamp } from '../../spans/span_json.ts';
import {
  MAX_RUN_FILTERS,
  parseStateCondition,
  type WorkflowRunFilter,
} from '../../spans/workflow_run_filter.ts';
import type { WorkflowRunsQuerystring } from './schemas.ts';

export type WorkflowRunsQuery = Static<typeof WorkflowRunsQuerystring>;

const MICROS_PER_MS = 1000;

export function runFilterFromQuery(query: WorkflowRunsQuery): WorkflowRunFilter {
  const nodes = query.node ?? [];
  const notNodes = query.not_node ?? [];
  const failedNodes = query.failed_node ?? [];
  const stateTexts = query.state ?? [];
  const count = nodes.length + notNodes.length + failedNodes.length + stateTexts.length;
  if (count > MAX_RUN_FILTERS) {
    throw invalidInput(
      `node, not_node, failed_node and state: at most ${MAX_RUN_FILTERS} conditions together`,
    );
  }
  const filter: WorkflowRunFilter = {
    nodes,
    notNodes,
    failedNodes,
    stateOf: query.state_of ?? 'end',
    state: stateTexts.map((text, i) =>
      parseStateCondition(text, stateTexts.length > 1 ? `state[${i}]` : 'state'),
    ),
  };
  if (query.workflow !== undefined) filter.workflow = query.workflow;
  if (query.min_ms !== undefined) filter.minDurationMicros = micros(query.min_ms);
  if (query.max_ms !== undefined) filter.maxDurationMicros = micros(query.max_ms);
  if (query.min_ms !== undefined && query.max_ms !== undefined && query.min_ms > query.max_ms) {
    throw invalidInput('min_ms must not be greater than max_ms');
  }
  if (query.from !== undefined) filter.fromMicros = instant(query.from, 'from');
  if (query.to !== undefined) filter.toMicros = instant(query.to, 'to');
  if (
    filter.fromMicros !== undefined &&
    filter.toMicros !== undefined &&
    filter.fromMicros >= filter.toMicros
  ) {
    throw invalidInput('from must be before to');
  }
  return filter;
}

/** Milliseconds (fractions allowed) as whole microseconds. */
function micros(ms: number): bigint {
  return BigInt(Math.round(ms * MICROS_PER_MS));
}

function instant(text: string, field: string): bigint {
  const micros = parseTimestamp(text);
  if (micros === null)
    throw invalidInput(`${field} must be an RFC 3339 timestamp with at most microsecond precision`);
  return micros;
}
