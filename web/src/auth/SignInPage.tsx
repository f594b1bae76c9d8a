import { Navigate, useSearchParams } from 'react-router';
import { Loading } from '../components/status.tsx';
import { AuthForm } from './AuthForm.tsx';
import { useAuth } from './AuthProvider.tsx';

/** Only same-site paths are followed after sign-in, never another origin. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/services';
}

export function SignInPage() {
  const { status, signIn } = useAuth();
  const [params] = useSearchParams();
  if (status.kind === 'checking') return <Loading label="Checking your session" fullPage />;
  if (status.kind === 'signed-in') return <Navigate to={safeNext(params.get('next'))} replace />;
  if (status.kind === 'signed-out' && !status.usersExist) return <Navigate to="/setup" replace />;
  return (
    <AuthForm
      title="Sign in"
      intro="Debug your Junjo workflows: graphs, state changes and traces."
      submitLabel="Sign in"
      newPassword={false}
      onSubmit={signIn}
    />
  );
}
