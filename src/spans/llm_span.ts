// What counts as an LLM span, in one place (api.md Decision 7, telemetry.md §10): an OpenInference
// span of kind LLM, or a span of the GenAI semantic conventions (`gen_ai.operation.name` or
// `gen_ai.provider.name` present). The "LLM only" list filter, the query-support tables and the web
// UI all use this definition; db_duckdb/summaries.ts states it in SQL from the same keys.
//
// Not LLM spans: the deprecated `gen_ai.system` alone (the current conventions always set
// `gen_ai.operation.name`), and Junjo agent `model_request` operation spans (telemetry.md §9: the
// agent's step, not an instrumented LLM call); the web UI still shows their model details.

export const OPENINFERENCE_KIND = 'openinference.span.kind';
export const OPENINFERENCE_LLM = 'LLM';
export const GEN_AI_KEYS = ['gen_ai.operation.name', 'gen_ai.provider.name'] as const;

/** The definition, on a span's top-level attributes. */
export function isLlmAttributes(attributes: Readonly<Record<string, unknown>>): boolean {
  return (
    attributes[OPENINFERENCE_KIND] === OPENINFERENCE_LLM ||
    GEN_AI_KEYS.some((key) => Object.hasOwn(attributes, key))
  );
}

/** The same on attributes_json text; only text that mentions one of the keys is parsed. */
export function isLlmAttributesJson(attributesJson: string): boolean {
  if (!attributesJson.includes(OPENINFERENCE_KIND) && !attributesJson.includes('gen_ai.')) return false;
  return isLlmAttributes(JSON.parse(attributesJson) as Record<string, unknown>);
}
