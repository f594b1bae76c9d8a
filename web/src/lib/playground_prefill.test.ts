import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  genAiEventsSpan,
  genAiMessagesSpan,
  genAiPromptSpan,
  type LlmSpanFixture,
  notAnLlmSpan,
  openInferenceInputValueSpan,
  openInferenceOpenAiSpan,
} from '../../../src/fixtures/llm_spans.ts';
import { isoAt, makeSpan } from './fixtures.ts';
import { matchProvider, prefillFromSpan } from './playground_prefill.ts';

const span = (fixture: LlmSpanFixture) =>
  makeSpan({ span_id: 'llm', startUs: 0, endUs: 1_250_000, ...fixture });

test('OpenInference flattened messages (the openai instrumentor): messages, model, parameters, JSON schema, original answer', () => {
  const prefill = prefillFromSpan(span(openInferenceOpenAiSpan));
  assert.equal(prefill.source, 'llm.input_messages');
  assert.deepEqual(prefill.messages, [
    { role: 'system', content: 'You pick one city and say why, as JSON.' },
    { role: 'user', content: 'Where should a data engineer spend a rainy week?' },
  ]);
  assert.equal(prefill.model, 'gpt-4o-mini-2024-07-18');
  assert.equal(prefill.provider, 'openai');
  assert.deepEqual(prefill.params, {
    temperature: 0.2,
    top_p: 0.9,
    max_tokens: 300,
    stop: ['END'],
    reasoning_effort: 'low',
  });
  assert.equal(prefill.responseFormat?.type, 'json_schema');
  assert.deepEqual(
    prefill.responseFormat?.type === 'json_schema' && prefill.responseFormat.json_schema.name,
    'answer',
  );
  assert.deepEqual(prefill.original, {
    output: '{"city":"Bergen","reason":"It rains there anyway, so you lose nothing."}',
    latencyMs: 1250,
    tokensIn: 41,
    tokensOut: 19,
    finishReason: 'stop',
  });
});

test('OpenInference with only input.value (Google GenAI): Gemini contents and system instruction become messages', () => {
  const prefill = prefillFromSpan(span(openInferenceInputValueSpan));
  assert.equal(prefill.source, 'input.value');
  assert.deepEqual(prefill.messages, [
    { role: 'system', content: 'Answer with the number only.' },
    { role: 'user', content: 'Name a prime above 100.' },
    { role: 'assistant', content: '101.' },
    { role: 'user', content: 'And one above 1000?' },
  ]);
  assert.equal(prefill.model, 'gemini-2.5-flash');
  assert.equal(prefill.provider, 'google');
  assert.deepEqual(prefill.params, { temperature: 0.7, max_tokens: 1024, stop: ['##'] });
  assert.equal(prefill.responseFormat, null);
  assert.equal(prefill.original.output, '1009');
});

test('plain-text input.value is one user message', () => {
  const prefill = prefillFromSpan(
    makeSpan({
      span_id: 'x',
      attributes_json: { 'openinference.span.kind': 'LLM', 'input.value': 'Hi there' },
    }),
  );
  assert.deepEqual(prefill.messages, [{ role: 'user', content: 'Hi there' }]);
});

test('GenAI semconv JSON messages: system instructions first, parts joined, request parameters, json output', () => {
  const prefill = prefillFromSpan(span(genAiMessagesSpan));
  assert.equal(prefill.source, 'gen_ai.input.messages');
  assert.deepEqual(prefill.messages, [
    { role: 'system', content: 'You are a careful travel agent.' },
    { role: 'user', content: 'Book me somewhere warm in March.' },
    { role: 'assistant', content: 'Which continent?' },
    { role: 'user', content: 'Europe, near the sea.' },
  ]);
  assert.equal(prefill.model, 'claude-sonnet-4-5');
  assert.equal(prefill.provider, 'anthropic');
  assert.deepEqual(prefill.params, { temperature: 0.5, top_p: 0.95, max_tokens: 512, stop: ['</answer>'] });
  assert.deepEqual(prefill.responseFormat, { type: 'json_object' });
  assert.deepEqual(prefill.original, {
    output: '{"destination":"Valletta"}',
    latencyMs: 1250,
    tokensIn: 58,
    tokensOut: 9,
    finishReason: 'stop',
  });
});

