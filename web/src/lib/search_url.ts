// The trace search page's URL ↔ its form, and the URL → GET /otel/search. The API takes the page's
// own query parameters, so a search link and its API request say the same thing; this module keeps
// only the parameters the search knows, in one order, without empty ones.

export const LAST_RANGES = ['15m', '1h', '24h', '7d'] as const;
export type LastRange = (typeof LAST_RANGES)[number];

export interface SearchForm {
  service: string;
  name: string;
  type: string;
  errorsOnly: boolean;
  /** milliseconds, as typed */
  minMs: string;
  maxMs: string;
  /** A relative range, or absolute bounds (RFC 3339, either may be empty). */
  range: { last: LastRange } | { from: string; to: string };
  /** One attribute filter per entry, in the text form the API reads (`key = value`, …). */
  attrs: string[];
  q: string;
}

const DEFAULT_LAST: LastRange = '24h';

export function emptySearchForm(service = ''): SearchForm {
  return {
    service,
    name: '',
    type: '',
    errorsOnly: false,
    minMs: '',
    maxMs: '',
    range: { last: DEFAULT_LAST },
    attrs: [],
    q: '',
  };
}

const isLastRange = (value: string | null): value is LastRange =>
  (LAST_RANGES as readonly (string | null)[]).includes(value);

export function formFromParams(params: URLSearchParams): SearchForm {
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const last = params.get('last');
  return {
    service: params.get('service') ?? '',
    name: params.get('name') ?? '',
    type: params.get('type') ?? '',
    errorsOnly: params.get('status') === 'error',
    minMs: params.get('min_ms') ?? '',
    maxMs: params.get('max_ms') ?? '',
    // Absolute bounds win only when there is no relative range, as the API reads them.
    range:
      isLastRange(last) || (from === '' && to === '')
        ? { last: isLastRange(last) ? last : DEFAULT_LAST }
        : { from, to },
    attrs: params.getAll('attr').filter((attr) => attr.trim() !== ''),
    q: params.get('q') ?? '',
  };
}

/** The page URL's query of a form: what a bookmark keeps. */
export function paramsFromForm(form: SearchForm): URLSearchParams {
  const params = new URLSearchParams();
  const put = (key: string, value: string) => {
    if (value.trim() !== '') params.set(key, value.trim());
  };
  put('service', form.service);
  put('name', form.name);
  put('type', form.type);
  if (form.errorsOnly) params.set('status', 'error');
  put('min_ms', form.minMs);
  put('max_ms', form.maxMs);
  if ('last' in form.range) {
    params.set('last', form.range.last);
  } else {
    put('from', form.range.from);
    put('to', form.range.to);
  }
  for (const attr of form.attrs) if (attr.trim() !== '') params.append('attr', attr.trim());
  put('q', form.q);
  return params;
}

/** The GET /otel/search query for the page's URL (the same parameters, canonical order). */
export function searchApiQuery(params: URLSearchParams): URLSearchParams {
  return paramsFromForm(formFromParams(params));
}

/** Attribute filters typed one per line → the form's list. */
export function attrsFromLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** A `datetime-local` input's value (local time, minutes) ↔ RFC 3339 UTC. */
export function localInputToRfc3339(value: string): string {
  if (value === '') return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

export function rfc3339ToLocalInput(value: string): string {
  const date = new Date(value);
  if (value === '' || Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
