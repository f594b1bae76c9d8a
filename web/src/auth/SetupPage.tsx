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
  // Setup is open to this machine; from anywhere else it needs the token the server logged at start.
  const tokenRequired = status.kind === 'signed-out' && status.setupTokenRequired;
  return (
    <AuthForm
      title="Welcome — create the first account"
      intro={
        tokenRequired
          ? 'No account exists yet. You are not on the server’s machine, so enter the one-time setup token that the server printed in its log at start (“setup token …”). The first account can add the others.'
          : 'No account exists yet. You are on the server’s machine, so no setup token is needed. The first account you create here can add the others.'
      }
      submitLabel="Create account and sign in"
      newPassword
      onSubmit={(email, password, form) =>
        createFirstUser(
          email,
          password,
          tokenRequired ? String(form.get('setupToken') ?? '').trim() : undefined,
        )
      }
    >
      {tokenRequired && (
        <label>
          Setup token
          <input name="setupToken" autoComplete="off" spellCheck={false} required />
        </label>
      )}
    </AuthForm>
  );
}
