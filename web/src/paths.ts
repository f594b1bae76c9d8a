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
  traces: (service: string) => `/services/${encodeURIComponent(service)}/traces`,
  trace: (traceId: string, spanId?: string) => `/traces/${traceId}${spanId ? `?span=${spanId}` : ''}`,
  /** The prompt playground, opened on an LLM span when given one. */
  playground: (traceId?: string, spanId?: string) =>
    traceId && spanId
      ? `/playground?${new URLSearchParams({ trace: traceId, span: spanId })}`
      : '/playground',
  apiKeys: () => '/settings/api-keys',
  users: () => '/settings/users',
};
