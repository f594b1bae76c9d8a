import type { Span } from '../api/types.ts';
import { ErrorNotice } from '../components/status.tsx';
import type { PagedSpans } from '../hooks/usePagedSpans.ts';

export function LoadOlder<T extends Span>({ list, noun }: { list: PagedSpans<T>; noun: string }) {
  return (
    <div className="load-older">
      {list.olderError ? <ErrorNotice error={list.olderError} retry={list.loadOlder} /> : null}
      {list.hasOlder ? (
        <button type="button" onClick={list.loadOlder} disabled={list.loadingOlder}>
          {list.loadingOlder ? 'Loading…' : `Load older ${noun}`}
        </button>
      ) : (
        <p className="muted small-text">
          {list.items.length.toLocaleString()} {noun} — that is all.
        </p>
      )}
    </div>
  );
}
