// Trace search in Chromium against the real server (issue #15): from a service page's Search link,
// an attribute filter finds the one run that carries it, the search sits in the URL (a reload
// shows the same results), and the result opens its trace with the span selected. No console
// errors or warnings.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { Page } from 'playwright-core';
import { legacyWorkflowTrace, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

const USER = { email: 'search@example.com', password: 'correct horse battery staple' };
const SERVICE = 'e2e-search-service';
const FAILURE_SHOT = path.resolve(import.meta.dirname, '../../test-output/e2e-search-failure.png');

test('search by attribute, then open the result’s trace, in Chromium', { timeout: 240_000 }, async (t) => {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = recordProblems(page, [SIGNED_OUT_PROBE]);
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

    // Three runs a few minutes ago; only the second one's root carries customer ACME-42.
    const session = await signIn(server.baseUrl, USER.email, USER.password);
    const { key } = await createApiKey(session, 'search e2e');
    const now = BigInt(Date.now()) * 1_000_000n;
    const runs = [0, 1, 2].map((i) =>
      legacyWorkflowTrace({
        seed: 300 + i,
        serviceName: SERVICE,
        nodeCount: 2,
        startTimeUnixNano: now - BigInt(10 - i) * 60_000_000_000n,
      }),
    );
    const roots = runs.map((run) => run.spans.find((s) => s.span.parentSpanId.length === 0)!.span);
    roots.forEach((root, i) => {
      root.name = `run-${i}`;
      root.attributes.push({
        key: 'e2e.customer',
        value: { type: 'string', value: i === 1 ? 'ACME-42' : `OTHER-${i}` },
      });
    });
    const spans = toReadableSpans(toExportRequest(runs.flatMap((run) => run.spans)));
    const metadata = new Metadata();
    metadata.set('x-junjo-api-key', key);
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${server.ports.otlpGrpc}`, metadata });
    const sent = await new Promise<{ code: number; error?: Error }>((resolve) =>
      exporter.export(spans, resolve),
    ).finally(() => exporter.shutdown());
    assert.equal(sent.code, ExportResultCode.SUCCESS, sent.error?.message);
    await waitFor(
      async () => (await indexedSpans(server.baseUrl, USER)) >= spans.length,
      'spans indexed',
      60_000,
    );

    // The service page links to a search of that service.
    await page.goto(`${server.baseUrl}/services/${SERVICE}/workflows`);
    await page.click('nav[aria-label="Service views"] >> text=Search');
    await page.waitForURL((url) => url.pathname === '/search' && url.searchParams.get('service') === SERVICE);
    await page.waitForSelector('table.search-results tbody tr');

    await page.fill('textarea[name=attrs]', 'e2e.customer = ACME-42');
    await page.click('form[aria-label="Trace search"] button[type=submit]');
    await page.waitForURL((url) => url.searchParams.get('attr') === 'e2e.customer = ACME-42');
    await waitForRows(page, 1);
    assert.equal(await page.textContent('table.search-results tbody th'), 'run-1');

    // The search is in the URL: a reload (or a shared link) shows the same results.
    await page.reload();
    await waitForRows(page, 1);
    assert.equal(await page.inputValue('textarea[name=attrs]'), 'e2e.customer = ACME-42');

    await page.click('table.search-results tbody th a');
    const rootId = bytesToHex(roots[1]!.spanId);
    const traceId = bytesToHex(roots[1]!.traceId);
    await page.waitForURL(
      (url) => url.pathname === `/traces/${traceId}` && url.searchParams.get('span') === rootId,
    );
    await page.waitForSelector('h1:has-text("run-1")');

    // The main navigation reaches the search too.
    await page.click('nav[aria-label=Main] >> text=Search');
    await page.waitForURL((url) => url.pathname === '/search');
    await page.waitForSelector('text=Choose a service to search');
  }
});

function waitForRows(page: Page, count: number) {
  return waitFor(
    async () => (await page.$$('table.search-results tbody tr')).length === count,
    `${count} rows`,
  );
}
