// Sends a signed-in user on (auth/landing.ts); a server without API keys first shows how to add one.
import { useQuery } from '@tanstack/react-query';
import { Navigate } from 'react-router';
import { listApiKeys } from '../api/endpoints.ts';
import { Loading } from '../components/status.tsx';
import { landingPath, safeNext } from './landing.ts';

export function AfterSignIn({ next }: { next: string | null }) {
  const target = safeNext(next);
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: listApiKeys, enabled: target === null });
  if (target === null && keys.isPending) return <Loading label="Signing in" fullPage />;
  return <Navigate to={landingPath(target, keys.data?.length)} replace />;
}
