// The text form of an attribute filter, as the search page's URL and GET /otel/search carry it:
//   key = value   key != value   key exists   key < n   key > n   key between a and b   key contains text
// The key is an attribute name of ATTRIBUTE_KEY's grammar; a value is the rest of the text after the
// operator (trimmed), optionally in double quotes to keep leading or trailing spaces.
import { invalidInput } from '../../errors.ts';
import { ATTRIBUTE_KEY, type AttributeFilter } from '../../spans/span_search.ts';

// Symbols need no spaces around them (`status=ok`); words do (`key exists`).
const SYMBOL_FORM = /^\s*([^\s=!<>]+)\s*(!=|=|<|>)\s*([\s\S]*?)\s*$/;
const WORD_FORM = /^\s*(\S+)\s+(exists|between|contains)(?:\s+([\s\S]*?))?\s*$/i;
const BETWEEN = /^(\S+)\s+and\s+(\S+)$/i;
// JSON's number grammar: what a numeric attribute can be compared with.
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export const FILTER_SYNTAX =
  '`key = value`, `key != value`, `key exists`, `key < n`, `key > n`, `key between a and b` or `key contains text`';

/** Parses one `attr` value; `field` names it in the 400 it raises when it cannot. */
export function parseAttributeFilter(text: string, field: string): AttributeFilter {
  const match = SYMBOL_FORM.exec(text) ?? WORD_FORM.exec(text);
  if (!match) throw invalidInput(`${field} must be one of ${FILTER_SYNTAX}`);
  const [, key = '', operator = '', rest] = match;
  if (!ATTRIBUTE_KEY.test(key)) {
    throw invalidInput(
      `${field}: attribute key must be 1 to 256 letters, digits or _ . - : / @ (not starting with a symbol)`,
    );
  }
  const op = operator.toLowerCase();
  if (op === 'exists') {
    if (rest !== undefined && rest !== '') throw invalidInput(`${field}: \`exists\` takes no value`);
    return { key, op: 'exists' };
  }
  if (rest === undefined || rest === '') throw invalidInput(`${field}: \`${op}\` needs a value`);
  switch (op) {
    case '=':
      return { key, op: 'equals', value: unquote(rest) };
    case '!=':
      return { key, op: 'not_equals', value: unquote(rest) };
    case 'contains':
      return { key, op: 'contains', value: unquote(rest) };
    case '<':
      return { key, op: 'less_than', value: number(rest, field) };
    case '>':
      return { key, op: 'greater_than', value: number(rest, field) };
    default: {
      const bounds = BETWEEN.exec(rest);
      if (!bounds) throw invalidInput(`${field}: \`between\` takes \`a and b\``);
      const low = number(bounds[1]!, field);
      const high = number(bounds[2]!, field);
      if (low > high) throw invalidInput(`${field}: \`between\` needs its lower bound first`);
      return { key, op: 'between', low, high };
    }
  }
}

function number(text: string, field: string): number {
  const value = Number(text);
  if (!NUMBER.test(text) || !Number.isFinite(value)) throw invalidInput(`${field}: ${text} is not a number`);
  return value;
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}
