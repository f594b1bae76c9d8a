// Trace search (issue #15): one session-protected GET whose query string is the search page's URL,
// so a search can be bookmarked and shared. A thin adapter from the request to SearchService.
import { Type } from 'typebox';
import type { HttpPlugin } from '../../http/app.ts';
import type { SpanReader } from '../../spans/span_store.ts';
import { sendJson } from '../otel/routes.ts';
import { ErrorMessage } from '../otel/schemas.ts';
import { FILTER_SYNTAX } from './attribute_filter.ts';
import { SearchQuerystring, SearchResult } from './schemas.ts';
import { MAX_RANGE_DAYS, SearchService } from './search_service.ts';

const DESCRIPTION = `Spans of one service that match every condition given, newest first (start_time, then \
span_id, descending), each with the root span of its trace. The time range is \`last\`, or \`from\`/\`to\` \
(at most ${MAX_RANGE_DAYS} days apart; \`to\` defaults to now, \`from\` to a day before \`to\`); without \
either, the last 24 hours. Attribute filters (\`attr\`, repeated) read ${FILTER_SYNTAX}; a value may be \
double-quoted to keep surrounding spaces. An attribute's text is a string value itself, or any other \
value's JSON text; \`!=\` and \`contains\` need the attribute present; \`<\`, \`>\` and \`between\` \
(inclusive) match JSON numbers only. For the next page pass the last result's start_time as \`before\` \
and its span_id as \`before_span_id\`.`;

export function searchRoutes(deps: { store: SpanReader }): HttpPlugin {
  const service = new SearchService(deps.store);
  return async (app) => {
    app.get(
      '/otel/search',
      {
        schema: {
          tags: ['otel'],
          summary: 'Search the spans of a service by name, type, status, duration, time, attributes and text',
          description: DESCRIPTION,
          querystring: SearchQuerystring,
          response: { 200: Type.Array(SearchResult), 400: ErrorMessage },
        },
      },
      async (request, reply) => sendJson(reply, await service.search(request.query)),
    );
  };
}
