// The "Changes" tab: one row per changed value, old → new, long text edits shown in place.
import { type Change, formatPath, textDiff } from '../../lib/diff.ts';
import { JsonView } from '../JsonView.tsx';

const symbol = { added: '+', removed: '−', changed: '~', moved: '↕' } as const;

export function ChangeList({ changes }: { changes: Change[] }) {
  if (changes.length === 0) return <p className="muted">No values changed in this step.</p>;
  return (
    <ul className="changes">
      {changes.map((change) => (
        <li key={`${change.kind}:${formatPath(change.path)}`} className={`change change-${change.kind}`}>
          <span className="change-kind" title={change.kind}>
            {symbol[change.kind]}
          </span>
          <code className="change-path">{formatPath(change.path)}</code>
          <span className="change-what">{change.kind}</span>
          <div className="change-values">
            <ChangeValues change={change} />
          </div>
        </li>
      ))}
    </ul>
  );
}

function ChangeValues({ change }: { change: Change }) {
  if (change.kind === 'moved') return <span className="muted">to index {change.movedTo}</span>;
  if (change.kind === 'added') return <Value value={change.after} tone="added" />;
  if (change.kind === 'removed') return <Value value={change.before} tone="removed" />;
  if (
    typeof change.before === 'string' &&
    typeof change.after === 'string' &&
    change.before.length + change.after.length > 80
  ) {
    const d = textDiff(change.before, change.after);
    return (
      <p className="text-diff">
        {d.prefix}
        {d.removed && <del>{d.removed}</del>}
        {d.added && <ins>{d.added}</ins>}
        {d.suffix}
      </p>
    );
  }
  return (
    <>
      <Value value={change.before} tone="removed" />
      <span className="change-arrow" aria-hidden="true">
        →
      </span>
      <span className="sr-only">changed to</span>
      <Value value={change.after} tone="added" />
    </>
  );
}

function Value({ value, tone }: { value: unknown; tone: 'added' | 'removed' }) {
  if (typeof value === 'object' && value !== null) {
    const preview = JSON.stringify(value);
    return (
      <details className={`value value-${tone}`}>
        <summary>
          <code>{preview.length > 120 ? `${preview.slice(0, 120)}…` : preview}</code>
        </summary>
        <JsonView value={value} toolbar={false} />
      </details>
    );
  }
  return (
    <code className={`value value-${tone}`}>{value === undefined ? 'undefined' : JSON.stringify(value)}</code>
  );
}
