// The prompt playground's provider calls: every configured provider is an OpenAI client with its own
// base URL and key (from configuration only: nothing a request says picks a URL or a key). Model lists
// are cached a few minutes; a generation has one deadline covering the whole answer, streaming included,
// and a cap on how much text it may bring back.
import OpenAI from 'openai';
import type { LlmProviderConfig } from '../../config.ts';
import { badGateway, invalidInput } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../auth/clock.ts';
import type {
  GenerateRequest,
  GenerateResponse,
  LlmModelList,
  LlmProviderList,
  StreamSummary,
  Usage,
} from './schemas.ts';
import { GenerationAborted, toAppError } from './upstream_errors.ts';

export const PROVIDERS_SETTING = 'JUNJO_LLM_PROVIDERS';
const MODELS_TTL_MS = 5 * 60 * 1000;
const MAX_MODELS = 2000;
const DEFAULT_MAX_OUTPUT_CHARS = 1_000_000;

export interface LlmServiceOptions {
  providers: LlmProviderConfig[];
  timeoutMs: number;
  logger: Logger;
  clock: Clock;
  /** Longest answer text accepted from a provider (characters of content, summed over the stream). */
  maxOutputChars?: number;
}

export interface LlmService {
  providers(): LlmProviderList;
  models(provider: string, refresh: boolean): Promise<LlmModelList>;
  generate(request: GenerateRequest): Promise<GenerateResponse>;
  /**
   * Starts a streamed generation. Resolves once the provider has accepted it (so refusals are still
   * plain HTTP errors), with the server-sent events to forward; `cancel` aborts the upstream call.
   */
  stream(request: GenerateRequest, cancel: AbortSignal): Promise<AsyncIterable<string>>;
}

interface Provider {
  config: LlmProviderConfig;
  client: OpenAI;
}

