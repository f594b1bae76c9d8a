// URL of every view (the routes are declared in router.tsx).
export const paths = {
  services: () => '/services',
  /** `filters`: run_filters.ts parameters. */
  workflowRuns: (service: string, filters?: URLSearchParams) =>
    `/services/${encodeURIComponent(service)}/workflows${filters?.size ? `?${filters}` : ''}`,
  /** `runs`: `<traceId>:<spanId>,…` (run_compare.ts formatRunRefs). */
  compareRuns: (service: string, runs: string) =>
    `/services/${encodeURIComponent(service)}/compare?${new URLSearchParams({ runs })}`,
  workflow: (service: string, traceId: string, spanId: string) =>
    `/services/${encodeURIComponent(service)}/workflows/${traceId}/${spanId}`,
  /** The service's charts; `query` is the range and workflow (lib/overview.ts). */
  overview: (service: string, query = '') =>
    `/services/${encodeURIComponent(service)}/overview${query ? `?${query}` : ''}`,
  traces: (service: string) => `/services/${encodeURIComponent(service)}/traces`,
  /** The trace search, optionally with its query (lib/search_url.ts). */
  search: (query?: URLSearchParams) => (query && query.size > 0 ? `/search?${query}` : '/search'),
  trace: (traceId: string, spanId?: string) => `/traces/${traceId}${spanId ? `?span=${spanId}` : ''}`,
  /** The prompt playground, opened on an LLM span when given one. */
  playground: (traceId?: string, spanId?: string) =>
    traceId && spanId
      ? `/playground?${new URLSearchParams({ trace: traceId, span: spanId })}`
      : '/playground',
  apiKeys: () => '/settings/api-keys',
  users: () => '/settings/users',
};
