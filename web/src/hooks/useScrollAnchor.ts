// Keeps what the user is looking at in place when rows are inserted above it (a live list
// receiving new runs at the top): the page is scrolled by exactly the height that was added.
// The list itself should carry `overflow-anchor: none` so the browser does not compensate twice.
import { type RefObject, useLayoutEffect, useRef } from 'react';

export function useScrollAnchor(listRef: RefObject<HTMLElement | null>, firstKey: string | undefined): void {
  const previous = useRef<{ key: string | undefined; offset: number | null }>({
    key: undefined,
    offset: null,
  });
  // Runs after every commit, before paint: where is the previously first row now?
  useLayoutEffect(() => {
    const list = listRef.current;
    const last = previous.current;
    const offsetOf = (key: string | undefined) => {
      if (!list || key === undefined) return null;
      const row = list.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
      return row ? row.getBoundingClientRect().top + window.scrollY : null;
    };
    if (last.key !== firstKey && last.offset !== null && window.scrollY > 0) {
      const moved = offsetOf(last.key);
      if (moved !== null && moved !== last.offset) window.scrollBy(0, moved - last.offset);
    }
    previous.current = { key: firstKey, offset: offsetOf(firstKey) };
  });
}
