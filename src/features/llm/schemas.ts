// Prompt-playground payloads: request validation, response shapes, OpenAPI and the TypeScript types
// (shared with the web UI). Requests follow the OpenAI chat-completions names, since that is the
// protocol every configured provider is spoken to with.
import { type Static, Type } from 'typebox';

export const LlmProvider = Type.Object({
  name: Type.String(),
  base_url: Type.String({ description: 'The OpenAI-compatible endpoint (never carries credentials)' }),
  has_key: Type.Boolean({
    description: 'Whether JUNJO_LLM_KEY_<NAME> is set (the key itself is never sent)',
  }),
});
export type LlmProvider = Static<typeof LlmProvider>;

export const LlmProviderList = Type.Object({
  providers: Type.Array(LlmProvider),
  setting: Type.String({ description: 'The environment variable that configures providers' }),
});
export type LlmProviderList = Static<typeof LlmProviderList>;

export const ProviderParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 40 }) });

export const ModelsQuery = Type.Object({
  refresh: Type.Optional(Type.Boolean({ description: 'Ask the provider again instead of the cached list' })),
});

export const LlmModelList = Type.Object({
  provider: Type.String(),
  models: Type.Array(Type.Object({ id: Type.String(), owned_by: Type.Optional(Type.String()) })),
  fetched_at: Type.String({ format: 'date-time' }),
});
export type LlmModelList = Static<typeof LlmModelList>;

export const MessageRole = Type.Union([
  Type.Literal('system'),
  Type.Literal('developer'),
  Type.Literal('user'),
  Type.Literal('assistant'),
  Type.Literal('tool'),
]);
export type MessageRole = Static<typeof MessageRole>;

export const ChatMessage = Type.Object(
  {
    role: MessageRole,
    content: Type.String({ maxLength: 200_000 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    tool_call_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof ChatMessage>;

export const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal('text') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('json_object') }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('json_schema'),
      json_schema: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
          description: Type.Optional(Type.String({ maxLength: 2000 })),
          schema: Type.Record(Type.String(), Type.Unknown()),
          strict: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);
export type ResponseFormat = Static<typeof ResponseFormat>;

export const ReasoningEffort = Type.Union([
  Type.Literal('none'),
  Type.Literal('minimal'),
  Type.Literal('low'),
  Type.Literal('medium'),
  Type.Literal('high'),
]);
export type ReasoningEffort = Static<typeof ReasoningEffort>;

export const GenerateRequest = Type.Object(
  {
    provider: Type.String({ minLength: 1, maxLength: 40 }),
    model: Type.String({ minLength: 1, maxLength: 200 }),
    messages: Type.Array(ChatMessage, { minItems: 1, maxItems: 200 }),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    max_completion_tokens: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'For models that refuse max_tokens' }),
    ),
    stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 4 })),
    response_format: Type.Optional(ResponseFormat),
    reasoning_effort: Type.Optional(ReasoningEffort),
    stream: Type.Optional(
      Type.Boolean({
        description:
          'true: answer as server-sent events — each upstream chunk as `data: <chunk>`, then `event: summary` ' +
          '(latency, usage, finish reason) and `data: [DONE]`; a failure after the first byte is `event: error` ' +
          'with `{"message"}`',
      }),
    ),
  },
  { additionalProperties: false },
);
export type GenerateRequest = Static<typeof GenerateRequest>;

export const Usage = Type.Object(
  {
    prompt_tokens: Type.Number(),
    completion_tokens: Type.Number(),
    total_tokens: Type.Number(),
  },
  { additionalProperties: true },
);
export type Usage = Static<typeof Usage>;

/** The provider's chat completion as it answered, plus what we measured. */
export const GenerateResponse = Type.Object(
  {
    id: Type.String(),
    object: Type.String(),
    created: Type.Number(),
    model: Type.String(),
    choices: Type.Array(
      Type.Object(
        {
          index: Type.Number(),
          message: Type.Object(
            { role: Type.String(), content: Type.Union([Type.String(), Type.Null()]) },
            { additionalProperties: true },
          ),
          finish_reason: Type.Union([Type.String(), Type.Null()]),
        },
        { additionalProperties: true },
      ),
    ),
    usage: Type.Optional(Usage),
    latency_ms: Type.Number({ description: 'From sending the request to the whole answer, measured here' }),
  },
  { additionalProperties: true },
);
export type GenerateResponse = Static<typeof GenerateResponse>;

/** The `event: summary` of a streamed generation. */
export interface StreamSummary {
  latency_ms: number;
  first_token_ms: number | null;
  usage: Usage | null;
  finish_reason: string | null;
  model: string | null;
}
