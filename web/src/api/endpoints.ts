// Every REST call the UI makes, typed by the server's schemas.
import { ApiError, api } from './client.ts';
import type {
  ApiKey,
  AuthTest,
  CompactSpan,
  CreatedApiKey,
  HealthDetails,
  LlmModelList,
  LlmProviderList,
  LogRecord,
  SearchResult,
  ServiceSummary,
  Span,
  SpanSummary,
  User,
  UsersExist,
  WaterfallSpan,
  WorkflowStats,
} from './types.ts';

const enc = encodeURIComponent;

export interface Page {
  limit: number;
  /**
   * keyset cursor, the last span shown: the server returns the spans after it in its order
   * (start_time, then span_id, both descending), so spans sharing a start time are not skipped;
   * without a span id, every span starting before `start_time`
   */
  after?: { start_time: string; span_id?: string } | undefined;
}

function pageQuery(page: Page): string {
  const params = new URLSearchParams({ limit: String(page.limit) });
  if (page.after) {
    params.set('before', page.after.start_time);
    if (page.after.span_id) params.set('before_span_id', page.after.span_id);
  }
  return params.toString();
}

// Accounts
export const hasUsers = () => api.get<UsersExist>('/users/db-has-users');
export const createFirstUser = (email: string, password: string, setupToken?: string) =>
  api.post<{ message: string }>('/users/create-first-user', { email, password, setupToken });
export const signIn = (email: string, password: string) =>
  api.post<{ message: string }>('/sign-in', { email, password }, { expect401: true });
export const signOut = () => api.post<{ message: string }>('/sign-out');
export const whoAmI = () => api.get<AuthTest>('/auth-test', { expect401: true });

export const listUsers = () => api.get<User[]>('/users');
export const createUser = (email: string, password: string) =>
  api.post<{ message: string }>('/users', { email, password });
export const deleteUser = (id: number) => api.delete(`/users/${id}`);

export const listApiKeys = () => api.get<ApiKey[]>('/api_keys');
export const createApiKey = (name: string) => api.post<CreatedApiKey>('/api_keys', { name });
export const deleteApiKey = (id: string) => api.delete(`/api_keys/${enc(id)}`);

// Spans

export const listServices = () => api.get<ServiceSummary[]>('/otel/services');

/** Runs of the service; with filters (run_filters.ts parameters) from the filtered run list. */
export const listWorkflowRuns = (service: string, page: Page, filters: URLSearchParams) =>
  filters.size === 0
    ? api.get<Span[]>(`/otel/spans/type/workflow/${enc(service)}?${pageQuery(page)}`)
    : api.get<Span[]>(`/otel/service/${enc(service)}/workflow_runs?${pageQuery(page)}&${filters}`);

/** The service's runs as the workflow runs list pages them, each only its SpanSummary fields. */
export const listWorkflowRunSummaries = (service: string, page: Page) =>
  api.get<SpanSummary[]>(`/otel/spans/type/workflow/${enc(service)}?${pageQuery(page)}&view=summary`);

export const listRootSpans = (service: string, llmOnly: boolean, page: Page) =>
  api.get<Span[]>(
    `/otel/service/${enc(service)}/${llmOnly ? 'root_spans_filtered' : 'root_spans'}?${pageQuery(page)}`,
  );

export const workflowStats = (service: string, range: { from: string; to: string }) =>
  api.get<WorkflowStats>(`/otel/service/${enc(service)}/workflow_stats?${new URLSearchParams(range)}`);
/** `query`: the search page's parameters (lib/search_url.ts searchApiQuery), paged like the lists. */
export const searchSpans = (query: URLSearchParams, page: Page) =>
  api.get<SearchResult[]>(`/otel/search?${query}&${pageQuery(page)}`);

/**
 * The trace's spans without attributes and ordinary events: what the waterfall and debugger draw.
 * An unknown trace (404) is one whose spans have not arrived yet: no spans.
 */
export const compactTrace = (traceId: string) =>
  spansOrNone(api.get<CompactSpan[]>(compactTracePath(traceId)));

/**
 * Only what the trace waterfall draws of each span: without the state events and workflow graphs
 * a large workflow trace is a fraction of the bytes to query, send and parse.
 */
export const waterfallTrace = (traceId: string) =>
  spansOrNone(api.get<WaterfallSpan[]>(compactTracePath(traceId, 'waterfall')));

/** The path of compactTrace (or waterfallTrace): also what early.ts asks for ahead of the app. */
export const compactTracePath = (traceId: string, view?: 'waterfall') =>
  `/otel/trace/${enc(traceId)}/compact${view ? `?view=${view}` : ''}`;

const spansOrNone = <S>(request: Promise<S[]>) =>
  request.catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return [];
    throw error;
  });

/** One span with its attributes and events, fetched when it is opened. */
export const traceSpan = (traceId: string, spanId: string) =>
  api.get<Span>(`/otel/trace/${enc(traceId)}/span/${enc(spanId)}`);

export const spanLogRecords = (traceId: string, spanId: string) =>
  api.get<LogRecord[]>(`/otel/trace/${enc(traceId)}/span/${enc(spanId)}/logs`);

// Prompt playground (streamed generations: api/llm_stream.ts)

export const listLlmProviders = () => api.get<LlmProviderList>('/llm/providers');
export const listLlmModels = (provider: string, refresh = false) =>
  api.get<LlmModelList>(`/llm/providers/${enc(provider)}/models${refresh ? '?refresh=true' : ''}`);

/** The server's counters; the UI reads the pollers' progress (indexing_status.ts). */
export const healthDetails = () => api.get<HealthDetails>('/health/details');