export function createLlmService(options: LlmServiceOptions): LlmService {
  const { logger, clock, timeoutMs } = options;
  const maxOutputChars = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
  const providers = new Map<string, Provider>(
    options.providers.map((config) => [
      config.name,
      {
        config,
        client: new OpenAI({
          baseURL: config.baseURL,
          // The client insists on a key; endpoints without one get no Authorization header at all.
          apiKey: config.apiKey ?? 'unused',
          ...(config.apiKey ? {} : { defaultHeaders: { authorization: null } }),
          // Explicit, so the client does not pick them up from OPENAI_* variables of this process.
          organization: null,
          project: null,
          maxRetries: 0,
          timeout: timeoutMs,
          logLevel: 'off',
        }),
      },
    ]),
  );
  const modelCache = new Map<string, { at: number; list: LlmModelList }>();

  const providerNamed = (name: string): Provider => {
    const provider = providers.get(name);
    if (provider) return provider;
    if (providers.size === 0)
      throw invalidInput(
        `No LLM provider is configured: set ${PROVIDERS_SETTING} (e.g. openai=https://api.openai.com/v1)`,
      );
    throw invalidInput(`Unknown LLM provider "${name}"; configured: ${[...providers.keys()].join(', ')}`);
  };

  /** One deadline for the whole call; `cancel` (the client went away) aborts it too. */
  const deadline = (cancel?: AbortSignal) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new GenerationAborted('timeout')), timeoutMs);
    const onCancel = () => controller.abort(new GenerationAborted('client_gone'));
    cancel?.addEventListener('abort', onCancel, { once: true });
    return {
      controller,
      done() {
        clearTimeout(timer);
        cancel?.removeEventListener('abort', onCancel);
      },
    };
  };

  const fail = (provider: Provider, error: unknown, signal: AbortSignal, what: Record<string, unknown>) => {
    const appError = toAppError(error, provider.config.name, provider.config.apiKey, signal.reason);
    // Only our own message and the status: provider errors can carry request details.
    logger.warn(
      { provider: provider.config.name, ...what, outcome: appError.kind, reason: appError.message },
      'llm call failed',
    );
    return appError;
  };

  const chatParams = (request: GenerateRequest) => {
    const { provider: _provider, stream: _stream, ...params } = request;
    return params as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
  };

  return {
    providers() {
      return {
        providers: [...providers.values()].map(({ config }) => ({
          name: config.name,
          base_url: config.baseURL,
          has_key: config.apiKey !== null,
        })),
        setting: PROVIDERS_SETTING,
      };
    },

    async models(name, refresh) {
      const provider = providerNamed(name);
      const cached = modelCache.get(name);
      if (cached && !refresh && clock() - cached.at < MODELS_TTL_MS) return cached.list;
      const call = deadline();
      try {
        const models: LlmModelList['models'] = [];
        for await (const model of provider.client.models.list({ signal: call.controller.signal })) {
          if (typeof model?.id !== 'string') throw badGateway(`Provider ${name} sent a malformed model list`);
          models.push(
            typeof model.owned_by === 'string'
              ? { id: model.id, owned_by: model.owned_by }
              : { id: model.id },
          );
          if (models.length >= MAX_MODELS) break;
        }
        models.sort((a, b) => a.id.localeCompare(b.id));
        const list = { provider: name, models, fetched_at: new Date(clock()).toISOString() };
        modelCache.set(name, { at: clock(), list });
        return list;
      } catch (error) {
        throw fail(provider, error, call.controller.signal, { op: 'models' });
      } finally {
        call.done();
      }
    },

    async generate(request) {
      const provider = providerNamed(request.provider);
      const call = deadline();
      const started = performance.now();
      try {
        const raw: unknown = await provider.client.chat.completions.create(chatParams(request), {
          signal: call.controller.signal,
        });
        const latency_ms = Math.round(performance.now() - started);
        const response = normalizeCompletion(raw, request.model, latency_ms);
        if (!response) throw badGateway(`Provider ${provider.config.name} sent a malformed answer`);
        logger.info(
          { provider: provider.config.name, model: request.model, latency_ms, usage: response.usage },
          'llm generation',
        );
        return response;
      } catch (error) {
        throw fail(provider, error, call.controller.signal, { op: 'generate', model: request.model });
      } finally {
        call.done();
      }
    },

    async stream(request, cancel) {
      const provider = providerNamed(request.provider);
      const call = deadline(cancel);
      const signal = call.controller.signal;
      const started = performance.now();
      let upstream: AsyncIterable<unknown>;
      try {
        upstream = await provider.client.chat.completions.create(
          { ...chatParams(request), stream: true, stream_options: { include_usage: true } },
          { signal },
        );
      } catch (error) {
        call.done();
        throw fail(provider, error, signal, { op: 'stream', model: request.model });
      }
      const what = { op: 'stream', model: request.model };
      return (async function* events() {
        const summary: StreamSummary = {
          latency_ms: 0,
          first_token_ms: null,
          usage: null,
          finish_reason: null,
          model: null,
        };
        let chars = 0;
        try {
          for await (const chunk of upstream) {
            const c = chunk as { choices?: unknown; usage?: Usage | null; model?: unknown };
            if (!c || typeof c !== 'object' || !Array.isArray(c.choices))
              throw badGateway(`Provider ${provider.config.name} sent a malformed stream`);
            for (const choice of c.choices as Array<{
              delta?: { content?: unknown };
              finish_reason?: unknown;
            }>) {
              const content = choice?.delta?.content;
              if (typeof content === 'string' && content !== '') {
                summary.first_token_ms ??= Math.round(performance.now() - started);
                chars += content.length;
              }
              if (typeof choice?.finish_reason === 'string') summary.finish_reason = choice.finish_reason;
            }
            if (chars > maxOutputChars) {
              call.controller.abort(new GenerationAborted('too_long'));
              throw new GenerationAborted('too_long');
            }
            if (c.usage) summary.usage = c.usage;
            if (typeof c.model === 'string') summary.model = c.model;
            yield sseEvent(JSON.stringify(chunk));
          }
          // The openai stream ends quietly when aborted: a deadline must still read as a failure.
          if (signal.aborted) throw signal.reason;
          summary.latency_ms = Math.round(performance.now() - started);
          logger.info(
            {
              provider: provider.config.name,
              model: request.model,
              latency_ms: summary.latency_ms,
              usage: summary.usage,
            },
            'llm generation streamed',
          );
          yield sseEvent(JSON.stringify(summary), 'summary');
          yield sseEvent('[DONE]');
        } catch (error) {
          const appError = fail(provider, error, signal, what);
          yield sseEvent(JSON.stringify({ message: appError.message }), 'error');
        } finally {
          call.done();
        }
      })();
    },
  };
}

/** One server-sent event; JSON text never contains a raw newline, so one `data:` line suffices. */
export function sseEvent(data: string, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${data}\n\n`;
}

/** The provider's completion with the fields our response promises, or null when it is not one. */
function normalizeCompletion(raw: unknown, model: string, latency_ms: number): GenerateResponse | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.choices)) return null;
  const choices = [];
  for (const [i, choice] of (r.choices as unknown[]).entries()) {
    if (!choice || typeof choice !== 'object') return null;
    const c = choice as Record<string, unknown>;
    const message = (c.message ?? {}) as Record<string, unknown>;
    if (typeof message !== 'object') return null;
    choices.push({
      ...c,
      index: typeof c.index === 'number' ? c.index : i,
      message: {
        ...message,
        role: typeof message.role === 'string' ? message.role : 'assistant',
        content: typeof message.content === 'string' ? message.content : null,
      },
      finish_reason: typeof c.finish_reason === 'string' ? c.finish_reason : null,
    });
  }
  const usage = r.usage as Usage | undefined;
  const validUsage =
    usage &&
    typeof usage === 'object' &&
    ['prompt_tokens', 'completion_tokens', 'total_tokens'].every(
      (k) => typeof (usage as Record<string, unknown>)[k] === 'number',
    );
  const { usage: _usage, ...rest } = r;
  return {
    ...rest,
    id: typeof r.id === 'string' ? r.id : '',
    object: typeof r.object === 'string' ? r.object : 'chat.completion',
    created: typeof r.created === 'number' ? r.created : 0,
    model: typeof r.model === 'string' ? r.model : model,
    choices,
    ...(validUsage ? { usage } : {}),
    latency_ms,
  };
}
