// One native brotli and one gzip context for every buffered API answer, started again between
// answers instead of created for each.
//
// Why: `zlib.brotliCompressSync` and `zlib.gzipSync` create a native context per call and report
// its memory to V8 until the garbage collector has found the dead stream object; at the rate a
// page asks for traces that reported memory set off full collections of the main thread's heap
// (the 10M-span trace case: one every ~200 answers, 33–47 ms each; identity answers made none),
// and creating the context was most of a small answer's cost. Node has no public one-shot API on
// a kept context, so this drives the stream's native handle as zlib's own sync functions do
// (`writeSync` until the input is used up) and starts it again with `reset` (gzip keeps its
// level) or `init` (brotli's reset would fall back to quality 11). Where those handle methods
// are missing (another Node), it says so once in `reusesContexts` and uses the per-call functions.
import zlib, { type BrotliOptions, type ZlibOptions } from 'node:zlib';

/** The handle methods zlib's sync functions use (node:zlib's internals, stable since Node 12). */
interface NativeHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inputOffset: number,
    inputLength: number,
    output: Buffer,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
  init(params: Uint32Array, writeState: Uint32Array, onWritten: () => void): void;
}
type StreamWithHandle = zlib.BrotliCompress & { _handle?: NativeHandle; _writeState?: Uint32Array };

/** Output is written here and copied out: small answers then come from Buffer's pool. */
const SCRATCH_BYTES = 64 * 1024;

class ReusedContext {
  private stream: StreamWithHandle | undefined;
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  private readonly open: () => StreamWithHandle;
  private readonly finishFlag: number;
  private readonly restart: (handle: NativeHandle, writeState: Uint32Array) => void;

  constructor(
    open: () => StreamWithHandle,
    finishFlag: number,
    restart: (handle: NativeHandle, writeState: Uint32Array) => void,
  ) {
    this.open = open;
    this.finishFlag = finishFlag;
    this.restart = restart;
  }

  compress(input: Buffer): Buffer {
    const stream = this.openStream();
    const handle = stream._handle as NativeHandle;
    const writeState = stream._writeState as Uint32Array;
    const parts: Buffer[] = [];
    let inputOffset = 0;
    let inputLeft = input.byteLength;
    try {
      for (;;) {
        handle.writeSync(this.finishFlag, input, inputOffset, inputLeft, this.scratch, 0, SCRATCH_BYTES);
        // A failed write destroys the stream there and then (its 'error' event comes later).
        if (stream.errored) throw stream.errored;
        const outputLeft = writeState[0] as number;
        const inputLeftAfter = writeState[1] as number;
        parts.push(Buffer.from(this.scratch.subarray(0, SCRATCH_BYTES - outputLeft)));
        if (outputLeft !== 0) break; // all of the input is in, and the stream's end is written
        inputOffset += inputLeft - inputLeftAfter;
        inputLeft = inputLeftAfter;
      }
      this.restart(handle, writeState);
    } catch (error) {
      // A context in an unknown state is not used again.
      this.stream = undefined;
      stream.destroy();
      throw error;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  private openStream(): StreamWithHandle {
    if (this.stream) return this.stream;
    const stream = this.open();
    // Thrown from compress() already; the event must not go unheard.
    stream.on('error', () => {});
    this.stream = stream;
    return stream;
  }
}

/** Whether this Node's zlib streams have the handle methods the kept contexts drive. */
function handleIsUsable(stream: StreamWithHandle): boolean {
  const handle = stream._handle;
  const usable =
    typeof handle?.writeSync === 'function' &&
    typeof handle.reset === 'function' &&
    typeof handle.init === 'function' &&
    stream._writeState instanceof Uint32Array;
  stream.destroy();
  return usable;
}

/** Brotli's init takes its parameters as an array indexed by parameter id, -1 where unset. */
function brotliParamArray(params: BrotliOptions['params']): Uint32Array {
  const ids = Object.entries(zlib.constants)
    .filter(([name]) => name.startsWith('BROTLI_PARAM_'))
    .map(([, id]) => id);
  const array = new Uint32Array(Math.max(...ids) + 1).fill(0xffffffff);
  for (const [id, value] of Object.entries(params ?? {})) array[Number(id)] = Number(value);
  return array;
}

export interface ReusedCompressors {
  brotliCompressSync(input: Buffer): Buffer;
  gzipSync(input: Buffer): Buffer;
  /** False where this Node lacks the handle methods: the per-call functions are used instead. */
  reusesContexts: boolean;
}

/** Sync compressors for @fastify/compress's `zlib` option (its streams stay Node's own). */
export function reusedCompressors(brotliOptions: BrotliOptions, gzipOptions: ZlibOptions): ReusedCompressors {
  const openBrotli = () => zlib.createBrotliCompress(brotliOptions) as StreamWithHandle;
  const openGzip = () => zlib.createGzip(gzipOptions) as unknown as StreamWithHandle;
  if (!handleIsUsable(openBrotli()) || !handleIsUsable(openGzip())) {
    return {
      brotliCompressSync: (input) => zlib.brotliCompressSync(input, brotliOptions),
      gzipSync: (input) => zlib.gzipSync(input, gzipOptions),
      reusesContexts: false,
    };
  }
  const brotliParams = brotliParamArray(brotliOptions.params);
  const brotli = new ReusedContext(openBrotli, zlib.constants.BROTLI_OPERATION_FINISH, (handle, writeState) =>
    handle.init(brotliParams, writeState, () => {}),
  );
  const gzip = new ReusedContext(openGzip, zlib.constants.Z_FINISH, (handle) => handle.reset());
  return {
    brotliCompressSync: (input) => brotli.compress(input),
    gzipSync: (input) => gzip.compress(input),
    reusesContexts: true,
  };
}
