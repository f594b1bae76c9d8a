// What a browser walk-through against the real server starts with: the server in a child process,
// Chromium with a page whose console problems are recorded (a failure leaves a screenshot and the
// page's URL, console and the server's output in the test's diagnostics), the first user signed up
// through the UI with an API key, and fixture traces exported over OTLP/gRPC until indexed.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { Page } from 'playwright-core';
import { type TraceFixture, toExportRequest } from '../../src/fixtures/junjo_traces.ts';
import { createApiKey, signIn } from '../support/accounts.ts';
import { toReadableSpans } from '../support/otel_spans.ts';
import { type ServerProcess, startServerProcess } from '../support/server_process.ts';
import { indexedSpans, waitFor } from '../support/wait.ts';
import { launchChromium, recordProblems, SIGNED_OUT_PROBE, signInThroughUi } from './browser.ts';

export interface UiSession {
  server: ServerProcess;
  page: Page;
}

export interface UiUser {
  email: string;
  password: string;
}

/**
 * Runs `walk` on a fresh server and page (both closed after the test), then asserts the console
 * stayed clean. `notes` adds the test's own lines to the failure diagnostics.
 */
export async function walkInChromium(
  t: TestContext,
  options: {
    viewport: { width: number; height: number };
    failureShot: string;
    notes?: () => string;
    /** The server's settings beyond the test defaults (e.g. a backend role). */
    serverEnv?: Record<string, string>;
  },
  walk: (session: UiSession) => Promise<void>,
): Promise<void> {
  const server = await startServerProcess(options.serverEnv ? { env: options.serverEnv } : {});
  t.after(() => server.cleanup());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: options.viewport });
  const problems = recordProblems(page, [SIGNED_OUT_PROBE]);
  try {
    await walk({ server, page });
  } catch (error) {
    await page.screenshot({ path: options.failureShot }).catch(() => {});
    const notes = options.notes ? `${options.notes()}\n` : '';
    t.diagnostic(
      `url: ${page.url()}\n${notes}console: ${problems.join('\n')}\nserver: ${server.output().slice(-3000)}`,
    );
    throw error;
  }
  assert.deepEqual(problems, [], 'no console errors or warnings');
}

/** Signs the first user up through the setup page and returns a fresh API key of theirs. */
export async function signUpWithApiKey({ server, page }: UiSession, user: UiUser): Promise<string> {
  await page.goto(server.baseUrl);
  await page.waitForURL(/\/setup$/);
  await signInThroughUi(page, user.email, user.password);
  const session = await signIn(server.baseUrl, user.email, user.password);
  return (await createApiKey(session, 'e2e')).key;
}

/** Exports the traces as the SDK would (OTLP/gRPC with the API key) and waits until all are indexed. */
export async function exportTraces(
  server: ServerProcess,
  user: UiUser,
  apiKey: string,
  traces: readonly TraceFixture[],
): Promise<void> {
  const metadata = new Metadata();
  metadata.set('x-junjo-api-key', apiKey);
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${server.ports.otlpGrpc}`, metadata });
  const spans = toReadableSpans(toExportRequest(traces.flatMap((trace) => trace.spans)));
  const sent = await new Promise<{ code: number; error?: Error }>((resolve) =>
    exporter.export(spans, resolve),
  ).finally(() => exporter.shutdown());
  assert.equal(sent.code, ExportResultCode.SUCCESS, sent.error?.message);
  await waitFor(
    async () => (await indexedSpans(server.baseUrl, user)) >= spans.length,
    'spans indexed',
    60_000,
  );
}
