// Prompt playground: GET /llm/providers, GET /llm/providers/{name}/models, POST /llm/generate.
// Session + CSRF like every route (the guards apply to all); generations are rate-limited per user.
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { SignInAttemptsRepository } from '../../db_sqlite/sign_in_attempts/sign_in_attempts_repository.ts';
import { tooMany } from '../../errors.ts';
import type { HttpPlugin } from '../../http/app.ts';
import type { Clock } from '../auth/clock.ts';
import { createSlidingWindowLimiter } from '../auth/rate_limiter.ts';
import { signedInUser } from '../auth/session_guard.ts';
import type { LlmService } from './llm_service.ts';
import {
  GenerateRequest,
  GenerateResponse,
  LlmModelList,
  LlmProviderList,
  ModelsQuery,
  ProviderParams,
} from './schemas.ts';

const tags = ['llm'];
/** Prompts are text: 1 MiB holds a long conversation; more is refused with 413. */
export const GENERATE_BODY_LIMIT_BYTES = 1024 * 1024;

export interface LlmRouteLimits {
  generationsPerMinute: number;
  /** JUNJO_LLM_TIMEOUT_MS: a generation's socket may stay silent this long (the API's idle limit is shorter). */
  timeoutMs: number;
  clock: Clock;
  /** Where the per-user window is kept (SQLite, like the sign-in limits). */
  attempts: SignInAttemptsRepository;
}

export function llmRoutes(llm: LlmService, limits: LlmRouteLimits): HttpPlugin {
  const limiter = createSlidingWindowLimiter(
    'llm_generate',
    { max: limits.generationsPerMinute, windowMs: 60_000 },
    limits.clock,
    limits.attempts,
  );
  return async (app) => {
    app.get(
      '/llm/providers',
      {
        schema: {
          tags,
          summary: 'Configured LLM providers (names and endpoints; keys are never sent)',
          response: { 200: LlmProviderList },
        },
      },
      async () => llm.providers(),
    );

    app.get(
      '/llm/providers/:name/models',
      {
        schema: {
          tags,
          summary: "The provider's models (its /models), cached for 5 minutes unless refresh=true",
          params: ProviderParams,
          querystring: ModelsQuery,
          response: { 200: LlmModelList },
        },
      },
      async (request) => llm.models(request.params.name, request.query.refresh === true),
    );

    app.post(
      '/llm/generate',
      {
        bodyLimit: GENERATE_BODY_LIMIT_BYTES,
        schema: {
          tags,
          summary:
            'Run a chat completion on a configured provider (JSON, or server-sent events with stream=true)',
          body: GenerateRequest,
          response: {
            200: {
              description: 'The completion (JSON), or with stream=true a text/event-stream',
              content: {
                'application/json': { schema: GenerateResponse },
                'text/event-stream': { schema: Type.String() },
              },
            },
          },
        },
        preHandler: async (request) => {
          const key = String(signedInUser(request).userId);
          const waitMs = limiter.retryAfterMs(key);
          if (waitMs > 0) {
            const seconds = Math.ceil(waitMs / 1000);
            throw tooMany(
              `Too many generations: at most ${limits.generationsPerMinute} a minute, try again in ${seconds} s`,
              seconds,
            );
          }
          limiter.record(key);
        },
      },
      async (request, reply) => {
        // A model may think for longer than the API's idle timeout before its first byte.
        request.raw.socket.setTimeout(limits.timeoutMs + 10_000);
        if (request.body.stream !== true)
          return reply.type('application/json').send(await llm.generate(request.body));
        // The browser closing the page (or the fetch) stops the provider call too.
        const cancel = new AbortController();
        reply.raw.once('close', () => cancel.abort());
        const events = await llm.stream(request.body, cancel.signal);
        return reply
          .type('text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache')
          .send(Readable.from(events) as unknown as string); // a stream is sent as is, never serialised
      },
    );
  };
}
