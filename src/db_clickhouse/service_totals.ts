// The service list in memory, for as long as no span was ever deleted: the summary's sums then only
// grow, and only by the spans this process writes through spans_ingest (the backend is the store's
// only writer, as the replay check assumes). A MergeTree read costs chdb 3–4 ms however small the
// table, and a ClickHouse server a round trip more, for a list every page of the UI asks for; this
// answers it from what the writer already knows, the way Jaeger's query service caches its
// service names (docs/scale-out.md, "Service list").
import type { SpanRow } from '../spans/rows.ts';
import type { ServiceSummary } from '../spans/span_store.ts';

export class ServiceTotals {
  /** Null until read from the summary, and again after a failed write or a deletion. */
  #byService: Map<string, ServiceSummary> | null = null;
  /** Bumped by every write to spans_ingest, before and after: a read across one is not kept. */
  #writes = 0;
  #writing = false;

  /** The list by service name, as the summary query orders it; null when it must be read. */
  list(): ServiceSummary[] | null {
    if (this.#byService === null) return null;
    return [...this.#byService.values()].map((service) => ({ ...service }));
  }

  /**
   * Reads the list with `read` and keeps it, unless a write to spans_ingest was under way at any
   * time during the read (its rows may or may not be in what was read).
   */
  async load(read: () => Promise<ServiceSummary[]>): Promise<ServiceSummary[]> {
    const before = this.#writes;
    const services = await read();
    if (!this.#writing && before === this.#writes) this.#byService = byName(services.map((s) => ({ ...s })));
    return services;
  }

  /** Around the insert into spans_ingest; a failure forgets the list (its rows may be in). */
  async write(spans: SpanRow[], insert: () => Promise<void>): Promise<void> {
    this.#writes++;
    this.#writing = true;
    try {
      await insert();
    } catch (error) {
      this.#byService = null;
      throw error;
    } finally {
      this.#writing = false;
      this.#writes++;
    }
    if (this.#byService !== null) this.#byService = added(this.#byService, spans);
  }

  /** Spans were deleted: the list is read from the summary and spans from now on. */
  forget(): void {
    this.#byService = null;
  }
}

/** The list with the spans counted as service_summary_mv counts them (schema.ts SERVICE_SUMMARY_SELECT). */
function added(byService: Map<string, ServiceSummary>, spans: SpanRow[]): Map<string, ServiceSummary> {
  let newService = false;
  for (const span of spans) {
    let service = byService.get(span.service_name);
    if (service === undefined) {
      service = {
        serviceName: span.service_name,
        spanCount: 0,
        traceCount: 0,
        lastSeenMicros: span.start_time,
      };
      byService.set(span.service_name, service);
      newService = true;
    }
    service.spanCount++;
    if (span.parent_span_id === null) service.traceCount++;
    if (span.start_time > service.lastSeenMicros) service.lastSeenMicros = span.start_time;
  }
  return newService ? byName([...byService.values()]) : byService;
}

/** In the summary query's order: by name, as ClickHouse orders strings (bytes, not UTF-16 units). */
function byName(services: ServiceSummary[]): Map<string, ServiceSummary> {
  const sorted = services.sort((a, b) =>
    Buffer.compare(Buffer.from(a.serviceName), Buffer.from(b.serviceName)),
  );
  return new Map(sorted.map((service) => [service.serviceName, service]));
}
