// Queries shared by a page and the route loader that starts them early.
import { compactTrace, spanLogRecords, traceSpan, waterfallTrace } from './endpoints.ts';

/** The trace for the debugger; a span's details come from spanQuery. */
export const compactTraceQuery = (traceId: string) => ({
  queryKey: ['trace', traceId] as const,
  queryFn: () => compactTrace(traceId),
});

/** The trace for the waterfall (the trace page): the compact trace's waterfall view. */
export const waterfallTraceQuery = (traceId: string) => ({
  queryKey: ['trace', traceId, 'waterfall'] as const,
  queryFn: () => waterfallTrace(traceId),
});

/**
 * One span with its attributes and events. A stored span never changes (a replayed export is
 * ignored), so it stays fresh: reopening a span costs no request.
 */
export const spanQuery = (traceId: string, spanId: string) => ({
  queryKey: ['span', traceId, spanId] as const,
  queryFn: () => traceSpan(traceId, spanId),
  staleTime: Number.POSITIVE_INFINITY,
});

/** The span's OTLP log records (e.g. GenAI prompt and completion events); [] for most spans. */
export const spanLogsQuery = (traceId: string, spanId: string) => ({
  queryKey: ['span-logs', traceId, spanId] as const,
  queryFn: () => spanLogRecords(traceId, spanId),
});
