// The previous and next run of the workflow shown in the debugger (lib/run_neighbours.ts).
import { useQuery } from '@tanstack/react-query';
import { listWorkflowRuns, type Page } from '../api/endpoints.ts';
import type { Span } from '../api/types.ts';
import { nextRun, previousRun } from '../lib/run_neighbours.ts';

export interface NeighbourRuns {
  previous: Span | null;
  next: Span | null;
}

export function useNeighbourRuns(service: string, workflow: Span): NeighbourRuns {
  const fetchPage = (page: Page) => listWorkflowRuns(service, page);
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
  return { previous: previous.data ?? null, next: next.data ?? null };
}
