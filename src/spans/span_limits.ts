// Per-span limits (issue #10 item 5): a span over any of them is rejected on its own, its reason
// named in partial_success like any other invalid span, and the rest of the request is kept.
// Generous for real Junjo spans (workflow state JSON of 1 MB and more, LLM prompts of hundreds of
// KB, hundreds of openinference message attributes) but bounded, so that one span cannot bloat a
// DuckDB row, the state-patch table or the pages that render it. Lengths are String.length (UTF-16
// code units); bytes values count bytes.
import type { AnyValue, KeyValue, Span } from '../otlp/types.ts';

export const SPAN_LIMITS = {
  /** service.name of the span's resource. */
  serviceNameLength: 512,
  /** The span's name and each event's name. */
  nameLength: 1024,
  /** Attributes of the span, and of each of its events and links (nested values not counted). */
  attributeCount: 2048,
  /** Every attribute key, nested kvlist keys included. */
  attributeKeyLength: 1024,
  /** Every string or bytes value, inside arrays and kvlists too: 16× the largest state fixture. */
  attributeValueLength: 16 * 1024 * 1024,
  eventCount: 10_000,
  linkCount: 1000,
} as const;

const over = (what: string, size: number, limit: number, unit = 'characters') =>
  `${what} has ${size} ${unit}, over the limit of ${limit}`;

/** A key for an error message, cut short: these messages go back to the client. */
const quoted = (key: string) => JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);

/** Why `span` is over a limit, or null when it is within all of them. */
export function spanLimitViolation(span: Span, serviceName: string): string | null {
  const L = SPAN_LIMITS;
  if (serviceName.length > L.serviceNameLength)
    return over('service.name', serviceName.length, L.serviceNameLength);
  if (span.name.length > L.nameLength) return over('name', span.name.length, L.nameLength);
  if (span.events.length > L.eventCount) return over('the span', span.events.length, L.eventCount, 'events');
  if (span.links.length > L.linkCount) return over('the span', span.links.length, L.linkCount, 'links');
  const problem = attributesViolation(span.attributes, 'attributes');
  if (problem) return problem;
  for (let i = 0; i < span.events.length; i++) {
    const event = span.events[i]!;
    if (event.name.length > L.nameLength) return over(`event ${i} name`, event.name.length, L.nameLength);
    const eventProblem = attributesViolation(event.attributes, `event ${i} attributes`);
    if (eventProblem) return eventProblem;
  }
  for (let i = 0; i < span.links.length; i++) {
    const linkProblem = attributesViolation(span.links[i]!.attributes, `link ${i} attributes`);
    if (linkProblem) return linkProblem;
  }
  return null;
}

export function attributesViolation(attributes: KeyValue[], where: string): string | null {
  if (attributes.length > SPAN_LIMITS.attributeCount)
    return over(where, attributes.length, SPAN_LIMITS.attributeCount, 'entries');
  for (const { key, value } of attributes) {
    const problem =
      key.length > SPAN_LIMITS.attributeKeyLength
        ? over('the key', key.length, SPAN_LIMITS.attributeKeyLength)
        : valueViolation(value);
    if (problem) return `${where} ${quoted(key)}: ${problem}`;
  }
  return null;
}

/** The decoders bound the nesting depth (MAX_DECODED_VALUE_DEPTH), so recursion is safe. */
export function valueViolation(value: AnyValue): string | null {
  const limit = SPAN_LIMITS.attributeValueLength;
  switch (value.type) {
    case 'string':
      return value.value.length > limit ? over('the value', value.value.length, limit) : null;
    case 'bytes':
      return value.value.byteLength > limit
        ? over('the value', value.value.byteLength, limit, 'bytes')
        : null;
    case 'array':
      for (const item of value.value) {
        const problem = valueViolation(item);
        if (problem) return problem;
      }
      return null;
    case 'kvlist':
      for (const kv of value.value) {
        if (kv.key.length > SPAN_LIMITS.attributeKeyLength)
          return over('a nested key', kv.key.length, SPAN_LIMITS.attributeKeyLength);
        const problem = valueViolation(kv.value);
        if (problem) return problem;
      }
      return null;
    default:
      return null;
  }
}
