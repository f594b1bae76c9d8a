// What the prompt playground starts from when opened on an LLM span: the messages, model, provider,
// parameters, response format and the original answer, read from whichever convention the span's
// instrumentation used (OpenInference, GenAI semantic conventions as attributes or as events).
import type { ChatMessage, ReasoningEffort, ResponseFormat } from '../../../src/features/llm/schemas.ts';
import type { Span, SpanEvent } from '../../../src/features/otel/schemas.ts';
import { llmInfoOf, parseMaybeJson } from './span_facts.ts';
import { parseTimestampMicros } from './time.ts';

export type PlaygroundMessage = Pick<ChatMessage, 'role' | 'content'>;

export interface PlaygroundParams {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string[];
  reasoning_effort?: ReasoningEffort;
}

export interface OriginalRun {
  output: string | null;
  latencyMs: number | null;
  tokensIn: number | null;
  tokensOut: number | null;
  finishReason: string | null;
}

export interface PlaygroundPrefill {
  /** Where the messages came from, shown to the user; null when none were found. */
  source: string | null;
  messages: PlaygroundMessage[];
  model: string | null;
  provider: string | null;
  params: PlaygroundParams;
  responseFormat: ResponseFormat | null;
  original: OriginalRun;
}

type StoredSpan = Pick<Span, 'attributes_json' | 'events_json'> &
  Partial<Pick<Span, 'start_time' | 'end_time'>>;

/** A log record (OTLP logs) that belongs to the span: its event name and body. */
export interface SpanLogRecord {
  event_name: string;
  body: unknown;
  attributes: Record<string, unknown>;
}

export function prefillFromSpan(span: StoredSpan, logRecords: SpanLogRecord[] = []): PlaygroundPrefill {
  const a = span.attributes_json;
  const info = llmInfoOf(span);
  const invocation = asObject(parseMaybeJson(a['llm.invocation_parameters']));
  const inputJson = asObject(parseMaybeJson(a['input.value']));
  const found =
    firstFound([
      ['llm.input_messages', () => openInferenceMessages(a, 'llm.input_messages')],
      ['gen_ai.input.messages', () => genAiJsonMessages(a)],
      ['gen_ai.prompt', () => genAiPromptMessages(a)],
      ['span events', () => eventMessages(span.events_json.map(fromSpanEvent))],
      ['log records', () => eventMessages(logRecords.map(fromLogRecord))],
      ['input.value', () => inputValueMessages(a['input.value'])],
    ]) ?? null;
  const latencyMs =
    span.start_time && span.end_time
      ? Math.round((parseTimestampMicros(span.end_time) - parseTimestampMicros(span.start_time)) / 1000)
      : null;
  const output = originalOutput(span, logRecords);
  return {
    source: found?.source ?? null,
    messages: found?.messages ?? [],
    model:
      text(a['llm.model_name']) ??
      text(a['gen_ai.request.model']) ??
      text(invocation?.model) ??
      info?.model ??
      null,
    provider:
      text(a['llm.provider']) ??
      text(a['gen_ai.provider.name']) ??
      text(a['gen_ai.system']) ??
      info?.provider ??
      null,
    params: paramsOf(a, invocation),
    responseFormat: responseFormatOf(a, invocation, inputJson),
    original: {
      output: output.text,
      latencyMs,
      tokensIn: info?.tokens?.prompt ?? null,
      tokensOut: info?.tokens?.completion ?? null,
      finishReason: output.finishReason,
    },
  };
}

function firstFound(
  sources: Array<[string, () => PlaygroundMessage[]]>,
): { source: string; messages: PlaygroundMessage[] } | undefined {
  for (const [source, read] of sources) {
    const messages = read();
    if (messages.length > 0) return { source, messages };
  }
  return undefined;
}

// Messages ------------------------------------------------------------------------------------------

const ROLE_ALIASES: Record<string, PlaygroundMessage['role']> = {
  system: 'system',
  developer: 'developer',
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  model: 'assistant',
  ai: 'assistant',
  tool: 'tool',
  function: 'tool',
};

function message(role: unknown, content: unknown): PlaygroundMessage | null {
  const body = contentText(content);
  if (body === null) return null;
  return { role: ROLE_ALIASES[String(role ?? 'user').toLowerCase()] ?? 'user', content: body };
}

/** Text of a message content: a string, or the text parts of a list (OpenAI, GenAI `parts`, Gemini). */
function contentText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts = content
      .map((part) => {
        if (typeof part === 'string') return part;
        const p = asObject(part);
        return text(p?.text) ?? text(p?.content);
      })
      .filter((t): t is string => t !== null);
    return texts.length > 0 ? texts.join('\n') : null;
  }
  return null;
}

