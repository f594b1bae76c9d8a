// Spans of a trace can still be arriving when it is opened: fetch them again on request.
export function ReloadButton({ reload, reloading }: { reload(): void; reloading: boolean }) {
  return (
    <button type="button" className="small" onClick={() => reload()} disabled={reloading}>
      {reloading ? 'Reloading…' : 'Reload'}
    </button>
  );
}
