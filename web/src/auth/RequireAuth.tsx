import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { ErrorNotice, Loading } from '../components/status.tsx';
import { useAuth } from './AuthProvider.tsx';

/** Renders its children only for a signed-in user; otherwise goes to setup or sign-in and back. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, recheck } = useAuth();
  const location = useLocation();
  if (status.kind === 'checking') return <Loading label="Checking your session" fullPage />;
  if (status.kind === 'unreachable') {
    return (
      <main className="auth-page">
        <ErrorNotice error={status.error} retry={recheck} />
      </main>
    );
  }
  if (status.kind === 'signed-out') {
    if (!status.usersExist) return <Navigate to="/setup" replace />;
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/sign-in${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return children;
}
