// A real accounts server for tests: buildHttpApp with the accounts guards and features, a SQLite file in
// a temp dir, a clock the test can move, every log line captured, and a cookie-keeping HTTP client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Accounts, createAccounts } from '../../src/accounts.ts';
import { openSqlite, type Sqlite } from '../../src/db_sqlite/connection.ts';
import type { SignInLimits } from '../../src/features/auth/sign_in_service.ts';
import { healthRoutes } from '../../src/features/health/routes.ts';
import { buildHttpApp, type HttpPlugin } from '../../src/http/app.ts';
import { createLogger } from '../../src/logger.ts';

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

export interface MovableClock {
  (): number;
  advance(ms: number): void;
}

export function movableClock(start = Date.parse('2026-01-15T10:00:00.000Z')): MovableClock {
  let now = start;
  const clock = (() => now) as MovableClock;
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

export interface TestServer {
  url: string;
  app: FastifyInstance;
  accounts: Accounts;
  sqlite: Sqlite;
  sqlitePath: string;
  clock: MovableClock;
  /** Every log line written so far (JSON lines, level trace). */
  logs(): string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  signInLimits?: Partial<SignInLimits>;
  allowOrigins?: string[];
  production?: boolean;
  prodAuthDomain?: string;
  /** Extra plugins registered after the accounts features (e.g. a test-only route). */
  features?: HttpPlugin[];
}

export async function startAccountsServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'junjo-accounts-'));
  const lines: string[] = [];
  const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
  const sqlitePath = path.join(dir, 'junjo.db');
  const sqlite = openSqlite(sqlitePath, logger);
  const clock = movableClock();
  const accounts = createAccounts({
    sqlite,
    logger,
    clock,
    signInLimits: options.signInLimits,
    config: {
      sessionSecret: 'test-session-secret-with-at-least-32-chars',
      allowOrigins: options.allowOrigins ?? [],
      production: options.production ?? false,
      prodAuthDomain: options.prodAuthDomain ?? '',
      trustProxy: false,
    },
  });
  const app = await buildHttpApp({
    logger,
    production: options.production ?? false,
    guards: accounts.guards,
    features: [healthRoutes([]), ...accounts.features, ...(options.features ?? [])],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    accounts,
    sqlite,
    sqlitePath,
    clock,
    logs: () => lines.join(''),
    async close() {
      await app.close();
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the X-CSRF-Token header from the last GET /csrf (default true). */
  csrf?: boolean;
}

/** Keeps cookies like a browser and sends the CSRF header like the web UI. */
export class Client {
  readonly url: string;
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  constructor(url: string) {
    this.url = url;
  }

  async request(method: string, urlPath: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0)
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (options.csrf !== false && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${urlPath}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async fetchCsrfToken(): Promise<string> {
    const response = await this.request('GET', '/csrf');
    this.csrfToken = ((await response.json()) as { csrfToken: string }).csrfToken;
    return this.csrfToken;
  }

  /** Signs in and fetches the CSRF token for the new session; throws unless both succeed. */
  async signIn(email = ADMIN.email, password = ADMIN.password): Promise<void> {
    const response = await this.request('POST', '/sign-in', { body: { email, password }, csrf: false });
    if (response.status !== 200)
      throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
    await this.fetchCsrfToken();
  }
}

/** First-user setup for `email`, then a signed-in client. */
export async function signedInAdmin(server: TestServer, email = ADMIN.email, password = ADMIN.password) {
  const client = new Client(server.url);
  const response = await client.request('POST', '/users/create-first-user', { body: { email, password } });
  if (response.status !== 200) throw new Error(`setup failed: ${response.status} ${await response.text()}`);
  await client.signIn(email, password);
  return client;
}

/** A second user created by `admin`, signed in on its own client. */
export async function signedInUser(
  server: TestServer,
  admin: Client,
  email: string,
  password = ADMIN.password,
) {
  const response = await admin.request('POST', '/users', { body: { email, password } });
  if (response.status !== 200)
    throw new Error(`user creation failed: ${response.status} ${await response.text()}`);
  const client = new Client(server.url);
  await client.signIn(email, password);
  return client;
}
