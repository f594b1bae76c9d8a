// The trace search payloads (GET /otel/search). The query string mirrors the search page's URL, so a
// search can be shared as a link; one schema per payload, as in features/otel/schemas.ts.
import { type Static, Type } from 'typebox';
import { ListQuerystring, Span } from '../otel/schemas.ts';

/** How far back `last` reaches. */
export const LAST_RANGES = ['15m', '1h', '24h', '7d'] as const;
export type LastRange = (typeof LAST_RANGES)[number];

export const MAX_SEARCH_LIMIT = 500;
export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_ATTRIBUTE_FILTERS = 20;
/** Characters of one text parameter (a filter, the free text, a name). */
export const MAX_TEXT_LENGTH = 1024;

/** A duration bound beyond any span's (about 31 years), so that it stays a 64-bit microsecond count. */
const MAX_DURATION_MS = 1e12;

const Text = (description: string) => Type.String({ maxLength: MAX_TEXT_LENGTH, description });

export const SearchQuerystring = Type.Object({
  service: Type.String({
    minLength: 1,
    maxLength: MAX_TEXT_LENGTH,
    description: 'the service whose spans to search',
  }),
  name: Type.Optional(Text('the span name, exactly')),
  type: Type.Optional(Text('junjo_span_type, exactly: workflow, subflow, node, run_concurrent, agent')),
  status: Type.Optional(Type.Literal('error', { description: '`error`: only spans with STATUS_CODE_ERROR' })),
  min_ms: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: MAX_DURATION_MS,
      description: 'shortest duration, milliseconds (inclusive)',
    }),
  ),
  max_ms: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: MAX_DURATION_MS,
      description: 'longest duration, milliseconds (inclusive)',
    }),
  ),
  from: Type.Optional(Type.String({ description: 'RFC 3339: spans that started at or after this instant' })),
  to: Type.Optional(Type.String({ description: 'RFC 3339: spans that started at or before this instant' })),
  last: Type.Optional(
    Type.Union(
      LAST_RANGES.map((range) => Type.Literal(range)),
      { description: 'instead of from/to: spans that started this long ago or later' },
    ),
  ),
  attr: Type.Optional(
    Type.Array(
      Text(
        '`key = value`, `key != value`, `key exists`, `key < n`, `key > n`, `key between a and b`, `key contains text`',
      ),
      {
        maxItems: MAX_ATTRIBUTE_FILTERS,
        description: `attribute filters, repeated (at most ${MAX_ATTRIBUTE_FILTERS}); every one must hold`,
      },
    ),
  ),
  q: Type.Optional(Text('free text, contained (ignoring case) in the span name or an attribute value')),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_SEARCH_LIMIT,
      description: `page size (default ${DEFAULT_SEARCH_LIMIT}, at most ${MAX_SEARCH_LIMIT})`,
    }),
  ),
  before: ListQuerystring.properties.before,
  before_span_id: ListQuerystring.properties.before_span_id,
});
export type SearchQuerystring = Static<typeof SearchQuerystring>;

export const TraceRoot = Type.Object({
  span_id: Type.String(),
  name: Type.String(),
  service_name: Type.String(),
  start_time: Type.String({ description: 'RFC 3339 UTC with microseconds' }),
  end_time: Type.String({ description: 'RFC 3339 UTC with microseconds' }),
});

/** A found span, as the lists show spans, with the root span of its trace. */
export const SearchResult = Type.Object({
  ...Span.properties,
  trace_root: Type.Union([TraceRoot, Type.Null()], {
    description: 'the root span of the trace (null while it has not arrived)',
  }),
});
export type SearchResult = Static<typeof SearchResult>;
