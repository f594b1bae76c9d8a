// The trace page in Chromium loads the compact trace, compressed, and a span's attributes only when
// the span is opened (once: a reopened span is not fetched again). The trace's LLM span carries a
// 100 KB prompt, which must not travel with the waterfall.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Response } from 'playwright-core';
import { legacyWorkflowTrace } from '../../src/fixtures/junjo_traces.ts';
import { waitFor } from '../support/wait.ts';
import { serveTraceInChromium } from './trace_in_chromium.ts';

const USER = { email: 'lazy@example.com', password: 'correct horse battery staple' };
const PROMPT = `Summarise this: ${'lorem ipsum '.repeat(9000)}`;

test('the trace page fetches the compact trace, and a span’s details only when it is opened', {
  timeout: 180_000,
}, async (t) => {
  const trace = legacyWorkflowTrace({ seed: 11 });
  const llm = trace.spans.find(({ span }) => span.name === 'GenerateContent');
  assert.ok(llm, 'the fixture has an LLM span');
  llm.span.attributes.push({
    key: 'llm.input_messages.1.message.content',
    value: { type: 'string', value: PROMPT },
  });
  const llmSpanId = Buffer.from(llm.span.spanId).toString('hex');
  const { server, page, problems } = await serveTraceInChromium(t, USER, trace.spans);

  const traceApi = `/otel/trace/${trace.traceId}/`;
  const responses: Response[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith(traceApi)) responses.push(response);
  });
  const requested = () => responses.map((r) => new URL(r.url()).pathname.slice(traceApi.length));

  await page.goto(`${server.baseUrl}/traces/${trace.traceId}`);
  await page.waitForSelector(`text=${trace.spans.length} of ${trace.spans.length} spans shown`);
  assert.deepEqual(requested(), ['compact'], 'the waterfall needs nothing but the compact trace');
  const compact = responses[0]!;
  assert.equal((await compact.allHeaders())['content-encoding'], 'br', 'the browser accepts br');
  const compactBody = await compact.text();
  assert.ok(!compactBody.includes('lorem ipsum'), 'the prompt is not in the compact trace');
  assert.equal((JSON.parse(compactBody) as unknown[]).length, trace.spans.length);

  await page.click('.wf-row >> text=GenerateContent');
  await page.waitForSelector('.span-details >> text=LLM call');
  await waitFor(async () => requested().includes(`span/${llmSpanId}`), 'the span is fetched');
  const full = responses.find((r) => r.url().endsWith(`span/${llmSpanId}`))!;
  assert.ok((await full.text()).includes(PROMPT), 'the opened span has its attributes');
  assert.ok(await page.isVisible('.span-details >> text=gemini-2.5-flash'));

  // Another span, then the LLM span again: each fetched once.
  await page.click('.wf-row >> text=AddTenNode');
  await page.waitForSelector('.span-details h2:has-text("AddTenNode")');
  await page.click('.wf-row >> text=GenerateContent');
  await page.waitForSelector('.span-details >> text=LLM call');
  const spanRequests = requested().filter((path) => path.startsWith('span/') && !path.endsWith('/logs'));
  assert.equal(spanRequests.length, 2, spanRequests.join(', '));
  assert.equal(new Set(spanRequests).size, 2, 'a reopened span is not fetched again');
  assert.ok(!requested().includes('nested_spans'));
  assert.deepEqual(problems, [], 'no console errors or warnings');
});
