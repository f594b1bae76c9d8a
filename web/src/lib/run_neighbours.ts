// The previous and next run of the same workflow (service + workflow name), by start time, found
// with the workflow-runs list the runs page uses. That list pages newest first through a keyset
// cursor and cannot filter by name, so runs of other workflows in between are read and skipped.
import type { Page } from '../api/endpoints.ts';
import type { SpanSummary } from '../api/types.ts';
import { formatTimestampMicros, parseTimestampMicros } from './time.ts';

export const NEIGHBOUR_PAGE = 50;
/** Gives up after this many pages (2,000 runs of other workflows in between): the button stays off. */
export const MAX_PAGES = 40;
/** The first window searched for a newer run; each next one is 16 times longer. */
const FIRST_WINDOW_MICROS = 60_000_000;

type FetchPage = (page: Page) => Promise<SpanSummary[]>;
/** What identifies a run in the list: a listed span, or the compact span the debugger shows. */
type Run = Pick<SpanSummary, 'span_id' | 'start_time' | 'name' | 'service_name'>;

/** A position in the list's order: start time, then span id ('' = before every span of that instant). */
interface Key {
  micros: number;
  spanId: string;
}

const keyOf = (span: Run): Key => ({ micros: parseTimestampMicros(span.start_time), spanId: span.span_id });
const isAfter = (a: Key, b: Key) => a.micros > b.micros || (a.micros === b.micros && a.spanId > b.spanId);
const sameWorkflow = (a: Run, b: Run) => a.name === b.name && a.service_name === b.service_name;

/** The newest run of the same workflow that started before `run`, or null. */
export async function previousRun(run: Run, fetchPage: FetchPage): Promise<SpanSummary | null> {
  let after: Page['after'] = { start_time: run.start_time, span_id: run.span_id };
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await fetchPage({ limit: NEIGHBOUR_PAGE, after });
    const found = page.find((span) => sameWorkflow(span, run));
    if (found) return found;
    const last = page.at(-1);
    if (!last || page.length < NEIGHBOUR_PAGE) return null;
    after = { start_time: last.start_time, span_id: last.span_id };
  }
  return null;
}

/**
 * The oldest run of the same workflow that started after `run`, or null. The list only pages
 * towards older runs, so it is read downwards from the end of ever longer windows after `run`
 * (1 min, 16 min, 4 h, …, then from the newest run), each window down to where the last one ended.
 */
export async function nextRun(
  run: Run,
  fetchPage: FetchPage,
  nowMicros: number,
): Promise<SpanSummary | null> {
  const start = keyOf(run);
  let floor = start;
  let pages = 0;
  for (let window = FIRST_WINDOW_MICROS; ; window *= 16) {
    const ceiling = start.micros + window;
    const open = ceiling > nowMicros;
    let after: Page['after'] = open ? undefined : { start_time: formatTimestampMicros(ceiling) };
    let nearest: SpanSummary | null = null;
    for (;;) {
      if (pages++ >= MAX_PAGES) return null;
      const page = await fetchPage({ limit: NEIGHBOUR_PAGE, after });
      const newer = page.filter((span) => isAfter(keyOf(span), floor));
      // the list is newest first: the last match is the one closest to `run`
      nearest = newer.findLast((span) => sameWorkflow(span, run)) ?? nearest;
      const last = page.at(-1);
      if (!last || newer.length < page.length || page.length < NEIGHBOUR_PAGE) break;
      after = { start_time: last.start_time, span_id: last.span_id };
    }
    if (nearest || open) return nearest;
    // everything before the ceiling is read; the next window stops there
    floor = { micros: ceiling, spanId: '' };
  }
}
