// Spans from the real OpenInference instrumentation of the official `openai` client (not hand-written
// attributes): the app calls a local OpenAI-compatible provider, the spans are exported over OTLP/HTTP
// to the real server, and the playground prefill read from the stored span gives back the prompt, the
// model, the parameters, the JSON schema and the answer — which the playground API then re-runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import type { Span } from '../../src/features/otel/schemas.ts';
import { prefillFromSpan } from '../../web/src/lib/playground_prefill.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { startOpenAiCompatibleServer } from '../support/openai_compatible_server.ts';
import { startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';

const schema = {
  type: 'object',
  properties: { greeting: { type: 'string' } },
  required: ['greeting'],
  additionalProperties: false,
};

test('an OpenInference-instrumented openai call, stored by the server, pre-fills the playground and re-runs', {
  timeout: 120_000,
}, async (t) => {
  const provider = await startOpenAiCompatibleServer();
  t.after(() => provider.close());
  const server = await startServerProcess({
    env: { JUNJO_LLM_PROVIDERS: `openai=${provider.baseURL}`, JUNJO_LLM_KEY_OPENAI: 'sk-server-side-key' },
  });
  t.after(() => server.cleanup());
  const session = await signIn(server.baseUrl);
  const { key } = await createApiKey(session);

  // The application: the official client, instrumented, pointed at the local provider.
  const memory = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'instrumented-app' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const instrumentation = new OpenAIInstrumentation({ tracerProvider });
  instrumentation.manuallyInstrument(OpenAI);
  t.after(() => instrumentation.disable());
  const app = new OpenAI({ baseURL: provider.baseURL, apiKey: 'sk-app-key', maxRetries: 0 });
  const messages = [
    { role: 'system' as const, content: 'Greet as JSON.' },
    { role: 'user' as const, content: 'Say hello to Grace' },
  ];
  const answer = await app.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    temperature: 0.4,
    top_p: 0.8,
    max_tokens: 120,
    response_format: { type: 'json_schema', json_schema: { name: 'greeting', schema, strict: true } },
  });
  assert.equal(answer.choices[0]?.message.content, 'Echo: Say hello to Grace');
  const finished = memory.getFinishedSpans();
  assert.equal(finished.length, 1, 'the instrumentation made one span');

  const exporter = new OTLPTraceExporter({
    url: `http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`,
    headers: { 'x-junjo-api-key': key },
  });
  const exported = await new Promise<{ code: number; error?: Error }>((resolve) =>
    exporter.export(finished, resolve),
  );
  await exporter.shutdown();
  assert.equal(exported.code, 0, exported.error?.message);
  await waitFor(async () => (await indexedSpans(server.baseUrl)) >= 1, 'the span indexed');

  const traceId = finished[0]?.spanContext().traceId ?? '';
  const stored = (await (
    await session.request('GET', `/otel/trace/${traceId}/nested_spans`)
  ).json()) as Span[];
  const [span] = stored;
  assert.ok(span, 'the span is stored');
  const prefill = prefillFromSpan(span);
  assert.equal(prefill.source, 'llm.input_messages');
  assert.deepEqual(prefill.messages, messages);
  assert.equal(prefill.model, 'gpt-4o-mini-2026', 'the model the provider answered with');
  assert.deepEqual(prefill.params, { temperature: 0.4, top_p: 0.8, max_tokens: 120 });
  assert.deepEqual(prefill.responseFormat, {
    type: 'json_schema',
    json_schema: { name: 'greeting', schema, strict: true },
  });
  assert.equal(prefill.original.output, 'Echo: Say hello to Grace');
  assert.equal(prefill.original.tokensOut, 5);

  // Re-run it through the playground API, as the page does.
  const rerun = await session.request('POST', '/llm/generate', {
    provider: 'openai',
    model: 'gpt-4o-mini',
    messages: prefill.messages,
    ...prefill.params,
    response_format: prefill.responseFormat,
  });
  assert.equal(rerun.status, 200);
  const body = (await rerun.json()) as { choices: Array<{ message: { content: string } }> };
  assert.equal(body.choices[0]?.message.content, 'Echo: Say hello to Grace');
  const forwarded = provider.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
  assert.equal(forwarded?.headers.authorization, 'Bearer sk-server-side-key');
  assert.deepEqual(forwarded?.body?.response_format, prefill.responseFormat);
});
