// Traces of a chosen size for the benchmarks that go through the real server (web.ts,
// wire_bytes.ts), sent the way an SDK sends them: a stock OTLP/gRPC exporter with an API key.
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import {
  type FixtureSpan,
  legacyWorkflowTrace,
  type TraceFixture,
  toExportRequest,
} from '../src/fixtures/junjo_traces.ts';
import { toReadableSpans } from '../test/support/otel_spans.ts';

/** A legacy workflow trace whose step nodes are tuned so that `count(trace) === target`. */
export function traceWith(
  target: number,
  count: (trace: TraceFixture) => number,
  seed: number,
  serviceName: string,
): TraceFixture {
  const build = (nodeCount: number) =>
    legacyWorkflowTrace({
      seed,
      serviceName,
      nodeCount,
      startTimeUnixNano: BigInt(Date.now() - 3_600_000 + seed * 1000) * 1_000_000n,
    });
  const fixed = count(build(0));
  return build(Math.max(0, target - fixed));
}

export const spanCount = (trace: TraceFixture) => trace.spans.length;
export const stateSteps = (trace: TraceFixture) =>
  trace.spans.reduce((sum, s) => sum + s.span.events.filter((e) => e.name === 'set_state').length, 0);

/** Exports the spans in batches of 512, as the SDK's batch processor would. */
export async function sendSpans(port: number, apiKey: string, fixtureSpans: FixtureSpan[]): Promise<void> {
  const metadata = new Metadata();
  metadata.set('x-junjo-api-key', apiKey);
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}`, metadata });
  const spans = toReadableSpans(toExportRequest(fixtureSpans));
  for (let i = 0; i < spans.length; i += 512) {
    const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
      exporter.export(spans.slice(i, i + 512), resolve),
    );
    if (result.code !== ExportResultCode.SUCCESS) throw new Error(`export failed: ${result.error?.message}`);
  }
  await exporter.shutdown();
}

/**
 * Makes every `every`-th span of the trace (the root excepted) an OpenInference LLM span with a
 * prompt of `bytes` in its attributes, as an LLM-heavy workflow would send; returns how many.
 */
export function addLargePrompts(trace: TraceFixture, every: number, bytes: number): number {
  const chosen = trace.spans.filter(({ span }, i) => i % every === every - 1 && span.parentSpanId.length > 0);
  for (const { span } of chosen) {
    span.attributes.push(
      { key: 'openinference.span.kind', value: { type: 'string', value: 'LLM' } },
      {
        key: 'input.value',
        value: { type: 'string', value: 'a long prompt '.repeat(Math.ceil(bytes / 14)) },
      },
    );
  }
  return chosen.length;
}

export function rootSpanId(trace: TraceFixture): string {
  const root = trace.spans.find((s) => s.span.parentSpanId.length === 0)!;
  return Buffer.from(root.span.spanId).toString('hex');
}
