// The server's counters from GET /health/details, which needs a session: signs in once per server and
// user (creating the first user over loopback when there is none) and reuses that session.
import type { StoreUpkeep } from '../../src/spans/span_store.ts';
import { type Session, signIn } from './accounts.ts';

export interface Health {
  status: string;
  role: string;
  process: {
    rss_bytes: number;
    heap_used_bytes: number;
    heap_total_bytes: number;
    external_bytes: number;
    array_buffers_bytes: number;
  };
  /** The ingestion thread's own heap and buffers (one process; absent on a split backend). */
  worker_heap_used_bytes?: number;
  worker_heap_total_bytes?: number;
  worker_array_buffers_bytes?: number;
  span_store?: {
    spans: number;
    bytes: number;
    memory_bytes: number;
    memory_limit: string;
    upkeep: StoreUpkeep | null;
  };
  /** The counters of every poller, summed. */
  poller?: { spans_indexed: number; patches_indexed: number; dead_lettered: number; records: number };
  /** One entry per poller: `local` in one process, one per ingestion node on a split backend. */
  pollers?: PollerHealth[];
  ingestion?: {
    accepted_requests: number;
    refused_unauthenticated: number;
    refused_invalid: number;
    refused_backpressure: number;
    refused_busy: number;
    refused_too_large: number;
    refused_write_failed: number;
    backlog_bytes: number;
    inflight_request_bytes: number;
    thread_cpu_ms: number;
    decode_validate_cpu_ms: number;
  };
}

export interface PollerHealth {
  node: string;
  node_id: string | null;
  spans_indexed: number;
  records: number;
  failures: number;
  last_key: string | null;
  lag_seconds: number | null;
  consecutive_failures: number;
  last_error: string | null;
}

export interface Credentials {
  email: string;
  password: string;
}

const sessions = new Map<string, Promise<Session>>();

/** `as` must be the first user or an existing one (the tests' default admin unless given). */
export async function health(baseUrl: string, as?: Credentials): Promise<Health> {
  const key = `${baseUrl} ${as?.email ?? ''}`;
  for (let attempt = 1; ; attempt++) {
    let session = sessions.get(key);
    if (!session) {
      session = signIn(baseUrl, as?.email, as?.password);
      sessions.set(key, session);
    }
    const response = await (await session).request('GET', '/health/details');
    // A new server on a port used before knows nothing of the old session: sign in again, once.
    if (response.status === 401 && attempt === 1) {
      sessions.delete(key);
      continue;
    }
    if (!response.ok) throw new Error(`GET /health/details: ${response.status} ${await response.text()}`);
    return (await response.json()) as Health;
  }
}
