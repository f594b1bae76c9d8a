// Loading, error and empty states, the same everywhere.
import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';

export function errorText(error: unknown): string {
  if (error instanceof ApiError || error instanceof Error) return error.message;
  return String(error);
}

export function Loading({ label = 'Loading', fullPage = false }: { label?: string; fullPage?: boolean }) {
  return (
    <div className={fullPage ? 'loading loading-page' : 'loading'} role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}…
    </div>
  );
}

export function ErrorNotice({ error, retry, title }: { error: unknown; retry?: () => void; title?: string }) {
  const status = error instanceof ApiError ? error.status : null;
  const heading =
    title ??
    (status === 404
      ? 'Not found'
      : status === 0
        ? 'Server unreachable'
        : status !== null && status >= 500
          ? 'The server had a problem'
          : 'Something went wrong');
  return (
    <div className="notice notice-error" role="alert">
      <strong>{heading}</strong>
      <span>{errorText(error)}</span>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h2>{title}</h2>
      {children}
    </div>
  );
}
