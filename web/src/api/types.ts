// The one place the UI takes its API types from: the server's own schemas (src/features/*/schemas.ts).
export type { ApiKey, CreatedApiKey } from '../../../src/features/api_keys/schemas.ts';
export type { AuthTest, CsrfToken } from '../../../src/features/auth/schemas.ts';
export type { Span, SpanEvent, StatePatch } from '../../../src/features/otel/schemas.ts';
export type { User, UsersExist } from '../../../src/features/users/schemas.ts';

/**
 * GET /otel/services. TODO: import from src/features/otel/schemas.ts once the backend defines it;
 * until then the UI falls back to GET /otel/span_service_names (names only, counts null).
 */
export interface ServiceSummary {
  service_name: string;
  span_count: number | null;
  trace_count: number | null;
  /** RFC 3339 start time of the newest span */
  last_seen: string | null;
}
