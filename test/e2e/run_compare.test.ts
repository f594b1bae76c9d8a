// Workflow run filters and run comparison in Chromium against the real server (issue #15 points 2
// and 3): filtering the runs list by end state through the filter bar puts the filter in the URL and
// shows only the matching runs; two of them picked and compared open the comparison page with both
// graphs, the node that ran in one run only marked, its "not run" cell in the node table, and the
// first divergence of the aligned steps highlighted and reachable with one click.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

const USER = { email: 'compare@example.com', password: 'correct horse battery staple' };
const SERVICE = 'e2e-compare-service';
const FAILURE_SHOT = path.resolve(import.meta.dirname, '../../test-output/e2e-compare-failure.png');
const MINUTE_NS = 60_000_000_000n;

test('filter runs by state, compare two, see where they diverge', { timeout: 240_000 }, async (t) => {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = recordProblems(page, [SIGNED_OUT_PROBE]);
  const filteredRequests: URL[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === `/otel/service/${SERVICE}/workflow_runs`) filteredRequests.push(url);
  });
  try {
    await walkThrough();
  } catch (error) {
    await page.screenshot({ path: FAILURE_SHOT }).catch(() => {});
    t.diagnostic(
      `url: ${page.url()}\nconsole: ${problems.join('\n')}\nserver: ${server.output().slice(-3000)}`,
    );
    throw error;
  }
  assert.deepEqual(problems, [], 'no console errors or warnings');

  async function walkThrough() {
    await page.goto(server.baseUrl);
    await page.waitForURL(/\/setup$/);
    await signInThroughUi(page, USER.email, USER.password);
    const session = await signIn(server.baseUrl, USER.email, USER.password);
    const { key } = await createApiKey(session, 'compare e2e');

    // Three runs: seeds 1 and 3 end with greeting "🚀✨ ready", seed 2 with another one; seed 3
    // fails in ValidateNode, a node the other runs never reach.
    const now = BigInt(Date.now()) * 1_000_000n;
    const runs = [
      { seed: 1, fail: false, ago: 30n },
      { seed: 2, fail: false, ago: 20n },
      { seed: 3, fail: true, ago: 10n },
    ].map(({ seed, fail, ago }) =>
      legacyWorkflowTrace({
        seed,
        fail,
        nodeCount: 2,
        serviceName: SERVICE,
        startTimeUnixNano: now - ago * MINUTE_NS,
      }),
    );
    const metadata = new Metadata();
    metadata.set('x-junjo-api-key', key);
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${server.ports.otlpGrpc}`, metadata });
    const spans = toReadableSpans(toExportRequest(runs.flatMap((r) => r.spans)));
    const sent = await new Promise<{ code: number; error?: Error }>((resolve) =>
      exporter.export(spans, resolve),
    );
    await exporter.shutdown();
    assert.equal(sent.code, ExportResultCode.SUCCESS, sent.error?.message);
    await waitFor(async () => (await indexedSpans(server.baseUrl, USER)) >= spans.length, 'spans indexed');
    const [first, , failed] = runs.map((r) =>
      bytesToHex(r.spans.find((s) => s.span.parentSpanId.length === 0)!.span.spanId),
    );

    await page.goto(`${server.baseUrl}/services/${SERVICE}/workflows`);
    await waitForRows(3);
    await page.fill('#run-filter-state', '$.greeting = "🚀✨ ready"');
    await page.click('button:has-text("Apply")');
    await page.waitForURL((url) => url.searchParams.get('state') === '$.greeting = "🚀✨ ready"');
    await waitForRows(2);
    const shown = await page.$$eval('tbody tr', (rows) => rows.map((row) => row.getAttribute('data-key')));
    assert.deepEqual(
      shown.map((key) => key?.split(':')[1]),
      [failed, first],
    );
    assert.equal(filteredRequests.at(-1)?.searchParams.get('state'), '$.greeting = "🚀✨ ready"');

    const compare = page.locator('button.compare-runs');
    assert.equal(await compare.isDisabled(), true);
    for (const box of await page.$$('tbody input[type=checkbox]')) await box.check();
    await compare.click();
    await page.waitForURL(/\/compare\?runs=/);
    const refs = new URL(page.url()).searchParams.get('runs')!.split(',');
    assert.equal(refs.length, 2);

    await page.waitForSelector('h1:has-text("Compare runs of sample_workflow")');
    await waitFor(async () => (await page.$$('.compare-graph')).length === 2, 'two graphs');
    await page.waitForSelector('.compare-graph .react-flow__node');
    // ValidateNode ran (and failed) in one run only: marked in its graph and "not run" in the table.
    await page.waitForSelector('.compare-graph .gnode.differs:has-text("ValidateNode")');
    const validateRow = await page.locator('.compare-nodes tr', { hasText: 'ValidateNode' }).innerText();
    assert.match(validateRow, /not run/);
    assert.match(validateRow, /✕/);
    // The end states differ at least in status (validating vs summarizing).
    await page.waitForSelector('.compare-diff .change-path:has-text("status")');

    const divergent = page.locator('.compare-steps tr.first-divergence');
    assert.equal(await divergent.count(), 1);
    await page.click('button.jump-divergence');
    await waitFor(
      async () => (await page.locator('.compare-steps tr.first-divergence:focus').count()) === 1,
      'the first divergence focused',
    );
  }

  async function waitForRows(count: number) {
    await waitFor(async () => (await page.$$('tbody tr')).length === count, `${count} rows`);
  }
});
