// The otel routes (and the search beside them) are never public (behind the session guard they answer 401 without a session)
// and all of them are documented in /openapi.json.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { HttpPlugin } from '../../http/app.ts';
import { searchRoutes } from '../search/routes.ts';
import { hexId, type OtelTestServer, startOtelServer } from './test_helpers.ts';

const OTEL_ROUTES = [
  '/otel/span_service_names',
  '/otel/span-service-names',
  '/otel/services',
  '/otel/service/:service_name/root_spans',
  '/otel/service/:service_name/root-spans',
  '/otel/service/:service_name/root_spans_filtered',
  '/otel/service/:service_name/root-spans-filtered',
  '/otel/spans/type/workflow/:service_name',
  '/otel/trace/:trace_id/nested_spans',
  '/otel/trace/:trace_id/nested-spans',
  '/otel/trace/:trace_id/compact',
  '/otel/trace/:trace_id/span/:span_id',
  '/otel/trace/:trace_id/span/:span_id/logs',
  '/otel/trace/:trace_id/otlp',
  '/otel/trace/:trace_id/state_patches',
  '/otel/search',
];

// A stand-in for the accounts guard: every route that is not `public` needs the header.
const routes: RouteOptions[] = [];
const guard: HttpPlugin = fp(async (app) => {
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public !== true && request.headers['x-test-session'] !== 'ok') {
      return reply.status(401).send({ message: 'Unauthorized: No valid session' });
    }
  });
});

let server: OtelTestServer;
before(async () => {
  server = await startOtelServer({ guards: [guard], features: (store) => [searchRoutes({ store })] });
});
after(() => server.close());

const concrete = (route: string) =>
  route
    .replace('/otel/search', '/otel/search?service=svc')
    .replace(':service_name', 'svc')
    .replace(':trace_id', hexId(1, 32))
    .replace(':span_id', hexId(1, 16));

test('no otel route is public: each needs the session and answers once it has one', async () => {
  const registered = routes.filter((route) => route.url.startsWith('/otel/') && route.method === 'GET');
  assert.deepEqual(registered.map((route) => route.url).sort(), [...OTEL_ROUTES].sort());
  for (const route of registered) assert.notEqual(route.config?.public, true, route.url);
  for (const route of OTEL_ROUTES) {
    const denied = await fetch(server.url + concrete(route));
    assert.equal(denied.status, 401, route);
    const allowed = await fetch(server.url + concrete(route), { headers: { 'x-test-session': 'ok' } });
    assert.ok([200, 404].includes(allowed.status), `${route}: ${allowed.status}`);
  }
});

test('/openapi.json documents every otel route with a tag, a summary and its responses', async () => {
  const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
    paths: Record<
      string,
      { get?: { tags?: string[]; summary?: string; responses?: Record<string, unknown> } }
    >;
  };
  for (const route of OTEL_ROUTES) {
    const openApiPath = route.replace(/:(\w+)/g, '{$1}');
    const get = spec.paths[openApiPath]?.get;
    assert.ok(get, openApiPath);
    assert.deepEqual(get.tags, ['otel']);
    assert.ok(get.summary && get.summary.length > 10, openApiPath);
    assert.ok(get.responses?.['200'], openApiPath);
  }
  const rootSpans = spec.paths['/otel/service/{service_name}/root_spans']?.get as {
    parameters?: { name: string; in: string }[];
  };
  assert.deepEqual(rootSpans.parameters?.map((p) => `${p.in}:${p.name}`).sort(), [
    'path:service_name',
    'query:before',
    'query:before_span_id',
    'query:limit',
  ]);
});
