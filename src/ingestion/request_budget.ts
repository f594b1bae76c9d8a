// Caps the export bytes held in memory at once across every request of both OTLP receivers,
// counted after decompression as they arrive. Without it a few dozen 64 KB gzip bodies, each
// inflating to the 64 MiB request limit, add up to gigabytes however small each one looks.

/** One request's part of the budget. */
export interface BudgetShare {
  /** Counts `bytes` more for this request; false, counting nothing, when the budget has no room. */
  add(bytes: number): boolean;
  /**
   * Gives back everything this request held and closes the share: a body still streaming in after
   * its answer (a gzip bomb past the size limit) must not take budget nobody will give back.
   */
  release(): void;
}

export class RequestBytesBudget {
  readonly limitBytes: number;
  #inUse = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  get inUseBytes(): number {
    return this.#inUse;
  }

  /** False once every byte of the budget is held (a new request could not add anything). */
  hasRoom(): boolean {
    return this.#inUse < this.limitBytes;
  }

  share(): BudgetShare {
    let held = 0;
    let released = false;
    return {
      add: (bytes) => {
        if (released || this.#inUse + bytes > this.limitBytes) return false;
        this.#inUse += bytes;
        held += bytes;
        return true;
      },
      release: () => {
        this.#inUse -= held;
        held = 0;
        released = true;
      },
    };
  }
}
