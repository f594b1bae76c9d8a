// The trace waterfall of a large trace in Chromium: only the rows in view are in the DOM, yet the
// keyboard reaches every span, the selected row is scrolled into view (also from a deep link), and
// the page asks for the compact trace's waterfall view, not the debugger's fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { legacyWorkflowTrace } from '../../src/fixtures/junjo_traces.ts';
import { waitFor } from '../support/wait.ts';
import { serveTraceInChromium } from './trace_in_chromium.ts';

const USER = { email: 'waterfall@example.com', password: 'correct horse battery staple' };

/** The row's id when it lies wholly inside the waterfall's scroll box, else null. */
const selectedRowInView = (page: Page) =>
  page.evaluate(`(() => {
    const row = document.querySelector('.wf-row[aria-selected=true]');
    if (!row) return null;
    const box = document.querySelector('.waterfall-scroll').getBoundingClientRect();
    const r = row.getBoundingClientRect();
    return r.top >= box.top - 1 && r.bottom <= box.bottom + 1 ? row.id.replace('wf-row-', '') : null;
  })()`) as Promise<string | null>;

const selectedInUrl = (page: Page) => new URL(page.url()).searchParams.get('span');

test('a 2,000-span waterfall: virtual rows, keyboard to both ends, selection scrolled into view', {
  timeout: 300_000,
}, async (t) => {
  const trace = legacyWorkflowTrace({ seed: 12, nodeCount: 2000 });
  const total = trace.spans.length;
  const { server, page, problems } = await serveTraceInChromium(t, USER, trace.spans, {
    indexedWithinMs: 120_000,
  });

  const traceRequests: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith(`/otel/trace/${trace.traceId}/`))
      traceRequests.push(url.pathname + url.search);
  });
  await page.goto(`${server.baseUrl}/traces/${trace.traceId}`);
  await page.waitForSelector(
    `text=${total.toLocaleString('en')} of ${total.toLocaleString('en')} spans shown`,
  );
  assert.deepEqual(traceRequests, [`/otel/trace/${trace.traceId}/compact?view=waterfall`]);
  const rowsInDom = await page.locator('.wf-row').count();
  assert.ok(
    rowsInDom > 0 && rowsInDom < 200,
    `only the rows in view are rendered (${rowsInDom} of ${total})`,
  );

  // The keyboard walks the whole list, the selection following in the URL and in view.
  /** Presses `key` and waits until another span is selected, in the URL and in view; returns it. */
  const press = async (key: string) => {
    const before = selectedInUrl(page);
    await page.keyboard.press(key);
    return waitFor(async () => {
      const selected = selectedInUrl(page);
      return selected && selected !== before && (await selectedRowInView(page)) === selected
        ? selected
        : null;
    }, `${key}: another span selected and scrolled into view`);
  };
  await page.focus('.waterfall-scroll');
  const last = await press('End');
  const first = await press('Home');
  const second = await press('ArrowDown');
  assert.equal(new Set([first, second, last]).size, 3);
  assert.equal(await page.locator('.wf-row').first().getAttribute('id'), `wf-row-${first}`);

  // A deep link to the last span (a fresh page load) opens with its row in view.
  await page.goto(`${server.baseUrl}/traces/${trace.traceId}?span=${last}`);
  await waitFor(async () => (await selectedRowInView(page)) === last, 'the linked row in view');
  assert.deepEqual(problems, [], 'no console errors or warnings');
});

test('the trace is asked for before the app has loaded, and only once', { timeout: 300_000 }, async (t) => {
  const trace = legacyWorkflowTrace({ seed: 13, nodeCount: 20 });
  const total = trace.spans.length;
  const { server, page, problems } = await serveTraceInChromium(t, USER, trace.spans, {
    indexedWithinMs: 120_000,
  });

  // The app's entry script (the blocking module script of index.html) is held back until the page
  // has asked for the trace: only the early script can have asked.
  const html = await (await fetch(`${server.baseUrl}/`)).text();
  const appEntry = /<script type="module" crossorigin src="([^"]+)"><\/script>/.exec(html)?.[1];
  assert.ok(appEntry, `the app's entry script in ${html}`);
  const traceRequests: string[] = [];
  let traceAsked: () => void = () => {};
  let asked = Promise.resolve();
  /** From now on the app's entry waits for the next request for the trace. */
  const holdAppUntilTraceAsked = () => {
    asked = new Promise<void>((resolve) => {
      traceAsked = resolve;
    });
  };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith(`/otel/trace/${trace.traceId}/`)) {
      traceRequests.push(url.pathname + url.search);
      traceAsked();
    }
  });
  await page.route(`**${appEntry}`, async (route) => {
    await asked;
    await route.continue();
  });
  const tracePath = `/otel/trace/${trace.traceId}/compact`;
  holdAppUntilTraceAsked();
  await page.goto(`${server.baseUrl}/traces/${trace.traceId}`);
  await page.waitForSelector(`text=${total} of ${total} spans shown`);
  assert.deepEqual(traceRequests, [`${tracePath}?view=waterfall`]);

  // The workflow debugger's trace, likewise (the debugger view of the compact trace).
  traceRequests.length = 0;
  holdAppUntilTraceAsked();
  const root = trace.spans.find((s) => s.span.parentSpanId.length === 0)!;
  const rootId = Buffer.from(root.span.spanId).toString('hex');
  await page.goto(`${server.baseUrl}/services/${trace.serviceName}/workflows/${trace.traceId}/${rootId}`);
  await page.waitForSelector('.step-panel');
  assert.deepEqual(traceRequests, [tracePath]);
  assert.deepEqual(problems, [], 'no console errors or warnings');
});
