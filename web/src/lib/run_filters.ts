// The workflow-runs filter bar's state lives in the page URL (`/services/S/workflows?workflow=W&
// node=N&…`, the shared URL contract) and is passed on, as is, to the API's filtered run list
// (/otel/service/{s}/workflow_runs takes the same parameter names). The server validates.

/** The filter parameters, in the order the bar shows them. Node and state ones may repeat. */
export const RUN_FILTER_KEYS = [
  'workflow',
  'node',
  'not_node',
  'failed_node',
  'min_ms',
  'max_ms',
  'state',
  'state_of',
  'from',
  'to',
] as const;
export type RunFilterKey = (typeof RUN_FILTER_KEYS)[number];

/** One text per key: what the bar's fields hold (repeated values joined by a new line). */
export type RunFilterForm = Record<RunFilterKey, string>;

const REPEATABLE = new Set<RunFilterKey>(['node', 'not_node', 'failed_node', 'state']);

/** The filter parameters of a page URL, without the page's other parameters or empty values. */
export function runFilterParams(search: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const key of RUN_FILTER_KEYS) {
    for (const value of search.getAll(key)) if (value.trim() !== '') out.append(key, value.trim());
  }
  // `end` is the default: leaving it out keeps URLs short and equal for equal filters.
  if (out.get('state_of') === 'end') out.delete('state_of');
  return out;
}

export function hasRunFilters(search: URLSearchParams): boolean {
  return runFilterParams(search).size > 0;
}

export function formFromParams(search: URLSearchParams): RunFilterForm {
  const params = runFilterParams(search);
  const form = Object.fromEntries(RUN_FILTER_KEYS.map((key) => [key, params.getAll(key).join('\n')]));
  return form as RunFilterForm;
}

/** The form as URL parameters: repeatable fields split into one value per line. */
export function paramsFromForm(form: RunFilterForm): URLSearchParams {
  const out = new URLSearchParams();
  for (const key of RUN_FILTER_KEYS) {
    const values = REPEATABLE.has(key) ? form[key].split('\n') : [form[key]];
    for (const value of values) out.append(key, value);
  }
  return runFilterParams(out);
}
