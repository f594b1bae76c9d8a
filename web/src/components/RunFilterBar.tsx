// The workflow-runs filter bar. Its fields edit a draft; Apply writes the draft to the page URL
// (run_filters.ts), which is the filter's only state, so a filtered list can be shared or reloaded.
import { type FormEvent, useState } from 'react';
import { formFromParams, paramsFromForm, type RunFilterForm, type RunFilterKey } from '../lib/run_filters.ts';

const FIELDS: {
  key: Exclude<RunFilterKey, 'state_of'>;
  label: string;
  placeholder: string;
  lines?: boolean;
}[] = [
  { key: 'workflow', label: 'Workflow', placeholder: 'name' },
  { key: 'node', label: 'Ran node', placeholder: 'node name (one per line)', lines: true },
  { key: 'not_node', label: 'Did not run', placeholder: 'node name (one per line)', lines: true },
  { key: 'failed_node', label: 'Failed node', placeholder: 'node name (one per line)', lines: true },
  { key: 'min_ms', label: 'Min ms', placeholder: '0' },
  { key: 'max_ms', label: 'Max ms', placeholder: '∞' },
  { key: 'from', label: 'From', placeholder: '2025-06-04T00:00:00Z' },
  { key: 'to', label: 'To', placeholder: '2025-06-05T00:00:00Z' },
];

export function RunFilterBar(props: { search: URLSearchParams; onApply(filters: URLSearchParams): void }) {
  const applied = formFromParams(props.search);
  const [draft, setDraft] = useState<RunFilterForm>(applied);
  const [basis, setBasis] = useState(props.search.toString());
  // The URL changed elsewhere (history, a link): show what it now says.
  if (basis !== props.search.toString()) {
    setBasis(props.search.toString());
    setDraft(applied);
  }
  const set = (key: RunFilterKey, value: string) => setDraft((current) => ({ ...current, [key]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onApply(paramsFromForm(draft));
  };
  const clear = () => props.onApply(new URLSearchParams());

  return (
    <form className="run-filters" aria-label="Filter runs" onSubmit={submit}>
      <div className="run-filter run-filter-state">
        <label htmlFor="run-filter-state">State</label>
        <span className="run-filter-state-row">
          <select
            value={draft.state_of || 'end'}
            onChange={(e) => set('state_of', e.target.value)}
            aria-label="State of"
          >
            <option value="end">end state</option>
            <option value="start">start state</option>
          </select>
          <OneLine
            id="run-filter-state"
            name="state"
            value={draft.state}
            placeholder='$.intent = "billing"   ·   $.items.length > 3   ·   $.note exists (one per line)'
            onChange={(value) => set('state', value)}
          />
        </span>
      </div>
      {FIELDS.map(({ key, label, placeholder, lines }) => (
        <div key={key} className={`run-filter run-filter-${key}`}>
          <label htmlFor={`run-filter-${key}`}>{label}</label>
          {lines ? (
            <OneLine
              id={`run-filter-${key}`}
              name={key}
              value={draft[key]}
              placeholder={placeholder}
              onChange={(value) => set(key, value)}
            />
          ) : (
            <input
              id={`run-filter-${key}`}
              name={key}
              value={draft[key]}
              placeholder={placeholder}
              onChange={(e) => set(key, e.target.value)}
            />
          )}
        </div>
      ))}
      <div className="run-filter-actions">
        <button type="submit" className="primary small">
          Apply
        </button>
        <button type="button" className="small" onClick={clear} disabled={props.search.size === 0}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** A field that holds one value per line (Shift+Enter adds a line; Enter applies the filters). */
function OneLine(props: {
  id: string;
  name: string;
  value: string;
  placeholder: string;
  onChange(value: string): void;
}) {
  return (
    <textarea
      id={props.id}
      name={props.name}
      rows={Math.max(1, props.value.split('\n').length)}
      value={props.value}
      placeholder={props.placeholder}
      onChange={(e) => props.onChange(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && !e.shiftKey) {
          e.preventDefault();
          e.currentTarget.form?.requestSubmit();
        }
      }}
    />
  );
}
