// The top bar's word on indexing: nothing while the pollers keep up; "Indexing 3 min behind" or
// "Indexing paused" (the reason in its title) when the newest traces cannot be listed yet.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { healthDetails } from '../api/endpoints.ts';
import { describeIndexing, indexingStatus } from '../lib/indexing_status.ts';

// A lag of seconds is not news; a quarter minute between looks is soon enough for one of minutes.
const REFRESH_MS = 15_000;
// The first look waits until the page has loaded: asked at once, it would be answered beside the
// page's own data (a trace of thousands of spans) on a two-core server.
const FIRST_LOOK_MS = 5_000;

export function IndexingStatus() {
  const [due, setDue] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setDue(true), FIRST_LOOK_MS);
    return () => clearTimeout(timer);
  }, []);
  const health = useQuery({
    queryKey: ['health-details'],
    queryFn: healthDetails,
    refetchInterval: REFRESH_MS,
    enabled: due,
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
