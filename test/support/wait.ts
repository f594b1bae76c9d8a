import { type Credentials, health } from './health.ts';

/** Polls `probe` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  what: string,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** The poller's indexed span count (from /health/details, signed in as `as`). */
export async function indexedSpans(baseUrl: string, as?: Credentials): Promise<number> {
  return (await health(baseUrl, as)).poller?.spans_indexed ?? 0;
}
