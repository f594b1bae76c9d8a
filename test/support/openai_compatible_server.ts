// A local stand-in for the paid LLM providers: plain node:http speaking the OpenAI wire protocol
// (GET /models, POST /chat/completions as JSON or SSE, OpenAI-shaped error bodies). It records every
// request so tests can assert what our server forwarded. The model name picks the behaviour:
//   any other name      answers "Echo: <last user message>" (streamed word by word when asked)
//   fail-401 / fail-429 / fail-500   the error status with an OpenAI error body (401 echoes the key sent)
//   hang                never answers           stall-stream   one chunk, then silence
//   malformed-stream    a chunk, then a line that is not JSON
//   endless-stream      chunks until the client goes away
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | null;
}

export interface OpenAiCompatibleServer {
  /** The base URL to configure, e.g. http://127.0.0.1:PORT/v1 */
  baseURL: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export const STUB_MODELS = ['stub-large', 'stub-mini'];

interface ChatBody {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

const errorBody = (message: string, type: string, code: string) =>
  JSON.stringify({ error: { message, type, param: null, code } });

export function echoAnswer(messages: ChatBody['messages']): string {
  const lastUser = [...(messages ?? [])].reverse().find((m) => m.role === 'user');
  return `Echo: ${lastUser?.content ?? ''}`;
}

export async function startOpenAiCompatibleServer(): Promise<OpenAiCompatibleServer> {
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | null = null;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      const path = (req.url ?? '').replace(/\?.*$/, '');
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      open.add(res);
      res.on('close', () => open.delete(res));
      if (req.method === 'GET' && path === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data: STUB_MODELS.map((id) => ({
              id,
              object: 'model',
              created: 1_700_000_000,
              owned_by: 'stub',
            })),
          }),
        );
        return;
      }
      if (req.method === 'POST' && path === '/v1/chat/completions' && body) {
        chat(body as ChatBody, req.headers, res);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(errorBody(`Unknown path ${path}`, 'invalid_request_error', 'not_found'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
      }),
  };
}

function chat(body: ChatBody, headers: IncomingHttpHeaders, res: ServerResponse): void {
  const model = body.model ?? '';
  const json = (status: number, payload: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...extra });
    res.end(payload);
  };
  const sentKey = String(headers.authorization ?? '').replace(/^Bearer /, '');
  const failures: Record<string, () => void> = {
    'fail-401': () =>
      json(
        401,
        errorBody(`Incorrect API key provided: ${sentKey}.`, 'invalid_request_error', 'invalid_api_key'),
      ),
    'fail-429': () =>
      json(429, errorBody('Rate limit reached for requests', 'requests', 'rate_limit_exceeded'), {
        'retry-after': '7',
      }),
    'fail-500': () => json(500, errorBody('The server had an error', 'server_error', 'server_error')),
    hang: () => {},
  };
  const failure = failures[model];
  if (failure) {
    failure();
    return;
  }

  const answer = echoAnswer(body.messages);
  const prompt_tokens = JSON.stringify(body.messages ?? []).length;
  const usage = { prompt_tokens, completion_tokens: answer.split(' ').length, total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const base = {
    id: 'chatcmpl-stub',
    created: 1_700_000_000,
    model: `${model}-2026`,
    system_fingerprint: 'fp_stub',
  };
  if (!body.stream) {
    json(
      200,
      JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
      }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
    `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason }] })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }));
  if (model === 'stall-stream') {
    res.write(chunk({ content: 'Thinking' }));
    return;
  }
  if (model === 'malformed-stream') {
    res.write(chunk({ content: 'Half' }));
    res.end('data: {"choices": [ this is not json\n\n');
    return;
  }
  if (model === 'endless-stream') {
    const timer = setInterval(() => res.write(chunk({ content: 'more '.repeat(200) })), 1);
    res.on('close', () => clearInterval(timer));
    return;
  }
  const words = answer.split(/(?<= )/);
  let i = 0;
  // Word by word, each on its own turn of the event loop, like a real provider trickling tokens.
  const next = () => {
    if (res.destroyed) return;
    if (i < words.length) {
      res.write(chunk({ content: words[i++] }));
      setImmediate(next);
      return;
    }
    res.write(chunk({}, 'stop'));
    if (body.stream_options?.include_usage)
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`,
      );
    res.end('data: [DONE]\n\n');
  };
  next();
}
