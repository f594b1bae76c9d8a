// A collapsible JSON tree. Only open branches are rendered and long arrays come in pages, so a
// large state or attribute map stays quick. Values at `highlight` pointers are marked (diffs).
// A string that holds a JSON object or array is shown as that tree, its raw text one click away.
import { type CSSProperties, useEffect, useMemo, useState } from 'react';
import type { ChangeKind } from '../lib/diff.ts';
import { parseJsonContainer } from '../lib/json_string.ts';
import { CopyButton } from './CopyButton.tsx';

const PAGE = 100;
const LONG_STRING = 400;

export type Highlight = ReadonlyMap<string, ChangeKind>;

interface Context {
  depth: number;
  highlight: Highlight | undefined;
  /** pointers of the branches that contain a highlighted value: opened automatically */
  openPaths: ReadonlySet<string>;
}

export function JsonView(props: {
  value: unknown;
  highlight?: Highlight;
  initialDepth?: number;
  toolbar?: boolean;
  label?: string;
}) {
  const { value, highlight, initialDepth = 2, toolbar = true } = props;
  const [mode, setMode] = useState({ depth: initialDepth, version: 0 });
  const openPaths = useMemo(() => {
    const set = new Set<string>();
    for (const pointer of highlight?.keys() ?? []) {
      const parts = pointer.split('/');
      for (let i = 1; i < parts.length; i++) set.add(parts.slice(0, i).join('/'));
    }
    return set;
  }, [highlight]);
  const context: Context = { depth: mode.depth, highlight, openPaths };
  return (
    <div className="json-view">
      {toolbar && (
        <div className="json-toolbar">
          <button
            type="button"
            className="small"
            onClick={() => setMode((m) => ({ depth: 64, version: m.version + 1 }))}
          >
            Expand all
          </button>
          <button
            type="button"
            className="small"
            onClick={() => setMode((m) => ({ depth: 1, version: m.version + 1 }))}
          >
            Collapse
          </button>
          <CopyButton text={() => JSON.stringify(value, null, 2) ?? 'undefined'} label="Copy JSON" />
        </div>
      )}
      <div className="json-tree">
        <JsonNode
          key={mode.version}
          name={props.label ?? null}
          value={value}
          pointer=""
          level={0}
          context={context}
        />
      </div>
    </div>
  );
}

function JsonNode(props: {
  name: string | number | null;
  value: unknown;
  pointer: string;
  level: number;
  context: Context;
}) {
  const { name, pointer, level, context } = props;
  const mark = context.highlight?.get(pointer);
  const parsed = useMemo(
    () => (typeof props.value === 'string' ? parseJsonContainer(props.value) : undefined),
    [props.value],
  );
  const [raw, setRaw] = useState(false);
  const value = parsed !== undefined && !raw ? parsed : props.value;
  const isBranch = typeof value === 'object' && value !== null;
  const rawToggle = parsed !== undefined && (
    <button
      type="button"
      className="link small json-raw-toggle"
      title={raw ? 'Show the JSON this string holds as a tree' : 'Show the string as it was sent'}
      onClick={() => setRaw(!raw)}
    >
      {raw ? 'tree' : 'JSON string · raw'}
    </button>
  );
  const [open, setOpen] = useState(() => level < context.depth || context.openPaths.has(pointer));
  const [shown, setShown] = useState(PAGE);
  const wantsOpen = context.openPaths.has(pointer);
  useEffect(() => {
    if (wantsOpen) setOpen(true);
  }, [wantsOpen]);
  const rowClass = `json-row${mark ? ` diff-${mark}` : ''}`;
  const key =
    name === null ? null : (
      <span className={typeof name === 'number' ? 'json-index' : 'json-key'}>
        {typeof name === 'number' ? name : JSON.stringify(name).slice(1, -1)}
        <span className="json-colon">:</span>
      </span>
    );
  if (!isBranch) {
    return (
      <div className={rowClass}>
        <span className="json-toggle-space" />
        {key}
        <JsonScalar value={value} />
        {rawToggle}
      </div>
    );
  }
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value as Record<string, unknown>);
  const summary = Array.isArray(value)
    ? `[${entries.length} ${entries.length === 1 ? 'item' : 'items'}]`
    : `{${entries.length} ${entries.length === 1 ? 'key' : 'keys'}}`;
  return (
    <div className="json-branch">
      <div className={rowClass}>
        <button
          type="button"
          className="json-toggle"
          aria-expanded={open}
          aria-label={`${open ? 'Collapse' : 'Expand'} ${name ?? 'root'}`}
          onClick={() => setOpen(!open)}
          disabled={entries.length === 0}
        >
          {entries.length === 0 ? '' : open ? '▾' : '▸'}
        </button>
        {key}
        <span className="json-summary">{summary}</span>
        {rawToggle}
      </div>
      {open && entries.length > 0 && (
        <div className="json-children" style={{ '--level': level } as CSSProperties}>
          {entries.slice(0, shown).map(([childName, child]) => (
            <JsonNode
              key={childName}
              name={childName}
              value={child}
              pointer={`${pointer}/${escapePointer(String(childName))}`}
              level={level + 1}
              context={context}
            />
          ))}
          {entries.length > shown && (
            <button type="button" className="small json-more" onClick={() => setShown(shown + PAGE)}>
              Show {Math.min(PAGE, entries.length - shown)} more of {entries.length - shown}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function JsonScalar({ value }: { value: unknown }) {
  const [full, setFull] = useState(false);
  if (typeof value === 'string') {
    const long = value.length > LONG_STRING;
    const text = long && !full ? `${value.slice(0, LONG_STRING)}…` : value;
    return (
      <span className="json-string">
        "{text}"
        {long && (
          <button type="button" className="link small" onClick={() => setFull(!full)}>
            {full ? 'less' : `${value.length.toLocaleString()} chars — show all`}
          </button>
        )}
      </span>
    );
  }
  if (typeof value === 'number') return <span className="json-number">{String(value)}</span>;
  if (typeof value === 'boolean') return <span className="json-boolean">{String(value)}</span>;
  if (value === null) return <span className="json-null">null</span>;
  return <span className="json-null">{value === undefined ? 'undefined' : String(value)}</span>;
}
