// Attribute values are often JSON sent as a string (states, graphs, tool arguments, LLM payloads):
// such a string can be shown as the tree it holds.

/** The object or array a string holds as JSON, or undefined for any other string. */
export function parseJsonContainer(text: string): object | undefined {
  const first = text.trimStart()[0];
  // Only `{…}` and `[…]` are worth a tree; "12" or "true" as a string are read as they are.
  if (first !== '{' && first !== '[') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
