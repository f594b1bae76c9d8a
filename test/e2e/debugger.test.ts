// The debugger's conveniences and the paged lists in Chromium against the real server (issues #11
// item 3 and #13 item 5): a fresh server sends the first sign-in to the API keys page; the runs
// list asks for 50-row pages, pages on with the keyset cursor and keeps refreshing live; an
// 11-node run opens with its whole graph in the pane; left-to-right layout and edge labels switch
// and are remembered; previous / next run by buttons and keys, found in run summaries; a JSON-string attribute opens as a
// tree with its raw string one click away.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { Page } from 'playwright-core';
import { legacyWorkflowTrace, type TraceFixture, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { bytesToHex } from '../../src/otlp/hex.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

const USER = { email: 'debugger@example.com', password: 'correct horse battery staple' };
const SERVICE = 'e2e-debugger-service';
const MINUTE_NS = 60_000_000_000n;
const OTHER_RUNS = 53;
const FAILURE_SHOT = path.resolve(import.meta.dirname, '../../test-output/e2e-debugger-failure.png');

async function exportTraces(port: number, apiKey: string, traces: TraceFixture[]) {
  const metadata = new Metadata();
  metadata.set('x-junjo-api-key', apiKey);
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}`, metadata });
  const spans = toReadableSpans(toExportRequest(traces.flatMap((t) => t.spans)));
  const sent = await new Promise<{ code: number; error?: Error }>((resolve) =>
    exporter.export(spans, resolve),
  ).finally(() => exporter.shutdown());
  assert.equal(sent.code, ExportResultCode.SUCCESS, sent.error?.message);
  return spans.length;
}

/** The root span of a fixture trace: the workflow run. */
function rootOf(trace: TraceFixture) {
  const root = trace.spans.find((s) => s.span.parentSpanId.length === 0)!;
  return { trace, spanId: bytesToHex(root.span.spanId), span: root.span };
}

/** A run of a workflow named `name`, `minutesAgo` minutes before `now`. */
function workflowRun(seed: number, name: string, minutesAgo: number, nodeCount: number, now: bigint) {
  const run = rootOf(
    legacyWorkflowTrace({
      seed,
      serviceName: SERVICE,
      nodeCount,
      startTimeUnixNano: now - BigInt(Math.round(minutesAgo * 60)) * (MINUTE_NS / 60n),
    }),
  );
  run.span.name = name;
  return run;
}

test('debugger conveniences and paged lists in Chromium', { timeout: 240_000 }, async (t) => {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const browser = await launchChromium();
  t.after(() => browser.close());
  // A laptop screen: the graph pane is at its 340 px minimum height, where an 11-node run used to
  // open zoomed in with half its nodes cut off.
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const problems = recordProblems(page, [SIGNED_OUT_PROBE]);
  const runRequests: URL[] = [];
  const visited: string[] = [];
  page.on('framenavigated', (frame) => visited.push(frame.url()));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === `/otel/spans/type/workflow/${SERVICE}`) runRequests.push(url);
  });
  try {
    await walkThrough();
  } catch (error) {
    await page.screenshot({ path: FAILURE_SHOT }).catch(() => {});
    t.diagnostic(
      `url: ${page.url()}\nvisited: ${visited.join('\n')}\nconsole: ${problems.join('\n')}\nserver: ${server.output().slice(-3000)}`,
    );
    throw error;
  }
  assert.deepEqual(problems, [], 'no console errors or warnings');

  async function walkThrough() {
    // A fresh server has no API keys: the first sign-in lands on the API keys page and its guide.
    await page.goto(server.baseUrl);
    await page.waitForURL(/\/setup$/);
    await signInThroughUi(page, USER.email, USER.password);
    await page.waitForURL(/\/settings\/api-keys$/);
    await page.waitForSelector('text=No API keys yet');
    assert.ok(await page.isVisible('text=JunjoServerOtelExporter('), 'the SDK setup guide is shown');
    assert.ok(await page.isVisible('text=<your API key>'), 'with a placeholder for the key');

    // 3 runs of an 11-node `sample_workflow` among 53 runs of another workflow.
    const session = await signIn(server.baseUrl, USER.email, USER.password);
    const { key } = await createApiKey(session, 'debugger e2e');
    const now = BigInt(Date.now()) * 1_000_000n;
    const samples = [30, 20, 10].map((ago, i) => workflowRun(100 + i, 'sample_workflow', ago, 4, now));
    const others = Array.from({ length: OTHER_RUNS }, (_, i) =>
      workflowRun(200 + i, 'other_workflow', 40 - i * 0.6, 2, now),
    );
    const spanCount = await exportTraces(
      server.ports.otlpGrpc,
      key,
      [...samples, ...others].map((r) => r.trace),
    );
    await waitFor(async () => (await indexedSpans(server.baseUrl, USER)) >= spanCount, 'spans indexed');

    // The runs list: 50 rows, then the older ones through the keyset cursor.
    await page.goto(`${server.baseUrl}/services/${SERVICE}/workflows`);
    await waitForRows(page, 50);
    assert.equal(runRequests[0]?.searchParams.get('limit'), '50');
    assert.equal(runRequests[0]?.searchParams.has('before'), false);
    await page.click('button:has-text("Load older runs")');
    await waitForRows(page, 56);
    await page.waitForSelector('text=56 runs — that is all.');
    const older = runRequests.find((url) => url.searchParams.has('before'));
    assert.equal(older?.searchParams.get('limit'), '50');
    assert.match(older?.searchParams.get('before_span_id') ?? '', /^[0-9a-f]{16}$/);
    // Live refresh still brings a new run in on top, and the older rows stay.
    await exportTraces(server.ports.otlpGrpc, key, [
      workflowRun(999, 'other_workflow', 0, 2, BigInt(Date.now()) * 1_000_000n).trace,
    ]);
    await waitForRows(page, 57);

    // The middle sample run: the whole 11-node graph inside the pane.
    const [first, middle, last] = samples.map((r) => ({ traceId: r.trace.traceId, spanId: r.spanId }));
    const runUrl = (run: { traceId: string; spanId: string }) =>
      `/services/${SERVICE}/workflows/${run.traceId}/${run.spanId}`;
    assert.ok(
      runRequests.every((url) => !url.searchParams.has('view')),
      'the runs list asks for whole runs',
    );
    const listRequests = runRequests.length;
    await page.goto(`${server.baseUrl}${runUrl(middle!)}`);
    await page.waitForSelector('.react-flow__node');
    assert.equal(await page.$$eval('.react-flow__node', (nodes) => nodes.length), 11);
    await waitForWholeGraph(page);
    // The nodes come with their sizes and handle places (React Flow does not measure them): every
    // edge still runs from the bottom of one node to the top of another.
    const loose = await page.evaluate(`(() => {
      const nodes = [...document.querySelectorAll('.react-flow__node')].map((n) => n.getBoundingClientRect());
      const edges = [...document.querySelectorAll('.react-flow__edge-path')].map((e) => e.getBoundingClientRect());
      const near = (a, b) => Math.abs(a - b) <= 6;
      return { edges: edges.length, loose: edges.filter((e) =>
        !nodes.some((n) => near(e.top, n.bottom) && e.left <= n.right && e.right >= n.left) ||
        !nodes.some((n) => near(e.bottom, n.top) && e.left <= n.right && e.right >= n.left)).length };
    })()`);
    const joins = loose as { edges: number; loose: number };
    assert.ok(joins.edges > 0, 'the graph has edges');
    assert.equal(joins.loose, 0, `every edge joins two nodes (${joins.loose} of ${joins.edges} do not)`);

    // Edge labels: on for a graph this size; switched off, they stay off after a reload.
    await page.waitForSelector('.react-flow__edge-text >> text=CountAboveTen');
    await page.click('button:has-text("Edge labels")');
    await page.waitForSelector('.react-flow__edge-text', { state: 'detached' });
    await page.reload();
    await page.waitForSelector('.react-flow__node');
    assert.equal(await page.getAttribute('button:has-text("Edge labels")', 'aria-pressed'), 'false');
    assert.equal(await page.$('.react-flow__edge-text'), null);
    await page.click('button:has-text("Edge labels")');
    await page.waitForSelector('.react-flow__edge-text >> text=CountAboveTen');

    // Left to right: the chain runs along x, still whole in the pane, and is remembered.
    await page.click('button:has-text("Left to right")');
    await page.waitForSelector('button[aria-pressed=true]:has-text("Left to right")');
    await waitFor(async () => {
      const a = await boxOf(page, '.react-flow__node:has-text("IncrementNode")');
      const b = await boxOf(page, '.react-flow__node:has-text("FetchContextNode")');
      return b.left >= a.right && Math.abs(b.top - a.top) < 1;
    }, 'the next node to the right of the first');
    await waitForWholeGraph(page);
    await page.reload();
    await page.waitForSelector('button[aria-pressed=true]:has-text("Left to right")');
    await waitForWholeGraph(page);

    // Previous / next run of the same workflow, by buttons and Shift+arrows; plain arrows still step.
    await page.click('button:has-text("Previous run"):not([disabled])');
    await page.waitForURL((url) => url.pathname === runUrl(first!));
    await page.waitForSelector('button[title="No earlier run of sample_workflow found"]');
    // the keys act once the neighbour is known, like the buttons
    await page.waitForSelector('button:has-text("Next run"):not([disabled])');
    await page.keyboard.press('Shift+ArrowRight');
    await page.waitForURL((url) => url.pathname === runUrl(middle!));
    await page.click('button:has-text("Next run"):not([disabled])');
    await page.waitForURL((url) => url.pathname === runUrl(last!));
    await page.waitForSelector('button[title="No later run of sample_workflow found"]');
    // The previous run is looked for on its own: its button says so until it is found.
    await page.waitForSelector('button[title="Previous run of sample_workflow (Shift+←)"]');
    await page.keyboard.press('Shift+ArrowLeft');
    await page.waitForURL((url) => url.pathname === runUrl(middle!));
    // The neighbours were found in run summaries, not in pages of whole runs.
    const neighbourRequests = runRequests.slice(listRequests);
    assert.ok(neighbourRequests.length >= 2, 'the debugger looked for neighbours');
    assert.deepEqual(
      neighbourRequests.filter((url) => url.searchParams.get('view') !== 'summary').map(String),
      [],
    );
    await page.waitForSelector('.stepper-position:has-text("Step 1 of")');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('.stepper-position:has-text("Step 2 of")');
    assert.equal(new URL(page.url()).pathname, runUrl(middle!), 'stepping stays on the run');

    // A JSON-string attribute (a set_state event's patch) is a tree, its raw string one click away.
    await page.click('.react-flow__node >> text=IncrementNode');
    await page.click('role=tab[name=/Span details/]');
    await page.click('.span-details summary:has-text("set_state")');
    const row = (key: string) =>
      page.locator('.span-details .json-row').filter({
        has: page.locator('.json-key', { hasText: new RegExp(`^${key.replaceAll('.', '\\.')}:$`) }),
      });
    const patchRow = row('junjo.state_json_patch');
    await patchRow.locator('.json-summary', { hasText: '[1 item]' }).waitFor();
    await patchRow.locator('.json-toggle').click();
    const firstOp = page
      .locator('.span-details .json-row')
      .filter({ has: page.locator('.json-index', { hasText: /^0:$/ }) });
    await firstOp.locator('.json-toggle').click();
    await row('op').locator('.json-string', { hasText: '"replace"' }).waitFor();
    await patchRow.locator('button', { hasText: 'raw' }).click();
    assert.match((await patchRow.locator('.json-string').textContent()) ?? '', /^"\[\{.*"op":"replace"/);
    await patchRow.locator('button', { hasText: 'tree' }).click();
    await patchRow.locator('.json-summary', { hasText: '[1 item]' }).waitFor();
  }
});

function waitForRows(page: Page, count: number) {
  return waitFor(async () => (await page.$$('tbody tr')).length === count, `${count} rows`);
}

async function boxOf(page: Page, selector: string) {
  const box = await (await page.$(selector))?.boundingBox();
  assert.ok(box, `${selector} is on the page`);
  return { left: box.x, top: box.y, right: box.x + box.width, bottom: box.y + box.height };
}

/** Every node of the graph lies inside the graph pane. */
function waitForWholeGraph(page: Page) {
  return waitFor(async () => {
    const pane = await boxOf(page, '.graph-pane');
    const nodes = await Promise.all(
      (await page.$$('.react-flow__node')).map(async (node) => await node.boundingBox()),
    );
    return (
      nodes.length > 0 &&
      nodes.every(
        (r) =>
          r !== null &&
          r.x >= pane.left &&
          r.y >= pane.top &&
          r.x + r.width <= pane.right &&
          r.y + r.height <= pane.bottom,
      )
    );
  }, 'every node inside the graph pane');
}
