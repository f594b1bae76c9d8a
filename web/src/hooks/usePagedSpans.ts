// A newest-first span list with keyset paging (`before=<start_time>`) and an optional live head:
// the first page is re-fetched every few seconds and merged in. Every span seen stays listed —
// one pushed out of the head page by newer spans does not fall into the gap before the older
// pages — and older pages are fetched once (a span is stored when it ends, it does not change).
import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Page } from '../api/endpoints.ts';
import type { Span } from '../api/types.ts';
import { parseTimestampMicros } from '../lib/time.ts';

/** Rows per request: a screenful or two, quick to fetch; older rows come a page at a time. */
const PAGE_SIZE = 50;
const LIVE_INTERVAL_MS = 5000;

export interface PagedSpans<T extends Span = Span> {
  items: T[];
  isLoading: boolean;
  error: unknown;
  refetch(): void;
  loadOlder(): void;
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: unknown;
  updatedAt: number;
}

interface Retained<T extends Span> {
  /** the list this belongs to: switching lists (service, filter) starts over */
  list: string;
  spans: ReadonlyMap<string, T>;
  /** null until an older page was fetched; then: was the last one full? */
  olderPageFull: boolean | null;
  loading: boolean;
  error: unknown;
}

const keyOf = (s: Span) => `${s.trace_id}:${s.span_id}`;
const fresh = <T extends Span>(list: string): Retained<T> => ({
  list,
  spans: new Map(),
  olderPageFull: null,
  loading: false,
  error: null,
});

function withSpans<T extends Span>(current: Retained<T>, spans: readonly T[]): Map<string, T> {
  const next = new Map(current.spans);
  for (const span of spans) next.set(keyOf(span), span);
  return next;
}

export function usePagedSpans<T extends Span = Span>(
  queryKey: readonly unknown[],
  fetchPage: (page: Page) => Promise<T[]>,
  live: boolean,
): PagedSpans<T> {
  const head = useQuery({
    queryKey: [...queryKey, 'head'],
    queryFn: () => fetchPage({ limit: PAGE_SIZE }),
    refetchInterval: live ? LIVE_INTERVAL_MS : false,
    staleTime: 0,
  });
  const list = JSON.stringify(queryKey);
  const [stored, setStored] = useState<Retained<T>>(() => fresh<T>(list));
  const retained = stored.list === list ? stored : fresh<T>(list);
  const headData = head.data;

  useEffect(() => {
    if (!headData) return;
    setStored((current) => {
      const base = current.list === list ? current : fresh<T>(list);
      return { ...base, spans: withSpans(base, headData) };
    });
  }, [headData, list]);

  const items = useMemo(() => {
    const all = new Map(retained.spans);
    for (const span of headData ?? []) all.set(keyOf(span), span);
    return (
      [...all.values()]
        .map((span) => ({ span, start: parseTimestampMicros(span.start_time) }))
        // the server's order: start_time, then span_id, both descending
        .sort((a, b) => b.start - a.start || (a.span.span_id < b.span.span_id ? 1 : -1))
        .map(({ span }) => span)
    );
  }, [headData, retained.spans]);

  const hasOlder = retained.olderPageFull ?? (headData?.length ?? 0) >= PAGE_SIZE;

  const loadOlder = useCallback(() => {
    const oldest = items[items.length - 1];
    if (!oldest || retained.loading) return;
    setStored({ ...retained, loading: true, error: null });
    fetchPage({ limit: PAGE_SIZE, after: oldest }).then(
      (page) =>
        setStored((current) =>
          current.list === list
            ? {
                ...current,
                spans: withSpans(current, page),
                olderPageFull: page.length >= PAGE_SIZE,
                loading: false,
              }
            : current,
        ),
      (error: unknown) =>
        setStored((current) => (current.list === list ? { ...current, loading: false, error } : current)),
    );
  }, [items, retained, fetchPage, list]);

  return {
    items,
    isLoading: head.isLoading,
    error: head.error,
    refetch: () => void head.refetch(),
    loadOlder,
    hasOlder,
    loadingOlder: retained.loading,
    olderError: retained.error,
    updatedAt: head.dataUpdatedAt,
  };
}