/** `prefix.N.message.role/content` (or `.contents.M.message_content.text`), N = 0, 1, 2… */
function openInferenceMessages(a: Record<string, unknown>, prefix: string): PlaygroundMessage[] {
  const out: PlaygroundMessage[] = [];
  for (let n = 0; ; n++) {
    const base = `${prefix}.${n}.message`;
    const role = a[`${base}.role`];
    if (role === undefined) break;
    const parts: string[] = [];
    for (let m = 0; text(a[`${base}.contents.${m}.message_content.type`]) !== null; m++) {
      const partText = text(a[`${base}.contents.${m}.message_content.text`]);
      if (partText !== null) parts.push(partText);
    }
    const m = message(role, a[`${base}.content`] ?? (parts.length > 0 ? parts.join('\n') : ''));
    if (m) out.push(m);
  }
  return out;
}

function genAiJsonMessages(a: Record<string, unknown>): PlaygroundMessage[] {
  const input = parseMaybeJson(a['gen_ai.input.messages']);
  if (!Array.isArray(input)) return [];
  const system = contentText(parseMaybeJson(a['gen_ai.system_instructions']));
  const messages = input
    .map((m) => {
      const o = asObject(m);
      return o ? message(o.role, o.parts ?? o.content) : null;
    })
    .filter((m): m is PlaygroundMessage => m !== null);
  return system !== null && messages.length > 0
    ? [{ role: 'system', content: system }, ...messages]
    : messages;
}

/** `gen_ai.prompt.N.role/content` (OpenLLMetry), or `gen_ai.prompt` as one JSON list. */
function genAiPromptMessages(a: Record<string, unknown>): PlaygroundMessage[] {
  const whole = parseMaybeJson(a['gen_ai.prompt']);
  if (Array.isArray(whole)) return listMessages(whole);
  const out: PlaygroundMessage[] = [];
  for (
    let n = 0;
    a[`gen_ai.prompt.${n}.content`] !== undefined || a[`gen_ai.prompt.${n}.role`] !== undefined;
    n++
  ) {
    const m = message(a[`gen_ai.prompt.${n}.role`], a[`gen_ai.prompt.${n}.content`] ?? '');
    if (m) out.push(m);
  }
  return out;
}

function listMessages(list: unknown[]): PlaygroundMessage[] {
  return list
    .map((m) => {
      const o = asObject(m);
      return o ? message(o.role, o.content ?? o.parts) : null;
    })
    .filter((m): m is PlaygroundMessage => m !== null);
}

interface GenAiEvent {
  name: string;
  /** The event's payload: a log record's body, or a span event's attributes. */
  body: Record<string, unknown>;
}

const fromSpanEvent = (e: SpanEvent): GenAiEvent => ({ name: e.name, body: e.attributes });
const fromLogRecord = (r: SpanLogRecord): GenAiEvent => ({
  name: r.event_name || text(r.attributes['event.name']) || '',
  body: asObject(parseMaybeJson(r.body)) ?? { content: r.body },
});

/** `gen_ai.{system,user,assistant,tool}.message` events, or the older `gen_ai.content.prompt`. */
function eventMessages(events: GenAiEvent[]): PlaygroundMessage[] {
  const out: PlaygroundMessage[] = [];
  for (const e of events) {
    const role = /^gen_ai\.(system|user|assistant|tool)\.message$/.exec(e.name)?.[1];
    if (role) {
      const m = message(e.body.role ?? role, e.body.content ?? '');
      if (m) out.push(m);
    } else if (e.name === 'gen_ai.content.prompt') {
      const prompt = parseMaybeJson(e.body['gen_ai.prompt']);
      if (Array.isArray(prompt)) out.push(...listMessages(prompt));
    }
  }
  return out;
}

/** `input.value`: a request JSON (OpenAI `messages`, Gemini `contents` + system instruction) or plain text. */
function inputValueMessages(value: unknown): PlaygroundMessage[] {
  const parsed = parseMaybeJson(value);
  if (typeof parsed === 'string') return parsed.trim() === '' ? [] : [{ role: 'user', content: parsed }];
  if (Array.isArray(parsed)) return listMessages(parsed);
  const o = asObject(parsed);
  if (!o) return [];
  if (Array.isArray(o.messages)) return listMessages(o.messages);
  if (Array.isArray(o.contents)) {
    const config = asObject(o.config);
    const systemValue = config?.system_instruction ?? o.system_instruction ?? config?.systemInstruction;
    const system = contentText(systemValue) ?? contentText(asObject(systemValue)?.parts);
    const messages = listMessages(o.contents);
    return system !== null ? [{ role: 'system', content: system }, ...messages] : messages;
  }
  const prompt = text(o.prompt) ?? text(o.input);
  return prompt !== null ? [{ role: 'user', content: prompt }] : [];
}

// Parameters and response format ---------------------------------------------------------------------

