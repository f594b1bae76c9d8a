// Accounts that can sign in. Any signed-in user can add or remove users.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { createUser, deleteUser, listUsers } from '../api/endpoints.ts';
import type { User } from '../api/types.ts';
import { useAuth } from '../auth/AuthProvider.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorNotice, errorText, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';

export function UsersPage() {
  const { status } = useAuth();
  const me = status.kind === 'signed-in' ? status.email : null;
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: listUsers });
  const [deleting, setDeleting] = useState<User | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: ({ email, password }: { email: string; password: string }) => createUser(email, password),
    onSuccess: (_result, { email }) => {
      setCreated(email);
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
    onError: (error) =>
      setFormError(
        error instanceof ApiError && error.status === 409
          ? 'A user with this email already exists.'
          : errorText(error),
      ),
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    setFormError(null);
    setCreated(null);
    create.mutate(
      { email: String(data.get('email') ?? '').trim(), password: String(data.get('password') ?? '') },
      { onSuccess: () => form.reset() },
    );
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Users</h1>
        <p className="muted">People who can sign in to this server.</p>
      </div>
      <form className="inline-form card" onSubmit={submit} aria-label="Add a user">
        <h2>Add a user</h2>
        <div className="form-row">
          <label>
            Email
            <input name="email" type="email" required autoComplete="off" />
          </label>
          <label>
            Password
            <input name="password" type="password" required minLength={8} autoComplete="new-password" />
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Adding…' : 'Add user'}
          </button>
        </div>
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        {created && (
          <p className="form-ok" role="status">
            {created} can now sign in.
          </p>
        )}
      </form>

      {users.isLoading ? (
        <Loading label="Loading users" />
      ) : users.error ? (
        <ErrorNotice error={users.error} retry={() => void users.refetch()} />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data?.map((user) => (
              <tr key={user.id}>
                <th scope="row">
                  {user.email}
                  {user.email === me && <span className="badge">you</span>}
                </th>
                <td>
                  <Time value={user.created_at} />
                </td>
                <td className="actions">
                  <button type="button" className="small danger-outline" onClick={() => setDeleting(user)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.email}?`}
          confirmLabel="Delete user"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await deleteUser(deleting.id);
            await queryClient.invalidateQueries({ queryKey: ['users'] });
          }}
        >
          <p>
            {deleting.email === me
              ? 'This is your own account: you will be signed out and cannot sign in again with it.'
              : 'Their sessions end immediately and they can no longer sign in.'}
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
