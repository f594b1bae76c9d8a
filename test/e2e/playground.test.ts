// The prompt playground in Chromium against the real server and a local OpenAI-compatible provider:
// a workflow trace with an LLM span → the span's "Open in playground" → the prompt pre-filled from
// the span → edit → Run → the answer streams in, next to the original, with a diff. Screenshots go
// to test-output/e2e-playground.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { startOpenAiCompatibleServer } from '../support/openai_compatible_server.ts';
import { startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, signInThroughUi } from './browser.ts';

const SHOTS = path.resolve(import.meta.dirname, '../../test-output/e2e-playground');
const USER = { email: 'playground@example.com', password: 'correct horse battery staple' };
const PROVIDER_KEY = 'sk-e2e-provider-key-never-in-the-browser';

test('LLM span → playground → edit → run: streamed answer and diff on screen, no console errors', {
  timeout: 180_000,
}, async (t) => {
  const provider = await startOpenAiCompatibleServer();
  t.after(() => provider.close());
  // The fixture's LLM span says provider "google": the playground picks the provider of that name.
  const server = await startServerProcess({
    env: { JUNJO_LLM_PROVIDERS: `google=${provider.baseURL}`, JUNJO_LLM_KEY_GOOGLE: PROVIDER_KEY },
  });
  t.after(() => server.cleanup());

  const session = await signIn(server.baseUrl, USER.email, USER.password);
  const { key } = await createApiKey(session);
  const fixture = legacyWorkflowTrace({
    seed: 11,
    serviceName: 'playground-e2e',
    startTimeUnixNano: BigInt(Date.now() - 60_000) * 1_000_000n,
  });
  const sent = await postOtlp(
    server.ports.otlpHttp,
    '/v1/traces',
    encodeTraceRequestProtobuf(toExportRequest(fixture.spans)),
    { contentType: 'application/x-protobuf', apiKey: key },
  );
  assert.equal(sent.status, 200);
  await waitFor(
    async () => (await indexedSpans(server.baseUrl, USER)) >= fixture.spans.length,
    'spans indexed',
  );
  const traceId = bytesToHex(fixture.spans[0]?.span.traceId ?? new Uint8Array());
  const spans = (await (
    await session.request('GET', `/otel/trace/${traceId}/nested_spans`)
  ).json()) as Array<{
    span_id: string;
    attributes_json: Record<string, unknown>;
  }>;
  const llmSpan = spans.find((s) => s.attributes_json['openinference.span.kind'] === 'LLM');
  assert.ok(llmSpan, 'the fixture trace has an LLM span');
  const prompt = String(llmSpan.attributes_json['llm.input_messages.0.message.content']);

  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  // The 401 of the session probe before sign-in, and the provider's 429 the test provokes.
  const problems = recordProblems(page, [
    /status of 401 .*\/auth-test\)/,
    /status of 429 .*\/llm\/generate\)/,
  ]);
  const pageText: string[] = [];
  page.on('response', async (response) => {
    if (response.url().includes('/llm/')) pageText.push(await response.text().catch(() => ''));
  });
  try {
    await page.goto(server.baseUrl);
    await signInThroughUi(page, USER.email, USER.password);
    await page.goto(`${server.baseUrl}/traces/${traceId}?span=${llmSpan.span_id}`);
    await page.click('[data-testid=open-in-playground]');
    await page.waitForURL(/\/playground\?trace=/);
    assert.ok(
      page.url().includes(`span=${llmSpan.span_id}`),
      'the playground URL names the span (deep link)',
    );

    // Pre-filled from the span: its message, its model, its provider.
    const first = page.locator('textarea[aria-label="Content of message 1"]');
    await first.waitFor();
    assert.equal(await first.inputValue(), prompt);
    assert.equal(await page.inputValue('input[name=model]'), 'gemini-2.5-flash');
    assert.equal(await page.inputValue('input[name=temperature]'), '0.2');
    await page.screenshot({ path: path.join(SHOTS, '01-prefilled.png') });

    // Edit: a new message text, one more message moved above it.
    await first.fill('Say hello to the playground test');
    await page.click('text=+ Add message');
    await page.selectOption('select[aria-label="Role of message 2"]', 'system');
    await page.fill('textarea[aria-label="Content of message 2"]', 'Be brief.');
    await page.click('button[aria-label="Move message 2 up"]');
    await page.click('button:has-text("Run")');

    const right = page.locator('[data-testid=answer-right] [data-testid=answer-output]');
    await waitFor(
      async () => (await right.textContent())?.includes('Echo: Say hello to the playground test'),
      'the streamed answer on screen',
    );
    await page.locator('[data-testid=answer-right] [data-testid=finish-reason]:has-text("stop")').waitFor();
    const left = await page.textContent('[data-testid=answer-left] [data-testid=answer-output]');
    assert.match(left ?? '', /Adding ten keeps the count even/, 'the original output is on the left');
    const added = await page.textContent('[data-testid=answer-diff] ins');
    const removed = await page.textContent('[data-testid=answer-diff] del');
    assert.ok(added && removed, 'the diff marks added and removed text');
    await page.screenshot({ path: path.join(SHOTS, '02-run-and-diff.png'), fullPage: true });

    // What reached the provider: the edited messages, in the new order, with the key.
    const forwarded = provider.requests.find((r) => r.path === '/v1/chat/completions');
    assert.deepEqual(forwarded?.body?.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello to the playground test' },
    ]);
    assert.equal(forwarded?.body?.model, 'gemini-2.5-flash');
    assert.equal(forwarded?.headers.authorization, `Bearer ${PROVIDER_KEY}`);

    // A second run is kept beside the first (the user message is second now).
    await page.fill('textarea[aria-label="Content of message 2"]', 'Second variant');
    await page.click('button:has-text("Run")');
    await waitFor(
      async () => (await right.textContent())?.includes('Echo: Second variant'),
      'the second answer',
    );
    const choices = await page.$$eval('select[aria-label="left answer"] option', (options) =>
      options.map((o) => o.textContent),
    );
    assert.equal(choices.length, 3, 'original and both runs can be compared');

    // A provider failure is a clear message on the run, not a hung page.
    await page.fill('input[name=model]', 'fail-429');
    await page.click('button:has-text("Run")');
    const failure = page.locator('[data-testid=answer-right] [role=alert]');
    await failure.waitFor();
    assert.match((await failure.textContent()) ?? '', /Provider google is rate limiting \(429\)/);
    assert.ok(await page.isEnabled('button:has-text("Run")'), 'the page is ready for the next run');
    await page.screenshot({ path: path.join(SHOTS, '03-provider-failure.png'), fullPage: true });
  } catch (error) {
    await page.screenshot({ path: path.join(SHOTS, 'failure.png') }).catch(() => {});
    t.diagnostic(
      `url: ${page.url()}\nconsole: ${problems.join('\n')}\nserver: ${server.output().slice(-3000)}`,
    );
    throw error;
  }
  assert.deepEqual(problems, [], 'no console errors or warnings');
  assert.equal(pageText.join('').includes(PROVIDER_KEY), false, 'the provider key never reaches the browser');
  assert.equal(server.output().includes(PROVIDER_KEY), false, 'nor the server log');
});

test('with no provider configured the playground says which setting to use', {
  timeout: 120_000,
}, async (t) => {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems = recordProblems(page, [/status of 401 .*\/auth-test\)/]);
  await page.goto(server.baseUrl);
  await signInThroughUi(page, USER.email, USER.password);
  await page.click('nav[aria-label=Main] >> text=Playground');
  const notice = page.locator('[data-testid=no-providers]');
  await notice.waitFor();
  assert.match(
    (await notice.textContent()) ?? '',
    /No LLM provider is configured\..*Set JUNJO_LLM_PROVIDERS/,
  );
  assert.equal(await page.isDisabled('button:has-text("Run")'), true);
  assert.deepEqual(problems, [], 'no console errors or warnings');
});
