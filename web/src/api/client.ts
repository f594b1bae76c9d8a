// fetch for the JSON API: same-origin cookies, the CSRF header on unsafe methods, `{message}` errors,
// and one place that notices a lost session (any 401) so the app can send the user to sign-in.

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

const unauthorizedListeners = new Set<() => void>();

/** Called on every 401 except from requests that expect one (the session probe, sign-in). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

let csrfToken: Promise<string> | null = null;

/** The token depends on the session: forget it whenever the session changes. */
export function resetCsrfToken(): void {
  csrfToken = null;
}

function currentCsrfToken(): Promise<string> {
  csrfToken ??= request<{ csrfToken: string }>('GET', '/csrf').then(
    (body) => body.csrfToken,
    (error: unknown) => {
      csrfToken = null;
      throw error;
    },
  );
  return csrfToken;
}

export interface RequestOptions {
  body?: unknown;
  /** a 401 is an answer here (e.g. wrong password), not a lost session */
  expect401?: boolean;
  signal?: AbortSignal;
}

/** What every GET sends; a request started early (requestEarly) must match it exactly. */
const GET_INIT: RequestInit = { headers: { accept: 'application/json' }, credentials: 'same-origin' };

/** GETs started before the app's code had loaded, by path, each waiting for its first asker. */
const early = new Map<string, Promise<Response>>();
/** Once the app makes requests itself, a request started early could only duplicate one of them. */
let appStarted = false;

/**
 * Starts a GET that the app will make once its code has loaded (web/src/early.ts): the first
 * api.get of the same path takes the answer instead of asking again. Only for GETs a page makes
 * straight away (an answer nobody takes is held until the page is left), and only while the app
 * has sent nothing itself: the two scripts load side by side, and the app may win.
 */
export function requestEarly(path: string): void {
  if (appStarted) return;
  const response = fetch(path, GET_INIT);
  // A failure is reported to the call that takes the answer, not as an unhandled rejection.
  response.catch(() => {});
  early.set(path, response);
}

async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The successful Response itself (for a streamed body); failures throw ApiError like every call. */
async function send(
  method: Method,
  path: string,
  options: RequestOptions,
  retried = false,
): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = await currentCsrfToken();
  appStarted = true;
  const started = method === 'GET' && !retried ? early.get(path) : undefined;
  if (started) early.delete(path);
  let response: Response;
  try {
    response = await (started ??
      fetch(path, {
        ...GET_INIT,
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      }));
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'The server cannot be reached. Is Junjo Server running?');
  }
  if (response.ok) return response;
  const message = await errorMessage(response);
  if (response.status === 403 && /csrf/i.test(message) && !retried) {
    resetCsrfToken();
    return send(method, path, options, true);
  }
  if (response.status === 401 && !options.expect401) {
    for (const listener of unauthorizedListeners) listener();
  }
  throw new ApiError(response.status, message);
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown; error?: unknown };
    const message = body.message ?? body.error;
    if (typeof message === 'string' && message) return message;
  } catch {
    // not JSON: fall through to the status text
  }
  return `${response.status} ${response.statusText || 'Request failed'}`;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('POST', path, { ...options, body: body ?? {} }),
  delete: <T = void>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
  /** POST whose answer is read as a stream (server-sent events). */
  postForStream: (path: string, body: unknown, options?: RequestOptions) =>
    send('POST', path, { ...options, body }),
};
