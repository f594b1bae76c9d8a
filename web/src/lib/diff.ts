// A readable list of what changed between two states: one line per changed value, with its path.
// jsondiffpatch computes the structural delta (array items matched by id, moves detected); this
// module flattens that delta into rows a person can scan.
import { create, type Delta } from 'jsondiffpatch';

export type ChangeKind = 'added' | 'removed' | 'changed' | 'moved';

export interface Change {
  kind: ChangeKind;
  /** path segments from the document root; for removed/moved array items, the index before */
  path: Array<string | number>;
  before?: unknown;
  after?: unknown;
  /** for moved array items: the index after the move */
  movedTo?: number;
}

const differ = create({
  // Match array items that carry an identity, so an insertion reads as one "added" row rather
  // than every following item "changed".
  objectHash: (item: object, index?: number) => {
    const o = item as Record<string, unknown>;
    for (const key of ['id', '_id', 'key', 'uuid']) {
      if (typeof o[key] === 'string' || typeof o[key] === 'number') return `${key}:${String(o[key])}`;
    }
    return `$$index:${index}`;
  },
  arrays: { detectMove: true, includeValueOnMove: false },
});

export function diffStates(before: unknown, after: unknown): Change[] {
  const delta = differ.diff(before, after);
  const changes: Change[] = [];
  if (delta !== undefined) walk(delta, [], changes);
  return changes;
}

// Delta leaves carry the values themselves: [new] added, [old, new] changed, [old, 0, 0] removed,
// ['', newIndex, 3] moved. Arrays are objects marked `_t: 'a'` keyed by new index, or `_<old index>`.
function walk(delta: Delta, path: Array<string | number>, out: Change[]): void {
  if (Array.isArray(delta)) {
    leaf(delta, path, out);
    return;
  }
  if (typeof delta !== 'object' || delta === null) return;
  const d = delta as Record<string, Delta>;
  if ((d as { _t?: unknown })._t !== 'a') {
    for (const key of Object.keys(d)) walk(d[key], [...path, key], out);
    return;
  }
  const entries = Object.keys(d)
    .filter((key) => key !== '_t')
    .map((key) => ({ key, removed: key.startsWith('_'), index: Number(key.replace(/^_/, '')) }))
    // Removals and moves (old indexes) first, then additions and edits (new indexes).
    .sort((a, b) => Number(b.removed) - Number(a.removed) || a.index - b.index);
  for (const entry of entries) walk(d[entry.key], [...path, entry.index], out);
}

function leaf(delta: unknown[], path: Array<string | number>, out: Change[]): void {
  if (delta.length === 1) out.push({ kind: 'added', path, after: delta[0] });
  else if (delta.length === 2) out.push({ kind: 'changed', path, before: delta[0], after: delta[1] });
  else if (delta[2] === 0) out.push({ kind: 'removed', path, before: delta[0] });
  else if (delta[2] === 3) out.push({ kind: 'moved', path, movedTo: delta[1] as number });
}

/** `items[2].name`, `profile["first name"]`; the whole document is `(root)`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The JSON Pointer of a path, to highlight the changed values in the state viewer. */
export function toPointer(path: ReadonlyArray<string | number>): string {
  return path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export interface TextDiff {
  prefix: string;
  removed: string;
  added: string;
  suffix: string;
}

/** Common prefix and suffix of two strings, so a long text edit shows only the part that changed. */
export function textDiff(before: string, after: string): TextDiff {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before[start] === after[start]) start++;
  let end = 0;
  while (end < max - start && before[before.length - 1 - end] === after[after.length - 1 - end]) {
    end++;
  }
  return {
    prefix: before.slice(0, start),
    removed: before.slice(start, before.length - end),
    added: after.slice(start, after.length - end),
    suffix: before.slice(before.length - end),
  };
}
