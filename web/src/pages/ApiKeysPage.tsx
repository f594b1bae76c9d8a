// API keys authenticate applications that export spans. A key is shown once, at creation.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { createApiKey, deleteApiKey, listApiKeys } from '../api/endpoints.ts';
import type { ApiKey, CreatedApiKey } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { CopyButton } from '../components/CopyButton.tsx';
import { SetupSnippets } from '../components/SetupSnippets.tsx';
import { EmptyState, ErrorNotice, errorText, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';

export function ApiKeysPage() {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: listApiKeys });
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [deleting, setDeleting] = useState<ApiKey | null>(null);
  const create = useMutation({
    mutationFn: createApiKey,
    onSuccess: (key) => {
      setCreated(key);
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const name = String(new FormData(form).get('name') ?? '').trim();
    create.mutate(name, { onSuccess: () => form.reset() });
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>API keys</h1>
        <p className="muted">
          Applications send spans with an API key in the <code>x-junjo-api-key</code> header. Only the first
          characters of a key are kept for display; the full key is shown once, when you create it.
        </p>
      </div>
      <form className="inline-form card" onSubmit={submit} aria-label="Create an API key">
        <h2>Create a key</h2>
        <div className="form-row">
          <label>
            Name
            <input
              name="name"
              required
              maxLength={200}
              placeholder="e.g. production chat app"
              autoComplete="off"
            />
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create key'}
          </button>
        </div>
        {create.error && (
          <p className="form-error" role="alert">
            {errorText(create.error)}
          </p>
        )}
      </form>

      {keys.isLoading ? (
        <Loading label="Loading API keys" />
      ) : keys.error ? (
        <ErrorNotice error={keys.error} retry={() => void keys.refetch()} />
      ) : keys.data?.length === 0 ? (
        <EmptyState title="No API keys yet">
          <p className="muted">
            Create one above to start sending spans: the exporter setup below then comes with your key filled
            in.
          </p>
          <SetupSnippets apiKey={null} />
        </EmptyState>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data?.map((key) => (
              <tr key={key.id}>
                <th scope="row">{key.name}</th>
                <td className="mono">{key.key_prefix}…</td>
                <td>
                  <Time value={key.created_at} />
                </td>
                <td className="actions">
                  <button type="button" className="small danger-outline" onClick={() => setDeleting(key)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {created && <CreatedKeyDialog apiKey={created} onClose={() => setCreated(null)} />}
      {deleting && (
        <ConfirmDialog
          title={`Delete the key “${deleting.name}”?`}
          confirmLabel="Delete key"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await deleteApiKey(deleting.id);
            await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
          }}
        >
          <p>
            Applications using the key starting with <code>{deleting.key_prefix}</code> can no longer send
            spans. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function CreatedKeyDialog({ apiKey, onClose }: { apiKey: CreatedApiKey; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} className="dialog dialog-wide" onClose={onClose} aria-labelledby="created-key-title">
      <h2 id="created-key-title">API key “{apiKey.name}” created</h2>
      <p className="notice notice-warn">Copy the key now. It is not stored and will not be shown again.</p>
      <div className="key-reveal">
        <code className="mono" data-testid="new-api-key">
          {apiKey.key}
        </code>
        <CopyButton text={apiKey.key} label="Copy key" className="primary" />
      </div>
      <h3>Send spans with it</h3>
      <SetupSnippets apiKey={apiKey.key} />
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          I have copied the key
        </button>
      </div>
    </dialog>
  );
}