function paramsOf(a: Record<string, unknown>, invocation: Record<string, unknown> | null): PlaygroundParams {
  const inv = invocation ?? {};
  const params: PlaygroundParams = {};
  const temperature = num(inv.temperature) ?? num(a['gen_ai.request.temperature']);
  if (temperature !== null) params.temperature = temperature;
  const topP = num(inv.top_p) ?? num(inv.topP) ?? num(a['gen_ai.request.top_p']);
  if (topP !== null) params.top_p = topP;
  const maxTokens =
    num(inv.max_tokens) ??
    num(inv.max_completion_tokens) ??
    num(inv.max_output_tokens) ??
    num(inv.maxOutputTokens) ??
    num(a['gen_ai.request.max_tokens']);
  if (maxTokens !== null) params.max_tokens = maxTokens;
  const stop = inv.stop ?? inv.stop_sequences ?? a['gen_ai.request.stop_sequences'];
  const stopList = (Array.isArray(stop) ? stop : typeof stop === 'string' ? [stop] : []).filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
  if (stopList.length > 0) params.stop = stopList.slice(0, 4);
  const effort =
    text(inv.reasoning_effort) ??
    text(asObject(inv.reasoning)?.effort) ??
    text(a['gen_ai.request.reasoning_effort']);
  if (effort && ['none', 'minimal', 'low', 'medium', 'high'].includes(effort))
    params.reasoning_effort = effort as ReasoningEffort;
  return params;
}

function responseFormatOf(
  a: Record<string, unknown>,
  invocation: Record<string, unknown> | null,
  inputJson: Record<string, unknown> | null,
): ResponseFormat | null {
  const given = asObject(parseMaybeJson(invocation?.response_format ?? inputJson?.response_format));
  if (given?.type === 'json_schema') {
    const js = asObject(given.json_schema);
    const schema = asObject(js?.schema);
    if (js && schema)
      return {
        type: 'json_schema',
        json_schema: {
          name: text(js.name) ?? 'response',
          schema,
          ...(typeof js.strict === 'boolean' ? { strict: js.strict } : {}),
        },
      };
    return { type: 'json_object' };
  }
  if (given?.type === 'json_object') return { type: 'json_object' };
  const mime =
    text(asObject(inputJson?.config)?.response_mime_type) ??
    text(asObject(inputJson?.generationConfig)?.responseMimeType);
  const outputType = text(a['gen_ai.output.type']) ?? text(a['gen_ai.openai.request.response_format']);
  if (
    outputType === 'json' ||
    outputType === 'json_object' ||
    outputType === 'json_schema' ||
    mime === 'application/json'
  )
    return { type: 'json_object' };
  return null;
}

// The original answer --------------------------------------------------------------------------------

function originalOutput(
  span: StoredSpan,
  logRecords: SpanLogRecord[],
): { text: string | null; finishReason: string | null } {
  const a = span.attributes_json;
  const outputJson = asObject(parseMaybeJson(a['output.value']));
  const firstChoice = asObject(Array.isArray(outputJson?.choices) ? outputJson.choices[0] : null);
  const genAiOutput = parseMaybeJson(a['gen_ai.output.messages']);
  const genAiFirst = asObject(Array.isArray(genAiOutput) ? genAiOutput[0] : null);
  const choiceEvent = [...span.events_json.map(fromSpanEvent), ...logRecords.map(fromLogRecord)].find(
    (e) => e.name === 'gen_ai.choice',
  );
  const choiceMessage = asObject(parseMaybeJson(choiceEvent?.body.message));
  const finishReasons = a['gen_ai.response.finish_reasons'];

  const outputText =
    openInferenceMessages(a, 'llm.output_messages')[0]?.content ??
    contentText(asObject(firstChoice?.message)?.content) ??
    geminiText(outputJson) ??
    (typeof a['output.value'] === 'string' && !outputJson ? (a['output.value'] as string) : null) ??
    contentText(genAiFirst?.parts) ??
    text(a['gen_ai.completion.0.content']) ??
    contentText(choiceMessage?.content) ??
    null;
  const finishReason =
    text(firstChoice?.finish_reason) ??
    text(genAiFirst?.finish_reason) ??
    (Array.isArray(finishReasons) ? text(finishReasons[0]) : text(finishReasons)) ??
    text(a['gen_ai.completion.0.finish_reason']) ??
    text(choiceEvent?.body.finish_reason) ??
    null;
  return { text: outputText, finishReason };
}

function geminiText(response: Record<string, unknown> | null): string | null {
  const candidate = asObject(Array.isArray(response?.candidates) ? response.candidates[0] : null);
  return contentText(asObject(candidate?.content)?.parts);
}

// Small readers --------------------------------------------------------------------------------------

function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
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

/** The configured provider to use for a span's provider name: same name, a known alias, or the first. */
export function matchProvider(spanProvider: string | null, configured: string[]): string | null {
  if (configured.length === 0) return null;
  const wanted = (spanProvider ?? '').toLowerCase();
  const aliases: Record<string, string[]> = {
    google: ['gemini', 'google', 'vertex'],
    vertexai: ['gemini', 'vertex', 'google'],
    'gcp.gemini': ['gemini', 'google'],
    'gcp.vertex_ai': ['gemini', 'vertex', 'google'],
    anthropic: ['anthropic', 'claude'],
    openai: ['openai'],
  };
  const candidates = [wanted, ...(aliases[wanted] ?? [])].filter(Boolean);
  for (const candidate of candidates) {
    const hit = configured.find((name) => name.toLowerCase() === candidate);
    if (hit) return hit;
  }
  for (const candidate of candidates) {
    const hit = configured.find((name) => name.toLowerCase().includes(candidate));
    if (hit) return hit;
  }
  return configured[0] ?? null;
}
