// The top bar's word on indexing: nothing while the pollers keep up; "Indexing 3 min behind" or
// "Indexing paused" (the reason in its title) when the newest traces cannot be listed yet.
import { useQuery } from '@tanstack/react-query';
import { healthDetails } from '../api/endpoints.ts';
import { describeIndexing, indexingStatus } from '../lib/indexing_status.ts';

// A lag of seconds is not news; a quarter minute between looks is soon enough for one of minutes.
const REFRESH_MS = 15_000;

export function IndexingStatus() {
  const health = useQuery({
    queryKey: ['health-details'],
    queryFn: healthDetails,
    refetchInterval: REFRESH_MS,
  });
  const status = health.data ? indexingStatus(health.data.pollers ?? []) : null;
  if (!status) return null;
  const { label, detail } = describeIndexing(status);
  return (
    <span
      className={`badge indexing-status ${status.kind}`}
      role="status"
      title={detail}
      aria-label={`${label}. ${detail}`}
    >
      {label}
    </span>
  );
}
