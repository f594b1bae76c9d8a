// The playground API against a local OpenAI-compatible server: what we forward (model, messages,
// parameters, auth header), JSON and streamed answers, every failure mapped to a clear status, the
// per-user rate limit, and no key anywhere it should not be.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  type Client,
  signedInAdmin,
  startAccountsServer,
  type TestServer,
} from '../../../test/accounts/harness.ts';
import {
  type OpenAiCompatibleServer,
  STUB_MODELS,
  startOpenAiCompatibleServer,
} from '../../../test/support/openai_compatible_server.ts';
import { freePort } from '../../../test/support/ports.ts';
import { openSqlite } from '../../db_sqlite/connection.ts';
import { createSignInAttemptsRepository } from '../../db_sqlite/sign_in_attempts/sign_in_attempts_repository.ts';
import { createLogger } from '../../logger.ts';
import { createLlmService } from './llm_service.ts';
import { llmRoutes } from './routes.ts';

const KEY = 'sk-test-0123456789abcdefSECRET';

interface Playground {
  server: TestServer;
  stub: OpenAiCompatibleServer;
  admin: Client;
  /** Every log line, the server's and the LLM service's. */
  logs(): string;
}

async function withPlayground(
  options: { timeoutMs?: number; maxOutputChars?: number; perMinute?: number },
  run: (p: Playground) => Promise<void>,
) {
  const stub = await startOpenAiCompatibleServer();
  const lines: string[] = [];
  const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
  const closedPort = await freePort();
  let server: TestServer | undefined;
  const limiterDir = mkdtempSync(path.join(tmpdir(), 'junjo-llm-limits-'));
  const limiterDb = openSqlite(path.join(limiterDir, 'junjo.db'), logger);
  try {
    const clock = () => server?.clock() ?? Date.now();
    const llm = createLlmService({
      providers: [
        { name: 'stub', baseURL: stub.baseURL, apiKey: KEY },
        { name: 'local', baseURL: stub.baseURL, apiKey: null },
        { name: 'down', baseURL: `http://127.0.0.1:${closedPort}/v1`, apiKey: KEY },
      ],
      timeoutMs: options.timeoutMs ?? 60_000,
      maxOutputChars: options.maxOutputChars,
      logger,
      clock,
    });
    server = await startAccountsServer({
      features: [
        llmRoutes(llm, {
          generationsPerMinute: options.perMinute ?? 1000,
          timeoutMs: options.timeoutMs ?? 60_000,
          clock,
          attempts: createSignInAttemptsRepository(limiterDb),
        }),
      ],
    });
    const admin = await signedInAdmin(server);
    const logs = () => (server?.logs() ?? '') + lines.join('');
    await run({ server, stub, admin, logs });
    assert.equal(logs().includes(KEY), false, 'the key is never logged');
  } finally {
    await server?.close();
    await stub.close();
    limiterDb.close();
    rmSync(limiterDir, { recursive: true, force: true });
  }
}

const hello = [
  { role: 'system', content: 'Be terse.' },
  { role: 'user', content: 'Say hello to Ada' },
];

async function jsonOf(response: Response) {
  const text = await response.text();
  assert.equal(text.includes(KEY), false, 'the key is never in a response');
  return JSON.parse(text) as Record<string, unknown>;
}

/** The server-sent events of a streamed answer, in order. */
async function sseEvents(response: Response): Promise<Array<{ event: string; data: string }>> {
  const text = await response.text();
  assert.equal(text.includes(KEY), false, 'the key is never in a stream');
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event, data };
    });
}

const chatRequests = (stub: OpenAiCompatibleServer) =>
  stub.requests.filter((r) => r.path === '/v1/chat/completions');

