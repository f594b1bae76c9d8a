// Queries shared by a page and the route loader that starts them early.
import { spanLogRecords, traceSpans } from './endpoints.ts';

export const traceQuery = (traceId: string) => ({
  queryKey: ['trace', traceId] as const,
  queryFn: () => traceSpans(traceId),
});

/** The span's OTLP log records (e.g. GenAI prompt and completion events); [] for most spans. */
export const spanLogsQuery = (traceId: string, spanId: string) => ({
  queryKey: ['span-logs', traceId, spanId] as const,
  queryFn: () => spanLogRecords(traceId, spanId),
});
