// Main-thread handle of the ingestion worker: starts it, and is the poller's WAL source.
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Config } from '../../config.ts';
import type { IngestionFacts } from '../ingestion_service.ts';
import type { ReadLimits, SourceRecord, WalSource } from '../wal_source.ts';
import type { WorkerInit, WorkerMessage, WorkerRequest } from './protocol.ts';

const YOUNG_GENERATION_MB = 16;
const WORKER_SCRIPT = new URL('./ingestion_worker.ts', import.meta.url);

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type RequestBody = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class IngestionThread implements WalSource {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<() => void>();
  #nextId = 1;
  #exited = false;
  #closing = false;
  #reportFailure: (error: Error) => void = () => undefined;
  /**
   * Settles when the worker dies after it started (an uncaught error, an exit nobody asked for):
   * the receivers are gone with it, so the process must not go on looking healthy.
   */
  readonly failed = new Promise<Error>((resolve) => {
    this.#reportFailure = resolve;
  });

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /**
   * Starts the worker; resolves once its listeners are bound (rejects with the worker's error).
   * `script` is the worker's entry point; tests give one that fails on purpose.
   */
  static async start(config: Config, script: URL = WORKER_SCRIPT): Promise<IngestionThread> {
    // The launcher's --max-semi-space-size (sized for the main thread) would also decide this
    // isolate's young generation, over resourceLimits: unset it for isolates created from now on
    // (the main one keeps its own). With the main thread's 2 MB the ingestion thread spent about as
    // long collecting as decoding, and acknowledged ~35% fewer spans per second.
    v8.setFlagsFromString('--max-semi-space-size=0');
    const worker = new Worker(script, {
      workerData: { config } satisfies WorkerInit,
      // Every export is garbage a moment after it is acknowledged: a small young generation
      // collects it as often, where V8's default let the thread's heap reach ~200 MB under load.
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const thread = new IngestionThread(worker);
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'failed')
          reject(new Error(`ingestion failed to start: ${message.message}`));
        else thread.#onMessage(message);
      });
      // Not logged here: start-up failures and later ones are each logged once, by main.ts.
      worker.once('error', (error) => {
        reject(error);
        thread.#reportFailure(new Error(`ingestion worker crashed: ${error.message}`, { cause: error }));
      });
      worker.once('exit', (code) => {
        thread.#exited = true;
        const exited = new Error(`ingestion worker exited (${code})`);
        for (const pending of thread.#pending.values()) pending.reject(exited);
        thread.#pending.clear();
        reject(exited);
        if (!thread.#closing) thread.#reportFailure(exited);
      });
    });
    return thread;
  }

  /** The worker's WAL records after `afterKey`, their payloads moved to this thread. */
  async read(afterKey: bigint | null, limits: ReadLimits): Promise<SourceRecord[]> {
    return (await this.#request({ op: 'read', afterKey, limits })) as SourceRecord[];
  }

  async release(key: bigint): Promise<void> {
    await this.#request({ op: 'release', key });
  }

  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async facts(): Promise<IngestionFacts & Record<string, unknown>> {
    return (await this.#request({ op: 'facts' })) as IngestionFacts & Record<string, unknown>;
  }

  /** Stops the receivers (in-flight exports finish) and closes the WAL, then ends the thread. */
  async close(): Promise<void> {
    if (this.#exited) return;
    this.#closing = true;
    await this.#request({ op: 'close' });
    await this.#worker.terminate();
  }

  #request(body: RequestBody): Promise<unknown> {
    if (this.#exited) return Promise.reject(new Error('ingestion worker is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...body, id } as WorkerRequest);
    });
  }

  #onMessage(message: WorkerMessage): void {
    if (message.type === 'appended') {
      for (const listener of this.#listeners) listener();
      return;
    }
    if (message.type !== 'reply') return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new Error(message.message));
  }
}
