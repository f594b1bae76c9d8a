// Whether what the server accepted is reaching the pages: read from /health/details' pollers, so
// that a user whose newest traces are missing sees why (indexing behind, or paused) instead of
// guessing.
import type { PollerFacts } from '../api/types.ts';

export type IndexingStatus =
  | { kind: 'behind'; seconds: number }
  | { kind: 'paused'; node: string; error: string | null };

// Below this the lag is ordinary freshness (a checkpoint, a busy second): not worth a word.
export const BEHIND_AFTER_SECONDS = 10;
// One failed read is retried at once; several in a row mean the poller cannot read its source.
export const PAUSED_AFTER_FAILURES = 3;

/** The worst poller's state; null while every one keeps up. */
export function indexingStatus(pollers: readonly PollerFacts[]): IndexingStatus | null {
  const failing = pollers.find((poller) => poller.consecutive_failures >= PAUSED_AFTER_FAILURES);
  if (failing) return { kind: 'paused', node: failing.node, error: failing.last_error };
  const seconds = Math.max(0, ...pollers.map((poller) => poller.lag_seconds ?? 0));
  return seconds >= BEHIND_AFTER_SECONDS ? { kind: 'behind', seconds } : null;
}

/** A short label for the top bar and the sentence that explains it. */
export function describeIndexing(status: IndexingStatus): { label: string; detail: string } {
  if (status.kind === 'paused') {
    const source = status.node === 'local' ? 'its write-ahead log' : `the ingestion node ${status.node}`;
    return {
      label: 'Indexing paused',
      detail:
        `The server cannot read the spans it accepted from ${source}` +
        `${status.error ? ` (${status.error})` : ''}. They are kept, and indexed once it can.`,
    };
  }
  const behind = aboutDuration(status.seconds);
  return {
    label: `Indexing ${behind} behind`,
    detail: `Accepted spans wait about ${behind} to be indexed: the newest traces appear once they are.`,
  };
}

function aboutDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
