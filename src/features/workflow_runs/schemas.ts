// The query string of the filtered workflow-run list. The schema checks each value's shape and size;
// run_filter_query.ts checks what the values mean (paths, operators, times) and names the field.
import { Type } from 'typebox';
import { MAX_FILTER_TEXT, MAX_RUN_FILTERS } from '../../spans/workflow_run_filter.ts';
import { ListQuerystring } from '../otel/schemas.ts';

const Text = (description: string) => Type.String({ minLength: 1, maxLength: MAX_FILTER_TEXT, description });
const Repeated = (description: string) =>
  Type.Array(Text(description), { maxItems: MAX_RUN_FILTERS, description: `${description} (repeatable)` });
const Milliseconds = (description: string) => Type.Number({ minimum: 0, maximum: 1e12, description });
const Instant = (description: string) =>
  Type.String({ maxLength: 64, description: `${description}, RFC 3339 (e.g. 2025-06-04T01:20:00Z)` });

export const WorkflowRunsQuerystring = Type.Object({
  ...ListQuerystring.properties,
  workflow: Type.Optional(Text('workflow name (the workflow span’s name), exactly')),
  node: Type.Optional(Repeated('a node of this name ran in the run')),
  not_node: Type.Optional(Repeated('no node of this name ran in the run')),
  failed_node: Type.Optional(Repeated('a node of this name ran and failed (status ERROR)')),
  min_ms: Type.Optional(Milliseconds('shortest run duration, milliseconds, inclusive')),
  max_ms: Type.Optional(Milliseconds('longest run duration, milliseconds, inclusive')),
  state: Type.Optional(
    Repeated(
      'state condition "<JSON path> <op> <JSON value>": path $ then .name, ["name"] or [index], optionally .length; op =, !=, <, >, contains, exists (no value); e.g. $.intent = "billing", $.items.length > 3',
    ),
  ),
  state_of: Type.Optional(
    Type.Union([Type.Literal('end'), Type.Literal('start')], {
      description: 'which state the conditions test (default end)',
    }),
  ),
  from: Type.Optional(Instant('runs that started at or after this instant')),
  to: Type.Optional(Instant('runs that started before this instant')),
});
