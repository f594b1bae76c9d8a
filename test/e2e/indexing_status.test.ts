// The top bar says when accepted spans cannot reach the pages: a backend whose ingestion node does
// not answer shows "Indexing paused" with the node and the error in its title, in Chromium against
// the real server. (The lag wording is web/src/lib/indexing_status.test.ts; the healthy case shows
// nothing: search.test.ts.) No console errors or warnings.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { health } from '../support/health.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';
import { signUpWithApiKey, walkInChromium } from './ui_session.ts';

const USER = { email: 'indexing@example.com', password: 'correct horse battery staple' };
const FAILURE_SHOT = path.resolve(import.meta.dirname, '../../test-output/e2e-indexing-status-failure.png');

test('a backend that cannot read its ingestion node says "Indexing paused" in the top bar', {
  timeout: 120_000,
}, async (t) => {
  // A port nothing listens on: every ReadSpans call of the backend's poller fails.
  const node = `127.0.0.1:${await freePort()}`;
  const serverEnv = { JUNJO_ROLE: 'backend', JUNJO_INGESTION_ADDRESS: node };
  const viewport = { width: 1280, height: 800 };
  await walkInChromium(t, { viewport, failureShot: FAILURE_SHOT, serverEnv }, async ({ server, page }) => {
    await signUpWithApiKey({ server, page }, USER);
    await waitFor(
      async () => ((await health(server.baseUrl, USER)).pollers?.[0]?.consecutive_failures ?? 0) >= 3,
      'the poller to fail three times in a row',
    );
    await page.reload();
    const status = page.locator('.topbar .indexing-status');
    await status.waitFor();
    assert.equal((await status.textContent())?.trim(), 'Indexing paused');
    const title = (await status.getAttribute('title')) ?? '';
    assert.match(title, new RegExp(`from the ingestion node ${node.replaceAll('.', '\\.')} \\(.+\\)\\.`));
    assert.match(title, /They are kept, and indexed once it can\./);
  });
});
