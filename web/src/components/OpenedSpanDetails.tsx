// The details of the span the user opened. The trace page and the debugger hold compact spans only
// (no attributes or ordinary events, which can be large); the whole span is fetched now, once,
// and kept by react-query, so going back to a span costs no request.
import { useQuery } from '@tanstack/react-query';
import { spanQuery } from '../api/queries.ts';
import { SpanDetails } from './SpanDetails.tsx';
import { ErrorNotice, Loading } from './status.tsx';

export function OpenedSpanDetails(props: { traceId: string; spanId: string; showWorkflowLink?: boolean }) {
  const span = useQuery(spanQuery(props.traceId, props.spanId));
  if (span.isPending) return <Loading label="Loading span details" />;
  if (span.error) return <ErrorNotice error={span.error} retry={() => void span.refetch()} />;
  return <SpanDetails span={span.data} showWorkflowLink={props.showWorkflowLink ?? true} />;
}
