import { formatDateTime, formatRelative, parseTimestampMicros } from '../lib/time.ts';

/** An RFC 3339 time as local date-time, or "3 min ago" with the exact time on hover. */
export function Time({ value, relative = false, now }: { value: string; relative?: boolean; now?: number }) {
  const micros = parseTimestampMicros(value);
  const exact = formatDateTime(micros);
  return (
    <time dateTime={value} title={relative ? exact : value}>
      {relative ? formatRelative(micros, now ?? Date.now() * 1000) : exact}
    </time>
  );
}
