// What went wrong with a provider, as one AppError with the status a client can act on. Provider
// error bodies can echo the key that was sent (OpenAI's 401 does, partly masked), so every message
// taken from upstream passes through `redact` with the provider's key before it goes anywhere.
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import { AppError, badGateway, invalidInput, tooMany, upstreamTimeout } from '../../errors.ts';

/** Why our side aborted a generation (set as the AbortController's reason). */
export class GenerationAborted extends Error {
  readonly why: 'timeout' | 'too_long' | 'client_gone';
  constructor(why: GenerationAborted['why']) {
    super(why);
    this.why = why;
  }
}

const MAX_UPSTREAM_MESSAGE = 500;

export function redact(text: string, secret: string | null): string {
  let out = secret ? text.replaceAll(secret, '[redacted]') : text;
  // Keys that a provider echoes masked still show their own shape: drop anything key-like.
  out = out.replace(/\b(sk|pk|rk)-[\w*-]{6,}/g, '[redacted]');
  return out.length > MAX_UPSTREAM_MESSAGE ? `${out.slice(0, MAX_UPSTREAM_MESSAGE)}…` : out;
}

function upstreamMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (body && typeof body.message === 'string' && body.message) return body.message;
  return error.message.replace(/^\d{3}\s*/, '');
}

function retryAfterSeconds(headers: Headers | undefined): number {
  const raw = headers?.get('retry-after');
  if (raw) {
    const seconds = Number(raw);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
    const at = Date.parse(raw);
    if (Number.isFinite(at)) return Math.max(0, Math.ceil((at - Date.now()) / 1000));
  }
  return 1;
}

/**
 * The AppError for anything a provider call threw. `aborted` is the signal's reason when our side
 * aborted (deadline, output cap, client gone), which the openai client reports as a user abort.
 */
export function toAppError(
  error: unknown,
  provider: string,
  secret: string | null,
  aborted?: unknown,
): AppError {
  if (error instanceof AppError) return error;
  if (aborted instanceof GenerationAborted || error instanceof GenerationAborted) {
    const why = aborted instanceof GenerationAborted ? aborted.why : (error as GenerationAborted).why;
    if (why === 'too_long')
      return badGateway(`Provider ${provider} sent a longer answer than the server accepts`);
    if (why === 'client_gone') return invalidInput('The request was cancelled');
    return upstreamTimeout(`Provider ${provider} did not finish in time`);
  }
  if (error instanceof APIConnectionTimeoutError)
    return upstreamTimeout(`Provider ${provider} did not answer in time`);
  if (error instanceof APIUserAbortError) return invalidInput('The request was cancelled');
  if (error instanceof APIConnectionError)
    return badGateway(
      `Provider ${provider} cannot be reached: ${redact(error.cause instanceof Error ? error.cause.message : error.message, secret)}`,
    );
  if (error instanceof APIError) {
    const said = redact(upstreamMessage(error), secret);
    const status = error.status;
    if (status === 429)
      return tooMany(
        `Provider ${provider} is rate limiting (429): ${said}`,
        retryAfterSeconds(error.headers),
      );
    if (status === 401 || status === 403)
      return badGateway(`Provider ${provider} refused the configured API key (${status}): ${said}`);
    if (status === 400 || status === 404 || status === 422)
      return new AppError(`Provider ${provider} rejected the request (${status}): ${said}`, 'invalid_input');
    if (status === undefined) return badGateway(`Provider ${provider} sent an error in the stream: ${said}`);
    return badGateway(`Provider ${provider} failed (${status}): ${said}`);
  }
  // The openai client's SSE decoder throws SyntaxError (or an OpenAIError) on a malformed stream.
  if (error instanceof SyntaxError || error instanceof OpenAIError)
    return badGateway(`Provider ${provider} sent a malformed answer`);
  return badGateway(`Provider ${provider} call failed`);
}
