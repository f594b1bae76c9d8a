// A newest-first span list with keyset paging (`before=<start_time>`) and an optional live head:
// the first page is re-fetched every few seconds and merged in; older pages, once loaded, do not
// change (a span is stored when it ends), so they are fetched once.
import { useQuery } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';
import type { Page } from '../api/endpoints.ts';
import type { Span } from '../api/types.ts';
import { parseTimestampMicros } from '../lib/time.ts';

export const PAGE_SIZE = 100;
const LIVE_INTERVAL_MS = 5000;

export interface PagedSpans {
  items: Span[];
  isLoading: boolean;
  error: unknown;
  refetch(): void;
  loadOlder(): void;
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: unknown;
  updatedAt: number;
}

interface OlderPages {
  /** the list these pages belong to: switching lists (service, filter) starts over */
  list: string;
  pages: Span[][];
  loading: boolean;
  error: unknown;
}

const NO_PAGES: Span[][] = [];
const keyOf = (s: Span) => `${s.trace_id}:${s.span_id}`;

export function usePagedSpans(
  queryKey: readonly unknown[],
  fetchPage: (page: Page) => Promise<Span[]>,
  live: boolean,
): PagedSpans {
  const head = useQuery({
    queryKey: [...queryKey, 'head'],
    queryFn: () => fetchPage({ limit: PAGE_SIZE }),
    refetchInterval: live ? LIVE_INTERVAL_MS : false,
    staleTime: 0,
  });
  const list = JSON.stringify(queryKey);
  const [stored, setStored] = useState<OlderPages>({ list, pages: [], loading: false, error: null });
  const older: OlderPages =
    stored.list === list ? stored : { list, pages: NO_PAGES, loading: false, error: null };

  const items = useMemo(() => {
    const seen = new Set<string>();
    const merged: Array<{ span: Span; start: number }> = [];
    for (const page of [head.data ?? [], ...older.pages]) {
      for (const span of page) {
        const key = keyOf(span);
        if (seen.has(key)) continue;
        seen.add(key);
        merged.push({ span, start: parseTimestampMicros(span.start_time) });
      }
    }
    return merged.sort((a, b) => b.start - a.start).map(({ span }) => span);
  }, [head.data, older.pages]);

  const lastPage = older.pages.length > 0 ? older.pages[older.pages.length - 1]! : head.data;
  const hasOlder = (lastPage?.length ?? 0) >= PAGE_SIZE;

  const loadOlder = useCallback(() => {
    const oldest = items[items.length - 1];
    if (!oldest || older.loading) return;
    setStored({ ...older, loading: true, error: null });
    fetchPage({ limit: PAGE_SIZE, before: oldest.start_time }).then(
      (page) =>
        setStored((current) =>
          current.list === list ? { ...current, pages: [...current.pages, page], loading: false } : current,
        ),
      (error: unknown) =>
        setStored((current) => (current.list === list ? { ...current, loading: false, error } : current)),
    );
  }, [items, older, fetchPage, list]);

  return {
    items,
    isLoading: head.isLoading,
    error: head.error,
    refetch: () => void head.refetch(),
    loadOlder,
    hasOlder,
    loadingOlder: older.loading,
    olderError: older.error,
    updatedAt: head.dataUpdatedAt,
  };
}
