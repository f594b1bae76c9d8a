// The web UI against the real server in headless Chromium (issue 6, "Tests"): setup → sign in →
// create a key → export a workflow trace with a stock OTel exporter using that key → the service →
// the workflow run → the graph → step through the state and check the diff → the trace waterfall →
// a span's details → delete the key → sign out, once per span store. Screenshots of each page go to
// test-output/e2e/<store>.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Page } from 'playwright-core';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { SPAN_STORES, startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

const SHOTS = path.resolve(import.meta.dirname, '../../test-output/e2e');
const USER = { email: 'e2e@example.com', password: 'correct horse battery staple' };
const SERVICE = 'e2e-chat-service';

function exportSpans(port: number, apiKey: string, spans: ReadableSpan[]) {
  const metadata = new Metadata();
  metadata.set('x-junjo-api-key', apiKey);
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}`, metadata });
  return new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve)).finally(
    () => exporter.shutdown(),
  );
}

// Once per span store: the same walk-through, the same answers.
for (const spanStore of SPAN_STORES) {
  test(`the whole product in Chromium on ${spanStore}: accounts, a key, an exported workflow, its debugger and trace`, {
    timeout: 180_000,
  }, async (t) => {
    const server = await startServerProcess({ spanStore });
    t.after(() => server.cleanup());
    const home = await fetch(`${server.baseUrl}/`, { headers: { accept: 'text/html' } });
    assert.equal(home.status, 200, 'the server serves the built web UI at / (run `npm run build:web`)');

    const shots = path.join(SHOTS, spanStore);
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    const browser = await launchChromium();
    t.after(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // The two 401s the walk-through provokes: the session probe while signed out, and the users
    // list after the session cookie is dropped.
    const problems = recordProblems(page, [SIGNED_OUT_PROBE, /status of 401 .*\/users\)/]);
    let shot = 0;
    const screenshot = async (name: string) => {
      shot += 1;
      await page.screenshot({ path: path.join(shots, `${String(shot).padStart(2, '0')}-${name}.png`) });
    };
    try {
      await walkThrough();
    } catch (error) {
      // What the page showed, what it logged and what the server logged.
      await page.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
      t.diagnostic(
        `url: ${page.url()}\nconsole: ${problems.join('\n')}\nserver: ${server.output().slice(-3000)}`,
      );
      throw error;
    }
    assert.deepEqual(problems, [], 'no console errors or warnings');

    async function walkThrough() {
      // Setup: no user yet, so the app opens the first-user form and signs the new user in.
      await page.goto(server.baseUrl);
      await page.waitForURL(/\/setup$/);
      await screenshot('setup');
      await signInThroughUi(page, USER.email, USER.password);
      // No API key yet: the first stop is the API keys page (test/e2e/debugger.test.ts looks closer).
      await page.waitForURL(/\/settings\/api-keys$/);
      await page.click('nav[aria-label=Main] >> text=Services');
      await page.waitForSelector('text=No spans received yet');
      await screenshot('services-empty');

      // Sign out and back in through the sign-in form.
      await page.click('button:has-text("Sign out")');
      await page.waitForURL(/\/sign-in/);
      await screenshot('sign-in');
      await signInThroughUi(page, USER.email, USER.password);

      // Create an API key: shown once, with exporter setup.
      await page.click('nav[aria-label=Main] >> text=API keys');
      await page.fill('input[name=name]', 'e2e exporter');
      await page.click('button:has-text("Create key")');
      const apiKey = (await page.textContent('[data-testid=new-api-key]'))?.trim() ?? '';
      assert.match(apiKey, /^[0-9A-Za-z]{64}$/);
      assert.ok(await page.isVisible('text=JunjoServerOtelExporter('), 'the Junjo SDK setup is shown');
      await screenshot('api-key-created');
      await page.click('button:has-text("I have copied the key")');
      await page.waitForSelector(`td:has-text("${apiKey.slice(0, 8)}")`);
      await screenshot('api-keys');

      // A stock OpenTelemetry exporter sends a legacy Junjo workflow trace with that key.
      const fixture = legacyWorkflowTrace({
        seed: 7,
        serviceName: SERVICE,
        startTimeUnixNano: BigInt(Date.now() - 60_000) * 1_000_000n,
      });
      const spans = toReadableSpans(toExportRequest(fixture.spans));
      const sent = await exportSpans(server.ports.otlpGrpc, apiKey, spans);
      assert.equal(sent.code, ExportResultCode.SUCCESS, sent.error?.message);
      await waitFor(
        async () => (await indexedSpans(server.baseUrl, USER)) >= fixture.spans.length,
        'spans indexed',
      );

      // The service, its workflow runs, the run.
      await page.click('nav[aria-label=Main] >> text=Services');
      await page.waitForSelector(`a:has-text("${SERVICE}")`);
      await screenshot('services');
      await page.click(`a:has-text("${SERVICE}")`);
      await page.waitForSelector('tbody tr');
      await screenshot('workflow-runs');
      await page.click('tbody tr >> a:has-text("sample_workflow")');

      // The graph: every node of the run drawn, the executed ones marked.
      await page.waitForSelector('.react-flow__node');
      const drawn = await page.$$eval('.react-flow__node', (nodes) => nodes.length);
      assert.ok(drawn >= 8, `the graph shows the workflow's nodes (${drawn})`);
      assert.ok(await page.isVisible('.react-flow__node >> text=IncrementNode'));
      assert.ok(await page.isVisible('.gnode.ran >> text=AddTenNode'), 'executed nodes are highlighted');
      await screenshot('workflow-debugger');

      // Step 1 is IncrementNode's `increment`: count 0 → 1.
      await assertStep(page, 1, 'increment');
      const first = await page.textContent('.change');
      assert.match(first ?? '', /count/);
      assert.deepEqual(await changeValues(page), ['0', '1']);
      // → moves to the next update: step_1 appends an item.
      await page.keyboard.press('ArrowRight');
      await assertStep(page, 2, 'step_1');
      assert.match((await page.textContent('.change')) ?? '', /items\[2\]\s*added/);
      await page.click('role=tab[name=/After/]');
      await page.waitForSelector('.json-row.diff-added');
      await screenshot('workflow-step-2-after');
      await page.keyboard.press('ArrowLeft');
      await assertStep(page, 1, 'increment');

      // Clicking a node shows the span that ran it.
      await page.click('.react-flow__node >> text=AddTenNode');
      await page.click('role=tab[name=/Span details/]');
      await page.waitForSelector('.span-details h2:has-text("AddTenNode")');
      await screenshot('workflow-node-span');

      // The trace waterfall, then one span's details (the LLM call inside AddTenNode).
      await page.click('text=Trace waterfall');
      await page.waitForSelector('.wf-row');
      await page.waitForSelector(`text=${fixture.spans.length} of ${fixture.spans.length} spans shown`);
      await screenshot('trace-waterfall');
      await page.click('.wf-row >> text=GenerateContent');
      await page.waitForSelector('.span-details >> text=LLM call');
      assert.ok(await page.isVisible('.span-details >> text=gemini-2.5-flash'));
      assert.match(page.url(), /[?&]span=[0-9a-f]{16}/, 'the selected span is in the URL');
      await screenshot('trace-span-details');

      // A session that ends on the server (here: its cookie is gone) sends the next request's 401 to
      // the sign-in page, which returns to where the user was going.
      await page.context().clearCookies();
      await page.click('nav[aria-label=Main] >> text=Users');
      await page.waitForURL(/\/sign-in\?next=%2Fsettings%2Fusers$/);
      await signInThroughUi(page, USER.email, USER.password);
      await page.waitForURL(/\/settings\/users$/);
      await page.waitForSelector(`th:has-text("${USER.email}")`);
      await screenshot('users');

      // Delete the key (with confirmation); the server then refuses it.
      await page.click('nav[aria-label=Main] >> text=API keys');
      await page.click('button:has-text("Delete")');
      await page.click('dialog >> button:has-text("Delete key")');
      await page.waitForSelector('text=No API keys yet');
      await screenshot('api-key-deleted');
      const refused = await waitFor(
        async () =>
          (await exportSpans(server.ports.otlpGrpc, apiKey, spans)).code === ExportResultCode.FAILED,
        'the deleted key to be refused',
        5_000,
      );
      assert.ok(refused);

      // Sign out: back to the sign-in page, and protected pages send you there.
      await page.click('button:has-text("Sign out")');
      await page.waitForURL(/\/sign-in/);
      await page.goto(`${server.baseUrl}/settings/users`);
      await page.waitForURL(/\/sign-in\?next=%2Fsettings%2Fusers/);
      await screenshot('signed-out');
    }
  });
}

async function assertStep(page: Page, number: number, action: string) {
  await page.waitForSelector(`.stepper-position:has-text("Step ${number} of")`);
  await page.waitForSelector(`.step-summary >> text=${action}`);
}

/** The old and new value shown by the first row of the Changes tab. */
function changeValues(page: Page): Promise<string[]> {
  return page.$$eval('.changes > li:first-child code.value', (codes) =>
    codes.map((c) => c.textContent ?? ''),
  );
}
