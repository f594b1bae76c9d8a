// The previous and next run of the workflow shown in the debugger (lib/run_neighbours.ts).
import { useQuery } from '@tanstack/react-query';
import { listWorkflowRunSummaries, type Page } from '../api/endpoints.ts';
import type { CompactSpan, SpanSummary } from '../api/types.ts';
import { nextRun, previousRun } from '../lib/run_neighbours.ts';

/** Each one: the run, null when there is none, undefined while it is being looked for. */
export interface NeighbourRuns {
  previous: SpanSummary | null | undefined;
  next: SpanSummary | null | undefined;
}

export function useNeighbourRuns(service: string, workflow: CompactSpan): NeighbourRuns {
  // Only the runs' summaries: whole runs carry their state and graph, megabytes for a page of 50.
  const fetchPage = (page: Page) => listWorkflowRunSummaries(service, page);
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
  const settled = (query: { data: SpanSummary | null | undefined; isPending: boolean }) =>
    enabled && query.isPending ? undefined : (query.data ?? null);
  return { previous: settled(previous), next: settled(next) };
}
