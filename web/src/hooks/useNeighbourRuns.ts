// The previous and next run of the workflow shown in the debugger (lib/run_neighbours.ts).
import { useQuery } from '@tanstack/react-query';
import { listWorkflowRuns, type Page } from '../api/endpoints.ts';
import type { CompactSpan, Span } from '../api/types.ts';
import { nextRun, previousRun } from '../lib/run_neighbours.ts';

/** Each one: the run, null when there is none, undefined while it is being looked for. */
export interface NeighbourRuns {
  previous: Span | null | undefined;
  next: Span | null | undefined;
}

export function useNeighbourRuns(service: string, workflow: CompactSpan): NeighbourRuns {
  const fetchPage = (page: Page) => listWorkflowRuns(service, page, new URLSearchParams());
  // Only top-level workflows are in the runs list; subflows and agents have no neighbours there.
  const enabled = workflow.junjo_span_type === 'workflow';
  const key = ['run-neighbours', service, workflow.trace_id, workflow.span_id];
  const previous = useQuery({
    queryKey: [...key, 'previous'],
    queryFn: () => previousRun(workflow, fetchPage),
    enabled,
  });
  const next = useQuery({
    queryKey: [...key, 'next'],
    queryFn: () => nextRun(workflow, fetchPage, Date.now() * 1000),
    enabled,
  });
  const settled = (query: { data: Span | null | undefined; isPending: boolean }) =>
    enabled && query.isPending ? undefined : (query.data ?? null);
  return { previous: settled(previous), next: settled(next) };
}
