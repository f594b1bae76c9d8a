// What was read last, for DuckDbSpanStore to read again after DuckDB's file is opened again.
import type { SpanList } from './span_queries.ts';

/** The last distinct items added (distinct by key), up to a capacity. */
export class Recent<T> {
  readonly #capacity: number;
  // A Map keeps insertion order: deleting and setting again moves an item to the end.
  readonly #items = new Map<string, T>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(key: string, item: T): void {
    this.#items.delete(key);
    this.#items.set(key, item);
    if (this.#items.size > this.#capacity) this.#items.delete(this.#items.keys().next().value!);
  }

  /** Distinct, the most recent first. */
  newestFirst(): T[] {
    return [...this.#items.values()].reverse();
  }
}

/** A list page's first page, as the store remembers it: which list of which service. */
export interface ListOfService {
  list: SpanList;
  serviceName: string;
}

/** The traces and the lists (their first pages) read last. */
export class RecentReads {
  readonly #traces: Recent<string>;
  readonly #lists: Recent<ListOfService>;

  constructor(capacity: { traces: number; lists: number }) {
    this.#traces = new Recent(capacity.traces);
    this.#lists = new Recent(capacity.lists);
  }

  addTrace(traceId: string): void {
    this.#traces.add(traceId, traceId);
  }

  addList(list: SpanList, serviceName: string): void {
    this.#lists.add(JSON.stringify([list, serviceName]), { list, serviceName });
  }

  /** Distinct, the most recent first. */
  tracesNewestFirst(): string[] {
    return this.#traces.newestFirst();
  }

  /** Distinct, the most recent first. */
  listsNewestFirst(): ListOfService[] {
    return this.#lists.newestFirst();
  }
}
