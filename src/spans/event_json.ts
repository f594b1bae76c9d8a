// Reading stored events_json (api.md §7.3), whose `timeUnixNano` is a JSON number. A nanosecond
// timestamp has 19–20 digits and a JS number keeps only about 16, so the server never lets one pass
// through a JS number: the span processor writes the digits as text (eventsJson), they are read back
// as bigint from the JSON source text, and the decimal strings that older versions stored are
// rewritten as numbers (the store's migration).
import type { JsonObject } from './span_processor.ts';

export interface StoredSpanEvent {
  name: string;
  timeUnixNano: bigint;
  droppedAttributesCount: number;
  attributes: JsonObject;
}

const DIGITS = /^\d+$/;

/** Parses stored events_json with exact times (a number, or the decimal string of older versions). */
export function parseEventsJson(text: string): StoredSpanEvent[] {
  // The reviver sees each event's timeUnixNano with its source text; remembering it by the object
  // that holds it keeps an attribute that happens to be called timeUnixNano out of the way.
  const times = new WeakMap<object, bigint>();
  const events = JSON.parse(
    text,
    function (this: object, key: string, value: unknown, context?: { source?: string }) {
      const digits = typeof value === 'string' ? value : context?.source;
      if (key === 'timeUnixNano' && digits !== undefined && DIGITS.test(digits))
        times.set(this, BigInt(digits));
      return value;
    },
  ) as Array<Omit<StoredSpanEvent, 'timeUnixNano'>>;
  return events.map((event) => ({ ...event, timeUnixNano: times.get(event) ?? 0n }));
}

/** The marker of a stored events_json that still holds decimal-string times (older versions). */
export const STRING_TIME_MARKER = '"timeUnixNano":"';

/**
 * Older events_json text → the same text with each event's `"timeUnixNano":"<digits>"` written as a
 * number; every other byte is kept. Only keys of the event objects themselves (depth 2) are touched,
 * never an attribute of the same name.
 */
export function numericEventTimes(text: string): string {
  if (!text.includes(STRING_TIME_MARKER)) return text;
  let out = '';
  let copied = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === '"') {
      const end = stringEnd(text, i);
      if (depth === 2 && text.startsWith('"timeUnixNano"', i) && end === i + 14) {
        STRING_TIME.lastIndex = end;
        const m = STRING_TIME.exec(text);
        if (m) {
          out += `${text.slice(copied, end)}:${m[1]}`;
          copied = STRING_TIME.lastIndex;
          i = copied - 1;
          continue;
        }
      }
      i = end - 1;
    }
  }
  return out + text.slice(copied);
}

const STRING_TIME = /\s*:\s*"(\d+)"/y;

/** Index just after the JSON string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}
