// Trace search in Chromium against the real server (issue #15): from a service page's Search link,
// an attribute filter finds the one run that carries it, the search sits in the URL (a reload
// shows the same results), and the result opens its trace with the span selected. No console
// errors or warnings.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { legacyWorkflowTrace } from '../../src/fixtures/junjo_traces.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import { waitFor } from '../support/wait.ts';
import { exportTraces, signUpWithApiKey, walkInChromium } from './ui_session.ts';

const USER = { email: 'search@example.com', password: 'correct horse battery staple' };
const SERVICE = 'e2e-search-service';
const FAILURE_SHOT = path.resolve(import.meta.dirname, '../../test-output/e2e-search-failure.png');

test('search by attribute, then open the result’s trace, in Chromium', { timeout: 240_000 }, async (t) => {
  const viewport = { width: 1280, height: 800 };
  await walkInChromium(t, { viewport, failureShot: FAILURE_SHOT }, async ({ server, page }) => {
    const key = await signUpWithApiKey({ server, page }, USER);

    // Three runs a few minutes ago; only the second one's root carries customer ACME-42.
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
    await exportTraces(server, USER, key, runs);

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
    const healthRead = page.waitForResponse((response) => response.url().endsWith('/health/details'));
    await page.reload();
    await waitForRows(page, 1);
    // Every span is indexed: the top bar says nothing about indexing (IndexingStatus.tsx).
    assert.equal((await healthRead).status(), 200);
    assert.equal(await page.locator('.topbar .indexing-status').count(), 0);
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
  });
});

function waitForRows(page: Page, count: number) {
  return waitFor(
    async () => (await page.$$('table.search-results tbody tr')).length === count,
    `${count} rows`,
  );
}
