// Prompt and completion as OTLP log records, from the real OpenTelemetry GenAI instrumentation of the
// official `openai` client (captureMessageContent): the app calls a local OpenAI-compatible provider,
// exports its spans over OTLP/HTTP and its log records with the stock logs exporters (OTLP/HTTP JSON
// for one call, OTLP/gRPC for the other), and the server stores the records, serves them per span,
// and the playground prefill read from them gives back the prompt and the answer; once per span store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { OTLPLogExporter as OTLPLogExporterGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as OTLPLogExporterHttp } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
// instrumentation-openai patches `openai` <7 only; the project's own client is 7.x.
import OpenAIv6 from 'openai-v6';
import type { LogRecord, Span } from '../../src/features/otel/schemas.ts';
import { prefillFromSpan } from '../../web/src/lib/playground_prefill.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { startOpenAiCompatibleServer } from '../support/openai_compatible_server.ts';
import { SPAN_STORES, startServerProcess } from '../support/server_process.ts';
import { waitFor } from '../support/wait.ts';

const resource = resourceFromAttributes({ 'service.name': 'genai-app' });

for (const spanStore of SPAN_STORES) {
  test(`GenAI prompt and completion log records, exported over OTLP/HTTP and gRPC, are stored per span and pre-fill the playground (${spanStore})`, {
    timeout: 180_000,
  }, async (t) => {
    const provider = await startOpenAiCompatibleServer();
    t.after(() => provider.close());
    const server = await startServerProcess({ spanStore });
    t.after(() => server.cleanup());
    const session = await signIn(server.baseUrl);
    const { key } = await createApiKey(session);
    const otlpHttp = `http://127.0.0.1:${server.ports.otlpHttp}`;

    const tracerProvider = new BasicTracerProvider({
      resource,
      spanProcessors: [
        new SimpleSpanProcessor(
          new OTLPTraceExporter({ url: `${otlpHttp}/v1/traces`, headers: { 'x-junjo-api-key': key } }),
        ),
      ],
    });
    t.after(() => tracerProvider.shutdown());
    const instrumentation = new OpenAIInstrumentation({ captureMessageContent: true });
    instrumentation.setTracerProvider(tracerProvider);
    t.after(() => instrumentation.disable());
    // The aliased package name hides the module from the instrumentation's load hooks, so its own
    // module definition patches it directly (what the hook would do on `import 'openai'`).
    const [definition] = instrumentation.getModuleDefinitions();
    assert.ok(definition?.patch, 'instrumentation-openai defines its openai module patch');
    definition.patch({ OpenAI: OpenAIv6 }, '6.30.1');
    const app = new OpenAIv6({ baseURL: provider.baseURL, apiKey: 'sk-app-key', maxRetries: 0 });

    const grpcMetadata = new Metadata();
    grpcMetadata.set('x-junjo-api-key', key);
    const exporters: Array<[string, LogRecordExporter]> = [
      [
        'OTLP/HTTP',
        new OTLPLogExporterHttp({ url: `${otlpHttp}/v1/logs`, headers: { 'x-junjo-api-key': key } }),
      ],
      [
        'OTLP/gRPC',
        new OTLPLogExporterGrpc({ url: `http://127.0.0.1:${server.ports.otlpGrpc}`, metadata: grpcMetadata }),
      ],
    ];
    const seen = new Set<string>();
    for (const [transport, exporter] of exporters) {
      const loggerProvider = new LoggerProvider({
        resource,
        processors: [new BatchLogRecordProcessor({ exporter })],
      });
      instrumentation.setLoggerProvider(loggerProvider);
      const person = transport === 'OTLP/HTTP' ? 'Ada' : 'Grace';
      const messages = [
        { role: 'system' as const, content: 'Greet briefly.' },
        { role: 'user' as const, content: `Say hello to ${person}` },
      ];
      const answer = await app.chat.completions.create({ model: 'gpt-4o-mini', messages, temperature: 0.2 });
      assert.equal(answer.choices[0]?.message.content, `Echo: Say hello to ${person}`);
      await loggerProvider.forceFlush();
      await loggerProvider.shutdown();
      await tracerProvider.forceFlush();

      // The span (found by its name and service) and its records, once both are indexed.
      const span = await waitFor(
        async () => {
          const roots = (await (
            await session.request('GET', '/otel/service/genai-app/root_spans_filtered')
          ).json()) as Span[];
          return roots.find((s) => !seen.has(s.span_id)) ?? null;
        },
        `the ${transport} call's span`,
        90_000,
      );
      seen.add(span.span_id);
      const records = await waitFor(
        async () => {
          const response = await session.request(
            'GET',
            `/otel/trace/${span.trace_id}/span/${span.span_id}/logs`,
          );
          assert.equal(response.status, 200);
          const body = (await response.json()) as LogRecord[];
          return body.length === 3 ? body : null;
        },
        `the ${transport} call's log records`,
        90_000,
      );
      assert.deepEqual(
        records.map((r) => r.event_name),
        ['gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.choice'],
        transport,
      );
      assert.deepEqual(records[1]?.body, { content: `Say hello to ${person}` });
      assert.equal(records[0]?.service_name, 'genai-app');

      const prefill = prefillFromSpan(span, records);
      assert.equal(prefill.source, 'log records', transport);
      assert.deepEqual(prefill.messages, messages);
      assert.equal(prefill.original.output, `Echo: Say hello to ${person}`);
    }

    // The records are behind a session like every other span query.
    const anonymous = await fetch(
      `${server.baseUrl}/otel/trace/${'a'.repeat(32)}/span/${'b'.repeat(16)}/logs`,
    );
    assert.equal(anonymous.status, 401);
  });
}
