// The form shared by first-user setup and sign-in: email, password, one submit, the server's message.
import { type FormEvent, type ReactNode, useState } from 'react';
import { errorText } from '../components/status.tsx';

export function AuthForm(props: {
  title: string;
  intro: string;
  submitLabel: string;
  newPassword: boolean;
  /** Extra fields below the password (their values reach onSubmit in `form`). */
  children?: ReactNode;
  onSubmit(email: string, password: string, form: FormData): Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (props.newPassword && password !== String(form.get('confirm') ?? '')) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit(email, password, form);
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="auth-card" onSubmit={submit} aria-labelledby="auth-title">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">J</span> Junjo Server
        </div>
        <h1 id="auth-title">{props.title}</h1>
        <p className="muted">{props.intro}</p>
        <label>
          Email
          {/* biome-ignore lint/a11y/noAutofocus: this form is the only thing on the page */}
          <input name="email" type="email" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={props.newPassword ? 'new-password' : 'current-password'}
            minLength={props.newPassword ? 8 : undefined}
            required
          />
        </label>
        {props.newPassword && (
          <label>
            Repeat password
            <input name="confirm" type="password" autoComplete="new-password" minLength={8} required />
          </label>
        )}
        {props.children}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : props.submitLabel}
        </button>
      </form>
    </main>
  );
}
