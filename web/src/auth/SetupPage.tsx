import { Navigate } from 'react-router';
import { Loading } from '../components/status.tsx';
import { AfterSignIn } from './AfterSignIn.tsx';
import { AuthForm } from './AuthForm.tsx';
import { useAuth } from './AuthProvider.tsx';

/** First start: create the first account (only possible while no user exists). */
export function SetupPage() {
  const { status, createFirstUser } = useAuth();
  if (status.kind === 'checking') return <Loading label="Checking your session" fullPage />;
  if (status.kind === 'signed-in') return <AfterSignIn next={null} />;
  if (status.kind === 'signed-out' && status.usersExist) return <Navigate to="/sign-in" replace />;
  return (
    <AuthForm
      title="Welcome — create the first account"
      intro="No account exists yet. The first one you create here can add the others."
      submitLabel="Create account and sign in"
      newPassword
      onSubmit={createFirstUser}
    />
  );
}
