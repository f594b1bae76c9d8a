// The "Download OTLP" button on the trace page and on the workflow debugger, in Chromium: each saves
// the trace as the OTLP/JSON file that GET /otel/trace/{id}/otlp serves.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

const USER = { email: 'download@example.com', password: 'correct horse battery staple' };

test('the trace and workflow pages download the trace as OTLP/JSON', { timeout: 180_000 }, async (t) => {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const apiKey = (await createApiKey(await signIn(server.baseUrl, USER.email, USER.password))).key;
  const trace = legacyWorkflowTrace({ seed: 5 });
  const request = toExportRequest(trace.spans);
  const body = encodeTraceRequestProtobuf(request);
  const posted = await postOtlp(server.ports.otlpHttp, '/v1/traces', body, {
    apiKey,
    contentType: 'application/x-protobuf',
  });
  assert.equal(posted.status, 200);
  await waitFor(
    async () => (await indexedSpans(server.baseUrl, USER)) >= trace.spans.length,
    'the trace to be indexed',
  );
  const workflow = trace.spans.find(({ span }) =>
    span.attributes.some(
      (kv) => kv.key === 'junjo.span_type' && kv.value.type === 'string' && kv.value.value === 'workflow',
    ),
  );
  assert.ok(workflow);
  const workflowSpanId = Buffer.from(workflow.span.spanId).toString('hex');

  const browser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const problems = recordProblems(page, [SIGNED_OUT_PROBE]);
  await page.goto(server.baseUrl);
  await signInThroughUi(page, USER.email, USER.password);

  const downloadFrom = async (path: string, p: Page) => {
    await p.goto(`${server.baseUrl}${path}`);
    const button = p.locator('button:has-text("Download OTLP")');
    await button.waitFor();
    const [download] = await Promise.all([p.waitForEvent('download'), button.click()]);
    assert.equal(download.suggestedFilename(), `trace-${trace.traceId}.otlp.json`);
    const file = JSON.parse(await readFile((await download.path())!, 'utf8')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }>;
    };
    const spans = file.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    assert.equal(spans.length, trace.spans.length);
    assert.ok(spans.every((span) => span.traceId === trace.traceId));
  };
  await downloadFrom(`/traces/${trace.traceId}`, page);
  await downloadFrom(
    `/services/${encodeURIComponent(trace.serviceName)}/workflows/${trace.traceId}/${workflowSpanId}`,
    page,
  );
  assert.deepEqual(problems, [], 'no console errors or warnings');
});
