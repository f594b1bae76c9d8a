import { isRouteErrorResponse, Link, useRouteError } from 'react-router';
import { EmptyState } from '../components/status.tsx';
import { paths } from '../paths.ts';

export function NotFoundPage() {
  return (
    <div className="page">
      <EmptyState title="Page not found">
        <p>
          <Link to={paths.services()}>Go to the services</Link>
        </p>
      </EmptyState>
    </div>
  );
}

/** Shown instead of a blank page when rendering a route throws. */
export function RouteErrorPage() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : String(error);
  return (
    <main className="page">
      <div className="notice notice-error" role="alert">
        <strong>This page failed to display.</strong>
        <span>{message}</span>
        <a href={paths.services()}>Reload the app</a>
      </div>
    </main>
  );
}
