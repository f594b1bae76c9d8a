// zlib and brotli on one kept native context per use, started again between inputs instead of
// created for each.
//
// Why: Node's one-shot functions (`brotliCompressSync`, `gzipSync`, `deflateRawSync`, …) create a
// native context per call and report its memory to V8 until the garbage collector has found the
// dead stream object. At the rate pages are served that reported memory set off full collections
// of the main thread's heap: the 10M-span trace case made one every ~200 answers (33–47 ms each;
// identity answers made none), a 50-row list page inflated 50 contexts, and indexing deflated one
// per span. Creating the context was also most of a small input's cost. Node has no public one-shot API on a kept context, so
// this drives the stream's native handle as zlib's own sync functions do (`writeSync` until the
// input is used up) and starts it again with `reset` (zlib keeps its level and window) or `init`
// (brotli's reset would fall back to quality 11). Where those handle methods are missing (another
// Node), `keptContextsWork` is false and callers use the one-shot functions.
import zlib, { type BrotliOptions, type ZlibOptions } from 'node:zlib';

/** The handle methods zlib's sync functions use (node:zlib's internals, unchanged since Node 12). */
interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
  init(params: Uint32Array, writeState: Uint32Array, onWritten: () => void): void;
}
type StreamWithHandle = zlib.Inflate & { _handle?: NativeHandle; _writeState?: Uint32Array };

/** Bytes written by a context, in one buffer that grows by doubling. */
export class GrowingBytes {
  bytes: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(Math.max(1, capacity));
  }

  /** Room for at least `minimum` more bytes. */
  makeRoom(minimum: number): void {
    if (this.bytes.length - this.length >= minimum) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.length + minimum));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}

/** Where `oneShot` writes before copying out: small outputs then come from Buffer's pool. */
const SCRATCH_BYTES = 64 * 1024;

/** Smallest room offered to a write: a context may need a few bytes at once (a block's header). */
const MIN_ROOM = 1024;

export class KeptZlibContext {
  private stream: StreamWithHandle | undefined;
  private scratch: GrowingBytes | undefined; // oneShot's, made on its first use
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

  /** Runs the whole of `input` through as one stream, appending what comes out to `output`. */
  writeThrough(input: Uint8Array, output: GrowingBytes): void {
    const stream = this.openStream();
    const handle = stream._handle as NativeHandle;
    const writeState = stream._writeState as Uint32Array;
    let inputOffset = 0;
    let inputLeft = input.byteLength;
    try {
      for (;;) {
        output.makeRoom(MIN_ROOM);
        const room = output.bytes.length - output.length;
        handle.writeSync(this.finishFlag, input, inputOffset, inputLeft, output.bytes, output.length, room);
        // A failed write destroys the stream there and then (its 'error' event comes later).
        if (stream.errored) throw stream.errored;
        const roomLeft = writeState[0] as number;
        const inputLeftAfter = writeState[1] as number;
        output.length += room - roomLeft;
        if (roomLeft !== 0) break; // the input is used up and the stream's end is written
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
  }

  /** `input` through as one stream, returned in a buffer of its own sized to what came out. */
  oneShot(input: Uint8Array): Buffer {
    const scratch = this.scratch ?? new GrowingBytes(SCRATCH_BYTES);
    scratch.length = 0;
    this.writeThrough(input, scratch);
    // Kept for the next input, unless it grew for a large one.
    this.scratch = scratch.bytes.length > SCRATCH_BYTES ? undefined : scratch;
    return Buffer.from(scratch.bytes.subarray(0, scratch.length));
  }

  private openStream(): StreamWithHandle {
    if (this.stream) return this.stream;
    const stream = this.open();
    // Thrown from writeThrough() already; the event must not go unheard.
    stream.on('error', () => {});
    this.stream = stream;
    return stream;
  }
}

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

/** Whether this Node's zlib streams have the handle methods a kept context drives. */
export const keptContextsWork =
  handleIsUsable(zlib.createInflateRaw() as StreamWithHandle) &&
  handleIsUsable(zlib.createBrotliCompress() as unknown as StreamWithHandle);

/** Brotli's init takes its parameters as an array indexed by parameter id, -1 where unset. */
function brotliParamArray(params: BrotliOptions['params']): Uint32Array {
  const ids = Object.entries(zlib.constants)
    .filter(([name]) => name.startsWith('BROTLI_PARAM_'))
    .map(([, id]) => id);
  const array = new Uint32Array(Math.max(...ids) + 1).fill(0xffffffff);
  for (const [id, value] of Object.entries(params ?? {})) array[Number(id)] = Number(value);
  return array;
}

export function keptBrotliCompress(options: BrotliOptions): KeptZlibContext {
  const params = brotliParamArray(options.params);
  return new KeptZlibContext(
    () => zlib.createBrotliCompress(options) as unknown as StreamWithHandle,
    zlib.constants.BROTLI_OPERATION_FINISH,
    (handle, writeState) => handle.init(params, writeState, () => {}),
  );
}

/** A zlib-format context (gzip, raw deflate or inflate): finished with Z_FINISH, restarted by reset. */
function keptZlibStream(open: () => zlib.Gzip | zlib.DeflateRaw | zlib.InflateRaw): KeptZlibContext {
  return new KeptZlibContext(
    () => open() as unknown as StreamWithHandle,
    zlib.constants.Z_FINISH,
    (handle) => handle.reset(),
  );
}

export const keptGzip = (options: ZlibOptions) => keptZlibStream(() => zlib.createGzip(options));
export const keptDeflateRaw = (options: ZlibOptions = {}) =>
  keptZlibStream(() => zlib.createDeflateRaw(options));
export const keptInflateRaw = () => keptZlibStream(() => zlib.createInflateRaw());
