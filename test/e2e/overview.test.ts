// The service overview charts in Chromium against the real server (issue #15 point 4): the charts
// of a workflow render with its counts, a hover shows the bucket's tooltip, a click on the errors
// bar opens the search of the bucket's failed runs and a click above it the search of all its runs,
// the range buttons and the workflow picker live in the URL, the dark theme re-draws the charts,
// and the console stays clean.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { Page } from 'playwright-core';
import type { WorkflowStats } from '../../src/features/workflow_stats/schemas.ts';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { countAxisMax } from '../../web/src/lib/overview.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

const USER = { email: 'overview@example.com', password: 'correct horse battery staple' };
const SERVICE = 'e2e overview service';
const WORKFLOW = 'charted_workflow';
const FAILURE_SHOT = path.resolve(import.meta.dirname, '../../test-output/e2e-overview-failure.png');

/** 3 runs of WORKFLOW (2 failed) 20 s into the minute that began 10 minutes ago, 1 of another. */
function runs(nowMs: number) {
  const minute = Math.floor(nowMs / 60_000) * 60_000 - 10 * 60_000;
  const start = BigInt(minute + 20_000) * 1_000_000n;
  return [0, 1, 2, 3].map((i) => {
    const trace = legacyWorkflowTrace({
      seed: 300 + i,
      serviceName: SERVICE,
      nodeCount: 2,
      startTimeUnixNano: start,
    });
    const root = trace.spans.find((s) => s.span.parentSpanId.length === 0)!.span;
    root.name = i === 3 ? 'other_workflow' : WORKFLOW;
    if (i < 2) root.status = { code: 2, message: 'boom' };
    return trace;
  });
}

test('service overview charts in Chromium', { timeout: 240_000 }, async (t) => {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = recordProblems(page, [SIGNED_OUT_PROBE]);
  try {
    await walkThrough(page);
  } catch (error) {
    await page.screenshot({ path: FAILURE_SHOT }).catch(() => {});
    t.diagnostic(
      `url: ${page.url()}\nconsole: ${problems.join('\n')}\nserver: ${server.output().slice(-3000)}`,
    );
    throw error;
  }
  assert.deepEqual(problems, [], 'no console errors or warnings');

  async function walkThrough(page: Page) {
    await page.goto(server.baseUrl);
    await page.waitForURL(/\/setup$/);
    await signInThroughUi(page, USER.email, USER.password);
    const session = await signIn(server.baseUrl, USER.email, USER.password);
    const { key } = await createApiKey(session, 'overview e2e');
    const metadata = new Metadata();
    metadata.set('x-junjo-api-key', key);
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${server.ports.otlpGrpc}`, metadata });
    const spans = toReadableSpans(toExportRequest(runs(Date.now()).flatMap((trace) => trace.spans)));
    const sent = await new Promise<{ code: number; error?: Error }>((resolve) =>
      exporter.export(spans, resolve),
    ).finally(() => exporter.shutdown());
    assert.equal(sent.code, ExportResultCode.SUCCESS, sent.error?.message);
    await waitFor(async () => (await indexedSpans(server.baseUrl, USER)) >= spans.length, 'spans indexed');

    // From the services list to the service's overview, the last hour.
    await page.goto(`${server.baseUrl}/services`);
    await page.click(`tr:has-text("${SERVICE}") a:text-is("Overview")`);
    await page.waitForURL((url) => url.pathname === `/services/${encodeURIComponent(SERVICE)}/overview`);
    await page.locator('section.overview-card canvas').first().waitFor();
    // The request of the last hour: its from and to an hour apart.
    const stats = page.waitForResponse((r) => {
      const url = new URL(r.url());
      const span =
        Date.parse(url.searchParams.get('to') ?? '') - Date.parse(url.searchParams.get('from') ?? '');
      return url.pathname.endsWith('/workflow_stats') && span === 3_600_000 && r.status() === 200;
    });
    await page.click('button:has-text("Last 1h")');
    await page.waitForURL((url) => url.searchParams.get('last') === '1h');
    const body = (await (await stats).json()) as WorkflowStats;
    assert.equal(body.bucket_seconds, 60);

    // One card per workflow, two canvases each, labelled with the counts.
    const card = page.locator('section.overview-card', { hasText: WORKFLOW });
    await card.locator('[role=img][aria-label*="3 runs, 2 errors"] canvas').waitFor();
    await page.locator('section.overview-card', { hasText: 'other_workflow' }).waitFor();
    assert.equal(await card.locator('canvas').count(), 2);

    // The bucket with the runs, and where it sits on the runs chart.
    const series = body.workflows.find((w) => w.workflow === WORKFLOW)!;
    const idx = series.buckets.findIndex((b) => b.runs > 0);
    const bucket = series.buckets[idx]!;
    assert.deepEqual([bucket.runs, bucket.errors], [3, 2]);
    const over = await card.locator('.u-over').first().boundingBox();
    assert.ok(over);
    const x = over.x + (over.width * (idx + 0.5)) / series.buckets.length;
    const yOf = (value: number) =>
      over.y + over.height - (over.height * value) / countAxisMax(series.buckets);
    const start = bucket.start.replace('.000000Z', 'Z');
    const end = new Date(Date.parse(bucket.start) + 60_000).toISOString().replace('.000Z', 'Z');
    const expected = (errors: boolean) =>
      `/search?${new URLSearchParams({ service: SERVICE, type: 'workflow', name: WORKFLOW, from: start, to: end, ...(errors ? { status: 'error' } : {}) })}`;

    // Hover: the bucket's tooltip; a click on the errors bar: the search of its failed runs.
    await page.mouse.move(x, yOf(1));
    await card.locator('.chart-tooltip:visible', { hasText: '3 runs, 2 errors' }).waitFor();
    await page.mouse.click(x, yOf(1));
    await page.waitForURL((url) => url.pathname === '/search');
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, expected(true));

    // Back, and a click above the errors: all the bucket's runs.
    await page.goBack();
    await card.locator('canvas').first().waitFor();
    await page.mouse.move(x, yOf(2.6));
    await card.locator('.chart-tooltip:visible', { hasText: '3 runs, 2 errors' }).waitFor();
    await page.mouse.click(x, yOf(2.6));
    await page.waitForURL((url) => url.pathname === '/search');
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, expected(false));
    await page.goBack();

    // The workflow picker keeps one workflow, in the URL.
    await page.selectOption('select', WORKFLOW);
    await page.waitForURL((url) => url.searchParams.get('workflow') === WORKFLOW);
    await page.locator('section.overview-card', { hasText: 'other_workflow' }).waitFor({ state: 'detached' });
    assert.equal(await page.locator('section.overview-card').count(), 1);

    // Dark theme: the charts are drawn again in its colours.
    const axisColour = () =>
      card
        .locator('canvas')
        .first()
        .evaluate((canvas) => (canvas as unknown as { toDataURL(): string }).toDataURL());
    const before = await axisColour();
    await page.click('button[aria-label^="Theme: system"]');
    await page.click('button[aria-label^="Theme: light"]');
    await page.waitForSelector('html[data-theme=dark]');
    await waitFor(async () => (await axisColour()) !== before, 'the chart re-drawn for the dark theme');
    await card.locator('[role=img][aria-label*="3 runs, 2 errors"] canvas').waitFor();
  }
});
