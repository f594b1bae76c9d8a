import { Navigate, useSearchParams } from 'react-router';
import { Loading } from '../components/status.tsx';
import { AfterSignIn } from './AfterSignIn.tsx';
import { AuthForm } from './AuthForm.tsx';
import { useAuth } from './AuthProvider.tsx';

export function SignInPage() {
  const { status, signIn } = useAuth();
  const [params] = useSearchParams();
  if (status.kind === 'checking') return <Loading label="Checking your session" fullPage />;
  if (status.kind === 'signed-in') return <AfterSignIn next={params.get('next')} />;
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
