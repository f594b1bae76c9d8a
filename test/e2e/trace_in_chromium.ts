// The setup the trace-page tests share: a real server holding one trace, exported over OTLP/HTTP
// with a key of the test's user and indexed, and a Chromium page signed in as that user.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import type { FixtureSpan } from '../../src/fixtures/trace_builder.ts';
import { encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { postOtlp } from '../ingestion/otlp_clients.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

export interface TraceInChromium {
  server: ServerProcess;
  page: Page;
  /** Console errors and warnings of the page so far (recordProblems). */
  problems: string[];
}

export async function serveTraceInChromium(
  t: TestContext,
  user: { email: string; password: string },
  spans: readonly FixtureSpan[],
  options: { indexedWithinMs?: number } = {},
): Promise<TraceInChromium> {
  const server = await startServerProcess();
  t.after(() => server.cleanup());
  const apiKey = (await createApiKey(await signIn(server.baseUrl, user.email, user.password))).key;
  const posted = await postOtlp(
    server.ports.otlpHttp,
    '/v1/traces',
    encodeTraceRequestProtobuf(toExportRequest(spans)),
    { apiKey, contentType: 'application/x-protobuf' },
  );
  assert.equal(posted.status, 200);
  await waitFor(
    async () => (await indexedSpans(server.baseUrl, user)) >= spans.length,
    'indexed',
    options.indexedWithinMs,
  );

  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const problems = recordProblems(page, [SIGNED_OUT_PROBE]);
  await page.goto(server.baseUrl);
  await signInThroughUi(page, user.email, user.password);
  return { server, page, problems };
}
