// Word-level diff of two answers (the original output and a new run), for the side-by-side view:
// the longest common subsequence of word and whitespace tokens, with runs of the same kind merged.
// Long texts fall back to lines so the table stays small; beyond that, one removal and one addition.

export interface DiffPart {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

const MAX_CELLS = 4_000_000;

export function diffText(before: string, after: string): DiffPart[] {
  if (before === after) return before === '' ? [] : [{ kind: 'same', text: before }];
  const words = (s: string) => s.split(/(\s+)/).filter((t) => t !== '');
  const lines = (s: string) => s.split(/(?<=\n)/);
  for (const tokenize of [words, lines]) {
    const a = tokenize(before);
    const b = tokenize(after);
    if (a.length * b.length <= MAX_CELLS) return merge(lcsDiff(a, b));
  }
  return merge([
    { kind: 'removed', text: before },
    { kind: 'added', text: after },
  ]);
}

function lcsDiff(a: string[], b: string[]): DiffPart[] {
  const n = a.length;
  const m = b.length;
  // lengths[i * (m + 1) + j] = LCS length of a[i..] and b[j..]
  const lengths = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * (m + 1) + j] =
        a[i] === b[j]
          ? (lengths[(i + 1) * (m + 1) + j + 1] ?? 0) + 1
          : Math.max(lengths[(i + 1) * (m + 1) + j] ?? 0, lengths[i * (m + 1) + j + 1] ?? 0);
    }
  }
  const parts: DiffPart[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      parts.push({ kind: 'same', text: a[i++] ?? '' });
      j++;
    } else if ((lengths[(i + 1) * (m + 1) + j] ?? 0) >= (lengths[i * (m + 1) + j + 1] ?? 0)) {
      parts.push({ kind: 'removed', text: a[i++] ?? '' });
    } else {
      parts.push({ kind: 'added', text: b[j++] ?? '' });
    }
  }
  while (i < n) parts.push({ kind: 'removed', text: a[i++] ?? '' });
  while (j < m) parts.push({ kind: 'added', text: b[j++] ?? '' });
  return parts;
}

function merge(parts: DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  for (const part of parts) {
    if (part.text === '') continue;
    const last = out.at(-1);
    if (last && last.kind === part.kind) last.text += part.text;
    else out.push({ ...part });
  }
  return out;
}
