// What was read last, for DuckDbSpanStore to read again after DuckDB's file is opened again.
import type { SpanList } from './span_queries.ts';

/** The last distinct keys added, up to a capacity. */
export class RecentKeys {
  readonly #capacity: number;
  // A Set keeps insertion order: deleting and adding again moves a key to the end.
  readonly #keys = new Set<string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(key: string): void {
    this.#keys.delete(key);
    this.#keys.add(key);
    if (this.#keys.size > this.#capacity) this.#keys.delete(this.#keys.values().next().value!);
  }

  /** Distinct, the most recent first. */
  newestFirst(): string[] {
    return [...this.#keys].reverse();
  }
}

/** A list page's first page, as the store remembers it: which list of which service. */
export interface ListOfService {
  list: SpanList;
  serviceName: string;
}

/** The traces and the lists (their first pages) read last. */
export class RecentReads {
  readonly traces: RecentKeys;
  readonly #lists: RecentKeys;

  constructor(capacity: { traces: number; lists: number }) {
    this.traces = new RecentKeys(capacity.traces);
    this.#lists = new RecentKeys(capacity.lists);
  }

  addList(list: SpanList, serviceName: string): void {
    this.#lists.add(`${list}:${serviceName}`);
  }

  /** Distinct, the most recent first. */
  listsNewestFirst(): ListOfService[] {
    return this.#lists.newestFirst().map((key) => {
      const colon = key.indexOf(':'); // list names have none; service names may
      return { list: key.slice(0, colon) as SpanList, serviceName: key.slice(colon + 1) };
    });
  }
}
