import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeSpan } from './fixtures.ts';
import { exceptionsOf, isErrorSpan, isLlmSpan, llmInfoOf } from './span_facts.ts';

test('exceptions come from `exception` events with their stack traces', () => {
  const span = makeSpan({
    span_id: 'n',
    status_code: 'STATUS_CODE_ERROR',
    events_json: [
      { name: 'set_state', timeUnixNano: 1, droppedAttributesCount: 0, attributes: {} },
      {
        name: 'exception',
        timeUnixNano: 2,
        droppedAttributesCount: 0,
        attributes: {
          'exception.type': 'ValueError',
          'exception.message': 'boom',
          'exception.stacktrace': 'Traceback…',
          'exception.escaped': 'False',
        },
      },
    ],
  });
  assert.ok(isErrorSpan(span));
  assert.deepEqual(exceptionsOf(span), [
    {
      source: 'exception',
      type: 'ValueError',
      message: 'boom',
      stacktrace: 'Traceback…',
      escaped: false,
      timeUnixNano: '2',
    },
  ]);
});

test('OpenInference LLM spans: model, JSON input, text output and token counts', () => {
  const info = llmInfoOf(
    makeSpan({
      span_id: 'llm',
      attributes_json: {
        'openinference.span.kind': 'LLM',
        'llm.provider': 'google',
        'llm.model_name': 'gemini-2.5-flash',
        'input.value': '{"contents":[{"text":"hi"}]}',
        'input.mime_type': 'application/json',
        'output.value': 'Hello!',
        'output.mime_type': 'text/plain',
        'llm.token_count.prompt': 12,
        'llm.token_count.completion': 3,
      },
    }),
  );
  assert.deepEqual(info && { ...info, invocationParameters: undefined }, {
    kind: 'LLM',
    provider: 'google',
    model: 'gemini-2.5-flash',
    input: { value: { contents: [{ text: 'hi' }] }, json: true },
    output: { value: 'Hello!', json: false },
    tokens: { prompt: 12, completion: 3, total: 15 },
    invocationParameters: undefined,
  });
});

test('GenAI semantic-convention spans count as LLM spans; ordinary spans do not', () => {
  const info = llmInfoOf(
    makeSpan({
      span_id: 'g',
      attributes_json: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-5',
        'gen_ai.usage.input_tokens': 7,
        'gen_ai.usage.output_tokens': 2,
      },
    }),
  );
  assert.equal(info?.provider, 'openai');
  assert.equal(info?.model, 'gpt-5');
  assert.deepEqual(info?.tokens, { prompt: 7, completion: 2, total: 9 });
  assert.equal(
    llmInfoOf(makeSpan({ span_id: 'plain', attributes_json: { 'openinference.span.kind': 'CHAIN' } })),
    null,
  );
});

test('LLM spans are the server’s LLM spans; a Junjo model request still shows its model details', () => {
  const attributes = (attributes_json: Record<string, unknown>) =>
    makeSpan({ span_id: 's', attributes_json });
  assert.ok(isLlmSpan(attributes({ 'openinference.span.kind': 'LLM' })));
  assert.ok(isLlmSpan(attributes({ 'gen_ai.operation.name': 'chat' })));
  assert.ok(isLlmSpan(attributes({ 'gen_ai.provider.name': 'openai' })));
  assert.equal(isLlmSpan(attributes({ 'gen_ai.system': 'openai' })), false, 'the deprecated key alone');
  const modelRequest = attributes({
    'junjo.agent.operation_type': 'model_request',
    'junjo.agent.model.provider': 'google',
    'junjo.agent.model.name': 'gemini-2.5-flash',
  });
  assert.equal(isLlmSpan(modelRequest), false);
  assert.equal(llmInfoOf(modelRequest)?.kind, 'model_request');
  assert.equal(llmInfoOf(modelRequest)?.model, 'gemini-2.5-flash');
});