describe('prompt playground API', () => {
  test('GET /llm/providers lists names and endpoints, never keys; signed out → 401', () =>
    withPlayground({}, async ({ server, stub, admin }) => {
      const response = await admin.request('GET', '/llm/providers');
      assert.equal(response.status, 200);
      const body = await jsonOf(response);
      assert.deepEqual(body.setting, 'JUNJO_LLM_PROVIDERS');
      assert.deepEqual(body.providers, [
        { name: 'stub', base_url: stub.baseURL, has_key: true },
        { name: 'local', base_url: stub.baseURL, has_key: false },
        {
          name: 'down',
          base_url: (body.providers as Array<{ base_url: string }>)[2]?.base_url,
          has_key: true,
        },
      ]);
      assert.equal((await fetch(`${server.url}/llm/providers`)).status, 401);
      const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      for (const route of ['/llm/providers', '/llm/providers/{name}/models', '/llm/generate'])
        assert.ok(spec.paths[route], `${route} is in /openapi.json`);
    }));

  test('models come from the provider with its key, are cached, and refresh=true asks again', () =>
    withPlayground({}, async ({ stub, admin }) => {
      const first = await jsonOf(await admin.request('GET', '/llm/providers/stub/models'));
      assert.deepEqual(
        (first.models as Array<{ id: string }>).map((m) => m.id),
        STUB_MODELS,
      );
      await admin.request('GET', '/llm/providers/stub/models');
      const asked = () => stub.requests.filter((r) => r.path === '/v1/models');
      assert.equal(asked().length, 1, 'the second list came from the cache');
      assert.equal(asked()[0]?.headers.authorization, `Bearer ${KEY}`);
      await admin.request('GET', '/llm/providers/stub/models?refresh=true');
      assert.equal(asked().length, 2);
      const unknown = await admin.request('GET', '/llm/providers/nope/models');
      assert.equal(unknown.status, 400);
      assert.match(String((await jsonOf(unknown)).message), /Unknown LLM provider "nope"/);
    }));

  test('POST /llm/generate forwards model, messages and every parameter, and answers with latency and usage', () =>
    withPlayground({}, async ({ stub, admin }) => {
      const schema = { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'] };
      const response = await admin.request('POST', '/llm/generate', {
        body: {
          provider: 'stub',
          model: 'stub-large',
          messages: hello,
          temperature: 0.3,
          top_p: 0.9,
          max_tokens: 256,
          stop: ['END'],
          response_format: { type: 'json_schema', json_schema: { name: 'greeting', schema, strict: true } },
          reasoning_effort: 'low',
        },
      });
      assert.equal(response.status, 200);
      const body = await jsonOf(response);
      const [forwarded] = chatRequests(stub);
      assert.equal(forwarded?.headers.authorization, `Bearer ${KEY}`);
      assert.deepEqual(forwarded?.body, {
        model: 'stub-large',
        messages: hello,
        temperature: 0.3,
        top_p: 0.9,
        max_tokens: 256,
        stop: ['END'],
        response_format: { type: 'json_schema', json_schema: { name: 'greeting', schema, strict: true } },
        reasoning_effort: 'low',
      });
      const choices = body.choices as Array<{ message: { content: string }; finish_reason: string }>;
      assert.equal(choices[0]?.message.content, 'Echo: Say hello to Ada');
      assert.equal(choices[0]?.finish_reason, 'stop');
      assert.equal(body.model, 'stub-large-2026');
      assert.equal(typeof body.latency_ms, 'number');
      assert.deepEqual(Object.keys(body.usage as object).sort(), [
        'completion_tokens',
        'prompt_tokens',
        'total_tokens',
      ]);
    }));

  test('a provider without a key gets no Authorization header', () =>
    withPlayground({}, async ({ stub, admin }) => {
      const response = await admin.request('POST', '/llm/generate', {
        body: {
          provider: 'local',
          model: 'llama',
          messages: hello,
          response_format: { type: 'json_object' },
        },
      });
      assert.equal(response.status, 200);
      const [forwarded] = chatRequests(stub);
      assert.equal(forwarded?.headers.authorization, undefined);
      assert.deepEqual(forwarded?.body?.response_format, { type: 'json_object' });
    }));

  test('stream=true answers as server-sent events: the chunks, a summary, then [DONE]', () =>
    withPlayground({}, async ({ stub, admin }) => {
      const response = await admin.request('POST', '/llm/generate', {
        body: { provider: 'stub', model: 'stub-mini', messages: hello, stream: true },
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const events = await sseEvents(response);
      const chunks = events.filter((e) => e.event === 'message' && e.data !== '[DONE]');
      const text = chunks
        .map(
          (e) =>
            (JSON.parse(e.data) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta
              ?.content ?? '',
        )
        .join('');
      assert.equal(text, 'Echo: Say hello to Ada');
      assert.ok(chunks.length >= 5, 'the answer arrives in several chunks');
      const summary = events.find((e) => e.event === 'summary');
      assert.ok(summary, 'a summary event');
      const facts = JSON.parse(summary.data) as Record<string, unknown>;
      assert.equal(facts.finish_reason, 'stop');
      assert.equal(facts.model, 'stub-mini-2026');
      assert.equal(typeof facts.latency_ms, 'number');
      assert.equal(typeof facts.first_token_ms, 'number');
      assert.equal((facts.usage as { completion_tokens: number }).completion_tokens, 5);
      assert.deepEqual(events.at(-1), { event: 'message', data: '[DONE]' });
      const [forwarded] = chatRequests(stub);
      assert.equal(forwarded?.body?.stream, true);
      assert.deepEqual(forwarded?.body?.stream_options, { include_usage: true });
    }));

  test('provider refusals map to clear statuses: 401 → 502 without the key, 429 → 429 with retry-after, 500 → 502', () =>
    withPlayground({}, async ({ admin }) => {
      for (const stream of [false, true]) {
        const generate = (model: string) =>
          admin.request('POST', '/llm/generate', {
            body: { provider: 'stub', model, messages: hello, stream },
          });
        const refused = await generate('fail-401');
        assert.equal(refused.status, 502);
        const refusedBody = await jsonOf(refused);
        assert.match(
          String(refusedBody.message),
          /Provider stub refused the configured API key \(401\): Incorrect API key provided/,
        );
        assert.deepEqual(Object.keys(refusedBody), ['message']);

        const limited = await generate('fail-429');
        assert.equal(limited.status, 429);
        assert.equal(limited.headers.get('retry-after'), '7');
        assert.match(String((await jsonOf(limited)).message), /Provider stub is rate limiting \(429\)/);

        const broken = await generate('fail-500');
        assert.equal(broken.status, 502);
        assert.match(
          String((await jsonOf(broken)).message),
          /Provider stub failed \(500\): The server had an error/,
        );
      }
    }));

  test('an unreachable provider → 502, an unknown provider → 400', () =>
    withPlayground({}, async ({ admin }) => {
      const down = await admin.request('POST', '/llm/generate', {
        body: { provider: 'down', model: 'm', messages: hello },
      });
      assert.equal(down.status, 502);
      assert.match(String((await jsonOf(down)).message), /Provider down cannot be reached/);
      const unknown = await admin.request('POST', '/llm/generate', {
        body: { provider: 'gemini', model: 'm', messages: hello },
      });
      assert.equal(unknown.status, 400);
      assert.match(
        String((await jsonOf(unknown)).message),
        /Unknown LLM provider "gemini"; configured: stub, local, down/,
      );
    }));

  test('a provider that never answers → 504; a stream that stalls ends with an error event', () =>
    withPlayground({ timeoutMs: 1000 }, async ({ admin }) => {
      const hang = await admin.request('POST', '/llm/generate', {
        body: { provider: 'stub', model: 'hang', messages: hello },
      });
      assert.equal(hang.status, 504);
      assert.match(String((await jsonOf(hang)).message), /did not (answer|finish) in time/);
      const stalled = await admin.request('POST', '/llm/generate', {
        body: { provider: 'stub', model: 'stall-stream', messages: hello, stream: true },
      });
      assert.equal(stalled.status, 200);
      const events = await sseEvents(stalled);
      assert.deepEqual(events.at(-1), {
        event: 'error',
        data: JSON.stringify({ message: 'Provider stub did not finish in time' }),
      });
    }));

  test('a malformed stream and an over-long stream end with an error event', () =>
    withPlayground({ maxOutputChars: 20_000 }, async ({ admin }) => {
      const generate = (model: string) =>
        admin.request('POST', '/llm/generate', {
          body: { provider: 'stub', model, messages: hello, stream: true },
        });
      const malformed = await sseEvents(await generate('malformed-stream'));
      assert.deepEqual(malformed.at(-1), {
        event: 'error',
        data: JSON.stringify({ message: 'Provider stub sent a malformed answer' }),
      });
      const endless = await sseEvents(await generate('endless-stream'));
      assert.deepEqual(endless.at(-1), {
        event: 'error',
        data: JSON.stringify({ message: 'Provider stub sent a longer answer than the server accepts' }),
      });
    }));

  test('bad input: over 1 MiB → 413, invalid parameters → 400, no CSRF token → 403', () =>
    withPlayground({}, async ({ stub, admin }) => {
      const huge = await admin.request('POST', '/llm/generate', {
        body: {
          provider: 'stub',
          model: 'm',
          messages: [
            { role: 'user', content: 'x'.repeat(150_000) },
            ...Array(7).fill({ role: 'user', content: 'y'.repeat(150_000) }),
          ],
        },
      });
      assert.equal(huge.status, 413);
      assert.ok(typeof (await jsonOf(huge)).message === 'string');
      for (const body of [
        { provider: 'stub', model: 'm', messages: [] },
        { provider: 'stub', model: 'm', messages: hello, temperature: 5 },
        { provider: 'stub', model: 'm', messages: [{ role: 'wizard', content: 'hi' }] },
        { provider: 'stub', model: 'm', messages: hello, response_format: { type: 'xml' } },
        { provider: 'stub', model: 'm', messages: hello, base_url: 'http://evil.example/v1' },
      ]) {
        const response = await admin.request('POST', '/llm/generate', { body });
        assert.equal(response.status, 400, JSON.stringify(body).slice(0, 100));
        assert.match(String((await jsonOf(response)).message), /^Invalid request: /);
      }
      const noCsrf = await admin.request('POST', '/llm/generate', {
        body: { provider: 'stub', model: 'm', messages: hello },
        csrf: false,
      });
      assert.equal(noCsrf.status, 403);
      assert.equal(chatRequests(stub).length, 0, 'nothing was forwarded');
    }));

  test('generations are rate-limited per user, with retry-after', () =>
    withPlayground({ perMinute: 2 }, async ({ server, admin }) => {
      const generate = () =>
        admin.request('POST', '/llm/generate', { body: { provider: 'stub', model: 'm', messages: hello } });
      assert.equal((await generate()).status, 200);
      assert.equal((await generate()).status, 200);
      const limited = await generate();
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.match(String((await jsonOf(limited)).message), /Too many generations/);
      server.clock.advance(61_000);
      assert.equal((await generate()).status, 200);
    }));
});