test('GenAI gen_ai.prompt.N attributes (OpenLLMetry) and gen_ai.prompt as one JSON list', () => {
  const prefill = prefillFromSpan(span(genAiPromptSpan));
  assert.equal(prefill.source, 'gen_ai.prompt');
  assert.deepEqual(prefill.messages, [
    { role: 'system', content: 'Classify the sentiment as positive, negative or neutral.' },
    { role: 'user', content: 'The workflow finally finished, two hours late.' },
  ]);
  assert.equal(prefill.provider, 'openai');
  assert.deepEqual(prefill.params, { temperature: 0, max_tokens: 64 });
  assert.equal(prefill.original.output, 'negative');
  assert.equal(prefill.original.finishReason, 'stop');

  const asJson = prefillFromSpan(
    makeSpan({
      span_id: 'j',
      attributes_json: {
        'gen_ai.system': 'openai',
        'gen_ai.prompt': JSON.stringify([
          {
            role: 'user',
            content: [
              { type: 'text', text: 'one' },
              { type: 'text', text: 'two' },
            ],
          },
        ]),
      },
    }),
  );
  assert.deepEqual(asJson.messages, [{ role: 'user', content: 'one\ntwo' }]);
});

test('GenAI span events: one message per event, the choice as the original answer', () => {
  const prefill = prefillFromSpan(span(genAiEventsSpan));
  assert.equal(prefill.source, 'span events');
  assert.deepEqual(prefill.messages, [
    { role: 'system', content: 'Write haiku only.' },
    { role: 'user', content: 'A haiku about write-ahead logs.' },
  ]);
  assert.equal(prefill.model, 'gpt-4o');
  assert.deepEqual(prefill.params, { temperature: 1 });
  assert.equal(prefill.original.output, 'fsync at midnight / records wait in their segments');
  assert.equal(prefill.original.finishReason, 'length');
  assert.equal(prefill.original.tokensOut, 16);
});

test('log records of the span (the OTel openai instrumentation with content capture) fill in the messages', () => {
  const bare = makeSpan({
    span_id: 'g',
    start_time: isoAt(0),
    end_time: isoAt(2_000),
    attributes_json: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
    },
  });
  const prefill = prefillFromSpan(bare, [
    {
      event_name: 'gen_ai.system.message',
      body: { content: 'Be brief.' },
      attributes: { 'gen_ai.system': 'openai' },
    },
    { event_name: '', body: { content: 'Hello?' }, attributes: { 'event.name': 'gen_ai.user.message' } },
    {
      event_name: 'gen_ai.choice',
      body: { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hi.' } },
      attributes: {},
    },
  ]);
  assert.equal(prefill.source, 'log records');
  assert.deepEqual(prefill.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello?' },
  ]);
  assert.equal(prefill.original.output, 'Hi.');
  assert.equal(prefill.original.finishReason, 'stop');
  assert.equal(prefill.original.latencyMs, 2);
});

test('a span with no prompt anywhere gives an empty message list and no source', () => {
  const prefill = prefillFromSpan(span(notAnLlmSpan));
  assert.equal(prefill.source, null);
  assert.deepEqual(prefill.messages, []);
  assert.equal(prefill.model, null);
});

test('the span provider picks a configured provider by name, alias, or falls back to the first', () => {
  assert.equal(matchProvider('openai', ['ollama', 'openai']), 'openai');
  assert.equal(matchProvider('google', ['openai', 'gemini']), 'gemini');
  assert.equal(matchProvider('Anthropic', ['my-anthropic-proxy', 'openai']), 'my-anthropic-proxy');
  assert.equal(matchProvider('mistral', ['ollama', 'openai']), 'ollama');
  assert.equal(matchProvider(null, []), null);
});
