// The trace ids read last, for DuckDbSpanStore to read again after DuckDB's file is opened again.

export class RecentTraces {
  readonly #capacity: number;
  // A Set keeps insertion order: deleting and adding again moves an id to the end.
  readonly #ids = new Set<string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(traceId: string): void {
    this.#ids.delete(traceId);
    this.#ids.add(traceId);
    if (this.#ids.size > this.#capacity) this.#ids.delete(this.#ids.values().next().value!);
  }

  /** Distinct, the most recent first. */
  newestFirst(): string[] {
    return [...this.#ids].reverse();
  }
}
