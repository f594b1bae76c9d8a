// Span timestamps arrive as RFC 3339 strings with microseconds; event times as nanosecond strings.
// Everything on screen is computed in integer microseconds since the epoch (safe in a JS number
// until the year 2255), so durations of a few µs stay exact.

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i;

/** Microseconds since the epoch, or NaN for an unreadable timestamp. */
export function parseTimestampMicros(timestamp: string): number {
  const fast = serverFormMicros(timestamp);
  if (fast !== undefined) return fast;
  const match = RFC3339.exec(timestamp.trim());
  if (!match) return Number.NaN;
  const [, whole, fraction = '', zone] = match;
  const seconds = secondsPart(whole!, zone!.toUpperCase());
  if (Number.isNaN(seconds)) return Number.NaN;
  const micros = Number(fraction.slice(0, 6).padEnd(6, '0'));
  return seconds * 1000 + micros;
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

/**
 * The form the server always sends, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, read without a regex or new
 * strings but the seconds' key: a 10,000-span trace has 20,000 of them to read before the page
 * can draw. undefined for any other form (the general parser reads those).
 */
function serverFormMicros(text: string): number | undefined {
  if (text.length !== 27 || text.charCodeAt(19) !== 46 /* . */ || text.charCodeAt(26) !== 90 /* Z */) {
    return undefined;
  }
  let micros = 0;
  for (let i = 20; i < 26; i++) {
    const digit = text.charCodeAt(i);
    if (digit < DIGIT_0 || digit > DIGIT_9) return undefined;
    micros = micros * 10 + (digit - DIGIT_0);
  }
  const seconds = secondsPart(text.slice(0, 19), 'Z');
  return Number.isNaN(seconds) ? undefined : seconds * 1000 + micros;
}

/** The server's timestamp form, RFC 3339 UTC with microseconds (what `before=` cursors take). */
export function formatTimestampMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const fraction = String(micros - ms * 1000).padStart(3, '0');
  return new Date(ms).toISOString().replace('Z', `${fraction}Z`);
}

// Spans of one trace share a handful of distinct seconds: parse each whole-second part once.
// Keyed by the zone-less `YYYY-MM-DDTHH:MM:SS` for UTC (the server's form: no new string per
// timestamp), by the part and its zone otherwise.
const secondsCache = new Map<string, number>();
function secondsPart(whole: string, zone: string): number {
  const key = zone === 'Z' ? whole : `${whole}${zone}`;
  let ms = secondsCache.get(key);
  if (ms === undefined) {
    if (secondsCache.size > 10_000) secondsCache.clear();
    ms = Date.parse(`${whole}${zone}`);
    secondsCache.set(key, ms);
  }
  return ms;
}

/** Nanosecond event time (decimal string, or a number from older servers) as a BigInt. */
export function parseNanos(value: unknown): bigint | null {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.round(value));
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  return null;
}

export function nanosToMicros(nanos: bigint): number {
  return Number(nanos / 1000n);
}

/** A short human duration: `850 µs`, `12.3 ms`, `1.52 s`, `2 m 05 s`, `3 h 04 m`. */
export function formatDuration(micros: number): string {
  if (!Number.isFinite(micros)) return '—';
  const abs = Math.abs(micros);
  if (abs < 1000) return `${Math.round(micros)} µs`;
  if (abs < 1_000_000) return `${trim(micros / 1000)} ms`;
  if (abs < 60_000_000) return `${trim(micros / 1_000_000)} s`;
  const totalSeconds = Math.round(micros / 1_000_000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  return hours > 0 ? `${hours} h ${pad2(minutes)} m` : `${minutes} m ${pad2(seconds)} s`;
}

function trim(value: number): string {
  const digits = Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0;
  const fixed = value.toFixed(digits);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local date and time with milliseconds, e.g. `2025-10-12 19:33:48.123`. */
export function formatDateTime(micros: number): string {
  if (!Number.isFinite(micros)) return '—';
  const d = new Date(Math.floor(micros / 1000));
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${date} ${time}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `just now`, `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function formatRelative(micros: number, nowMicros: number): string {
  if (!Number.isFinite(micros)) return '—';
  const seconds = Math.max(0, Math.round((nowMicros - micros) / 1_000_000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}
