// The one place the UI takes its API types from: the server's own schemas (src/features/*/schemas.ts).
import type { PollerFacts } from '../../../src/telemetry/ingestion_poller.ts';

export type { ApiKey, CreatedApiKey } from '../../../src/features/api_keys/schemas.ts';
export type { AuthTest, CsrfToken } from '../../../src/features/auth/schemas.ts';
export type {
  ChatMessage,
  GenerateRequest,
  LlmModelList,
  LlmProviderList,
  ReasoningEffort,
  ResponseFormat,
  StreamSummary,
} from '../../../src/features/llm/schemas.ts';
/** GET /otel/services: a service with its span and trace counts and last activity. */
export type {
  CompactSpan,
  LogRecord,
  Service as ServiceSummary,
  Span,
  SpanEvent,
  SpanSummary,
  StatePatch,
  WaterfallSpan,
} from '../../../src/features/otel/schemas.ts';
export type { SearchResult } from '../../../src/features/search/schemas.ts';
export type { User, UsersExist } from '../../../src/features/users/schemas.ts';
/** GET /otel/service/:service/workflow_stats: the service overview charts' data. */
export type { WorkflowStats, WorkflowStatsBucket } from '../../../src/features/workflow_stats/schemas.ts';
/** One poller's progress, as GET /health/details shows it. */
export type { PollerFacts } from '../../../src/telemetry/ingestion_poller.ts';

/** GET /health/details: the part the UI reads, each poller's progress (the indexing indicator). */
export interface HealthDetails {
  pollers?: PollerFacts[];
}
