// Decides when exports must be refused as retryable: too much data accepted but not yet indexed,
// or too little free disk to stay durable. The check is synchronous and cheap (disk space is
// sampled in the background), because it runs on every export.
import { statfs } from 'node:fs/promises';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface BackpressureOptions {
  /** Bytes accepted into the WAL that the poller has not committed yet. */
  backlogBytes: () => number;
  maxBacklogBytes: number;
  /** Directory whose filesystem holds the WAL. */
  walDir: string;
  minFreeDiskBytes: number;
  logger: Logger;
  diskSampleMs?: number;
}

export class Backpressure {
  readonly #options: BackpressureOptions;
  #freeDiskBytes = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: BackpressureOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.#sampleDisk();
    this.#timer = setInterval(() => void this.#sampleDisk(), this.#options.diskSampleMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** An error to answer with when saturated, else null. */
  check(): AppError | null {
    const backlog = this.#options.backlogBytes();
    if (backlog > this.#options.maxBacklogBytes) {
      return new AppError(
        `Ingestion backlog is full (${backlog} bytes waiting to be indexed); retry later`,
        'too_many',
        2,
      );
    }
    if (this.#freeDiskBytes < this.#options.minFreeDiskBytes) {
      return new AppError(
        `Server disk is nearly full (${this.#freeDiskBytes} bytes free); retry later`,
        'unavailable',
        30,
      );
    }
    return null;
  }

  facts(): { backlog_bytes: number; free_disk_bytes: number } {
    return { backlog_bytes: this.#options.backlogBytes(), free_disk_bytes: this.#freeDiskBytes };
  }

  async #sampleDisk(): Promise<void> {
    try {
      const stats = await statfs(this.#options.walDir);
      this.#freeDiskBytes = stats.bavail * stats.bsize;
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'could not read free disk space');
    }
  }
}
