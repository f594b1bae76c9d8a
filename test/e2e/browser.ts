// Headless Chromium for the browser tests and the UI benchmark: Debian's chromium driven by
// playwright-core, with every console error and page error recorded.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Console errors and warnings, uncaught exceptions and crashes of a page. The browser itself logs
 * every 4xx response as a console error; the ones a test expects (the 401 of the session probe
 * while signed out) are passed in `expected`.
 */
export function recordProblems(page: Page, expected: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = `${message.type()}: ${message.text()} (${message.location().url})`;
    if (!expected.some((pattern) => pattern.test(text))) problems.push(text);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  return problems;
}

/** The browser's own log line for the expected 401 of GET /auth-test while signed out. */
export const SIGNED_OUT_PROBE = /status of 401 .*\/auth-test\)/;

/** Fills and submits the sign-in form (or the first-user form when no user exists yet). */
export async function signInThroughUi(page: Page, email: string, password: string): Promise<void> {
  await page.waitForSelector('input[name=email]');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  if (await page.$('input[name=confirm]')) await page.fill('input[name=confirm]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('nav[aria-label=Main]');
}
