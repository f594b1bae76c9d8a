// Trace search: the query string of GET /otel/search → a SpanSearch the span store answers, and its
// hits → the JSON of SearchResult. Every check that needs more than one field, or the clock, is here;
// the schema has already checked each field's shape and size.
import { invalidInput } from '../../errors.ts';
import { formatTimestamp, jsonArray, parseTimestamp, renderSpan } from '../../spans/span_json.ts';
import type { SpanSearch, SpanSearchHit } from '../../spans/span_search.ts';
import type { SpanReader } from '../../spans/span_store.ts';
import { pageRequest } from '../otel/service.ts';
import { parseAttributeFilter } from './attribute_filter.ts';
import { DEFAULT_SEARCH_LIMIT, type LastRange, type SearchQuerystring } from './schemas.ts';

const HOUR = 3_600_000_000n;
const LAST: Record<LastRange, bigint> = {
  '15m': HOUR / 4n,
  '1h': HOUR,
  '24h': 24n * HOUR,
  '7d': 168n * HOUR,
};
/** Without from/to or last, a search looks at the last day. */
const DEFAULT_RANGE: LastRange = '24h';
/** The longest from/to range: what bounds the rows a search may have to read. */
export const MAX_RANGE_DAYS = 31;

export class SearchService {
  readonly #store: SpanReader;
  readonly #nowMicros: () => bigint;

  constructor(store: SpanReader, nowMicros: () => bigint = () => BigInt(Date.now()) * 1000n) {
    this.#store = store;
    this.#nowMicros = nowMicros;
  }

  /** The page of hits as the JSON text of SearchResult[]. */
  async search(query: SearchQuerystring): Promise<string> {
    const page = pageRequest({ ...query, limit: query.limit ?? DEFAULT_SEARCH_LIMIT });
    const hits = await this.#store.searchSpans(this.spanSearch(query), page);
    return jsonArray(hits.map(resultJson));
  }

  /** The query string as a store search; InvalidInput naming the field when it cannot be one. */
  spanSearch(query: SearchQuerystring): SpanSearch {
    for (const [field, value] of Object.entries(query)) {
      const texts = Array.isArray(value) ? value : [value];
      if (texts.some((text) => typeof text === 'string' && text.includes('\u0000'))) {
        throw invalidInput(`${field} must not contain NUL characters`);
      }
    }
    const search: SpanSearch = {
      serviceName: query.service,
      window: this.#window(query),
      attributes: (query.attr ?? []).map((text, i) => parseAttributeFilter(text, `attr[${i}]`)),
    };
    if (query.name !== undefined && query.name !== '') search.name = query.name;
    if (query.type !== undefined && query.type !== '') search.spanType = query.type;
    if (query.status === 'error') search.errorsOnly = true;
    if (query.q !== undefined && query.q.trim() !== '') search.text = query.q.trim();
    if (query.min_ms !== undefined) search.minDurationMicros = micros(query.min_ms);
    if (query.max_ms !== undefined) search.maxDurationMicros = micros(query.max_ms);
    if (
      search.minDurationMicros !== undefined &&
      search.maxDurationMicros !== undefined &&
      search.minDurationMicros > search.maxDurationMicros
    ) {
      throw invalidInput('min_ms must not exceed max_ms');
    }
    return search;
  }

  #window(query: SearchQuerystring): SpanSearch['window'] {
    const now = this.#nowMicros();
    if (query.last !== undefined) {
      if (query.from !== undefined || query.to !== undefined) {
        throw invalidInput('last cannot be combined with from or to');
      }
      return { startMicros: now - LAST[query.last], endMicros: now };
    }
    const endMicros = query.to === undefined ? now : instant(query.to, 'to');
    const startMicros =
      query.from === undefined ? endMicros - LAST[DEFAULT_RANGE] : instant(query.from, 'from');
    if (startMicros > endMicros) throw invalidInput('from must not be after to');
    if (endMicros - startMicros > BigInt(MAX_RANGE_DAYS) * 24n * HOUR) {
      throw invalidInput(`from and to may be at most ${MAX_RANGE_DAYS} days apart`);
    }
    return { startMicros, endMicros };
  }
}

function instant(text: string, field: string): bigint {
  const micros = parseTimestamp(text);
  if (micros === null) {
    throw invalidInput(`${field} must be an RFC 3339 timestamp with at most microsecond precision`);
  }
  return micros;
}

/** Milliseconds (the schema allows fractions) → whole microseconds. */
function micros(ms: number): bigint {
  return BigInt(Math.round(ms * 1000));
}

/** The span's JSON with its trace root added (renderSpan's text ends with the object's `}`). */
function resultJson(hit: SpanSearchHit): string {
  const root = hit.traceRoot;
  const rootJson =
    root === null
      ? 'null'
      : JSON.stringify({
          span_id: root.spanId,
          name: root.name,
          service_name: root.serviceName,
          start_time: formatTimestamp(root.startTime),
          end_time: formatTimestamp(root.endTime),
        });
  return `${renderSpan(hit.span).slice(0, -1)},"trace_root":${rootJson}}`;
}
