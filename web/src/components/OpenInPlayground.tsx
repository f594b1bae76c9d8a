// "Open in playground" on an LLM span (trace page and workflow debugger both show SpanDetails).
// The one place the UI decides whether a span can be replayed in the playground.
import { Link } from 'react-router';
import type { Span } from '../api/types.ts';
import { isLlmSpan } from '../lib/span_facts.ts';
import { paths } from '../paths.ts';

export function OpenInPlayground({ span }: { span: Span }) {
  if (!isLlmSpan(span)) return null;
  return (
    <p>
      <Link to={paths.playground(span.trace_id, span.span_id)} data-testid="open-in-playground">
        Open in playground →
      </Link>
    </p>
  );
}
