// Queries shared by a page and the route loader that starts them early.
import { traceSpans } from './endpoints.ts';

export const traceQuery = (traceId: string) => ({
  queryKey: ['trace', traceId] as const,
  queryFn: () => traceSpans(traceId),
});
