// What the UI reads out of a stored span: error state, exceptions, LLM call details
// (OpenInference, GenAI semantic conventions and Junjo contract-2 model-request spans). Which spans
// are LLM spans is the server's one definition (src/spans/llm_span.ts).
import type { Span, SpanEvent } from '../../../src/features/otel/schemas.ts';
import { isLlmAttributes } from '../../../src/spans/llm_span.ts';

export function isErrorSpan(span: Pick<Span, 'status_code'>): boolean {
  return span.status_code === 'STATUS_CODE_ERROR' || span.status_code === 'ERROR';
}

export interface ExceptionInfo {
  /** `exception` for a raised error; the event name otherwise (e.g. `junjo.hook_error`). */
  source: string;
  type: string;
  message: string;
  stacktrace: string;
  escaped: boolean | null;
  timeUnixNano: string;
}

export function exceptionsOf(span: Pick<Span, 'events_json'>): ExceptionInfo[] {
  return span.events_json.filter(isExceptionEvent).map((event) => {
    const a = event.attributes;
    const escaped = a['exception.escaped'];
    return {
      source: event.name,
      type: text(a['exception.type']) ?? text(a['junjo.hook.error.type']) ?? 'Exception',
      message: text(a['exception.message']) ?? text(a['junjo.hook.error.message']) ?? '',
      stacktrace: text(a['exception.stacktrace']) ?? '',
      escaped: escaped === undefined ? null : escaped === true || String(escaped).toLowerCase() === 'true',
      timeUnixNano: String(event.timeUnixNano),
    };
  });
}

function isExceptionEvent(event: SpanEvent): boolean {
  return event.name === 'exception' || 'exception.type' in event.attributes;
}

export interface TokenCounts {
  prompt: number | null;
  completion: number | null;
  total: number | null;
}

export interface LlmPayload {
  value: unknown;
  /** true when `value` is parsed JSON rather than text. */
  json: boolean;
}

export interface LlmInfo {
  kind: string;
  provider: string | null;
  model: string | null;
  input: LlmPayload | null;
  output: LlmPayload | null;
  tokens: TokenCounts | null;
  invocationParameters: unknown;
}

/** Model call details of an LLM span or of a Junjo agent's model request; null for other spans. */
export function llmInfoOf(span: Pick<Span, 'attributes_json'>): LlmInfo | null {
  const a = span.attributes_json;
  const openInferenceKind = text(a['openinference.span.kind']);
  const junjoModelRequest = a['junjo.agent.operation_type'] === 'model_request';
  if (!isLlmAttributes(a) && !junjoModelRequest) return null;
  const usage = parseMaybeJson(a['junjo.agent.model.usage']) as Record<string, unknown> | undefined;
  const tokens: TokenCounts = {
    prompt:
      num(a['llm.token_count.prompt']) ?? num(a['gen_ai.usage.input_tokens']) ?? num(usage?.inputTokens),
    completion:
      num(a['llm.token_count.completion']) ??
      num(a['gen_ai.usage.output_tokens']) ??
      num(usage?.outputTokens),
    total: num(a['llm.token_count.total']) ?? num(usage?.totalTokens),
  };
  if (tokens.total === null && tokens.prompt !== null && tokens.completion !== null) {
    tokens.total = tokens.prompt + tokens.completion;
  }
  const hasTokens = tokens.prompt !== null || tokens.completion !== null || tokens.total !== null;
  return {
    kind: openInferenceKind ?? (junjoModelRequest ? 'model_request' : 'gen_ai'),
    provider:
      text(a['llm.provider']) ??
      text(a['gen_ai.provider.name']) ??
      text(a['gen_ai.system']) ??
      text(a['junjo.agent.model.provider']),
    model:
      text(a['llm.model_name']) ??
      text(a['gen_ai.response.model']) ??
      text(a['gen_ai.request.model']) ??
      text(a['junjo.agent.model.name']),
    input: payload(a['input.value'], a['input.mime_type']) ?? payload(a['junjo.agent.model.request'], 'json'),
    output:
      payload(a['output.value'], a['output.mime_type']) ??
      payload(a['llm.output_messages.0.message.content'], undefined) ??
      payload(a['llm.output'], undefined) ??
      payload(a['junjo.agent.model.response'], 'json'),
    tokens: hasTokens ? tokens : null,
    invocationParameters: parseMaybeJson(a['llm.invocation_parameters']),
  };
}

export function isLlmSpan(span: Pick<Span, 'attributes_json'>): boolean {
  return isLlmAttributes(span.attributes_json);
}

function payload(value: unknown, mimeType: unknown): LlmPayload | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') return { value, json: true };
  const wantsJson = typeof mimeType === 'string' && mimeType.includes('json');
  if (wantsJson) {
    const parsed = parseMaybeJson(value);
    if (parsed !== value) return { value: parsed, json: true };
  }
  return { value, json: false };
}

/** Parses a JSON document carried in a string attribute; anything else is returned unchanged. */
export function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return value;
  try {
    return JSON.parse(trimmed);
  } catch {
    return value;
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}
