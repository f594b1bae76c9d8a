// Export requests of realistic Junjo traces (the workflow mix: legacy, contract 2, agents, with
// set_state patches) where every request is unique: each one is a pre-encoded template whose trace
// ids are swapped for fresh random ones. Generating and encoding fixtures costs ~0.2 ms per span,
// far too slow for load loops; swapping ids in the encoded bytes costs almost nothing. Each request
// lists the (trace_id, span_id) keys and patch ids the server must store for it.
import { randomBytes } from 'node:crypto';
import { toExportRequest, workflowMixTraces } from '../../src/fixtures/junjo_traces.ts';
import type { FixtureSpan } from '../../src/fixtures/trace_builder.ts';
import { encodeTraceRequestJson, encodeTraceRequestProtobuf } from '../../src/otlp/encode.ts';
import { processTraceRequest } from '../../src/spans/span_processor.ts';

export type RequestFormat = 'protobuf' | 'json';

export interface UniqueRequest {
  format: RequestFormat;
  body: Buffer;
  /** `<trace_id hex>:<span_id hex>` of every span in the request. */
  spans: string[];
  /** patch_id of every set_state event in the request. */
  patches: string[];
}

interface Template {
  protobuf: Buffer;
  json: Buffer;
  traceIds: string[];
  spans: string[];
  patches: string[];
}

const templateCache = new Map<string, Template[]>();

/**
 * Templates of `minSpans`–`maxSpans` spans each, cut from one workflow mix. Cached per process: the
 * uniqueness comes from the id swap, not from the templates.
 */
function templates(count: number, minSpans: number, maxSpans: number): Template[] {
  const cacheKey = `${count}/${minSpans}/${maxSpans}`;
  const cached = templateCache.get(cacheKey);
  if (cached) return cached;
  const built: Template[] = [];
  let size = minSpans;
  let chunk: FixtureSpan[] = [];
  for (const trace of workflowMixTraces({ traces: count * maxSpans, seed: 7 })) {
    chunk.push(...trace.spans);
    if (chunk.length < size) continue;
    built.push(template(chunk.slice(0, size)));
    if (built.length === count) break;
    chunk = [];
    size = minSpans + ((built.length * 37) % (maxSpans - minSpans + 1));
  }
  templateCache.set(cacheKey, built);
  return built;
}

function template(spans: FixtureSpan[]): Template {
  const request = toExportRequest(spans);
  const processed = processTraceRequest(request);
  if (processed.rejected.count > 0) throw new Error(`fixture spans rejected: ${processed.rejected.errors}`);
  const patches = processed.patches.map((patch) => patch.patch_id);
  for (const patch of processed.patches) {
    // Every fixture set_state event carries an id, so its patch id starts with the trace id.
    if (!patch.patch_id.startsWith(`${patch.trace_id}:`)) throw new Error(`unexpected ${patch.patch_id}`);
  }
  return {
    protobuf: Buffer.from(encodeTraceRequestProtobuf(request)),
    json: Buffer.from(encodeTraceRequestJson(request)),
    traceIds: [...new Set(processed.spans.map((span) => span.trace_id))],
    spans: processed.spans.map((span) => `${span.trace_id}:${span.span_id}`),
    patches,
  };
}

function replaceAll(buffer: Buffer, from: Buffer, to: Buffer): void {
  for (let at = buffer.indexOf(from); at >= 0; at = buffer.indexOf(from, at + from.length)) {
    to.copy(buffer, at);
  }
}

const swapTrace = (key: string, ids: Map<string, string>): string => {
  const traceId = key.slice(0, 32);
  return `${ids.get(traceId) ?? traceId}${key.slice(32)}`;
};

export class UniqueRequests {
  readonly #templates: Template[];
  #next = 0;

  constructor(options: { templates?: number; minSpans?: number; maxSpans?: number } = {}) {
    this.#templates = templates(options.templates ?? 24, options.minSpans ?? 50, options.maxSpans ?? 200);
  }

  next(format: RequestFormat): UniqueRequest {
    const base = this.#templates[this.#next++ % this.#templates.length]!;
    const body = Buffer.from(format === 'json' ? base.json : base.protobuf);
    const ids = new Map<string, string>();
    for (const traceId of base.traceIds) {
      const fresh = randomBytes(16);
      ids.set(traceId, fresh.toString('hex'));
      if (format === 'json') replaceAll(body, Buffer.from(traceId), Buffer.from(fresh.toString('hex')));
      else replaceAll(body, Buffer.from(traceId, 'hex'), fresh);
    }
    return {
      format,
      body,
      spans: base.spans.map((key) => swapTrace(key, ids)),
      patches: base.patches.map((id) => swapTrace(id, ids)),
    };
  }
}
