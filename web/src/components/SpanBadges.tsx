// The span list cells the traces list and the search results share: the span's Junjo type (or, for a
// plain OpenTelemetry span, its kind) and its ok/error status.

/** The Junjo type as a badge; a span without one shows its OpenTelemetry kind, muted. */
export function SpanTypeBadge({ span }: { span: { junjo_span_type: string; kind: string } }) {
  return span.junjo_span_type ? (
    <span className={`badge type-${span.junjo_span_type}`}>{span.junjo_span_type}</span>
  ) : (
    <span className="muted">{span.kind.toLowerCase()}</span>
  );
}

export function StatusBadge({ failed }: { failed: boolean }) {
  return failed ? <span className="badge error">error</span> : <span className="badge ok">ok</span>;
}
