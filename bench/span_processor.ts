// Ingestion hot path throughput: OTLP protobuf decode alone, the receivers' verdict on the wire
// (what acknowledging an export costs) beside decode + check, and decode + span processor (rows and
// state patches), over a realistic Junjo workflow mix packed the way the SDK's BatchSpanProcessor
// sends it (512 spans per request). OTLP/JSON decode + process for comparison.
// Run alone: node_modules/.bin/node bench/span_processor.ts [spans]

import { packRequests, workflowMix } from '../src/fixtures/junjo_traces.ts';
import { decodeTraceRequestJson } from '../src/otlp/decode_json.ts';
import { decodeTraceRequestProtobuf } from '../src/otlp/decode_protobuf.ts';
import { encodeTraceRequestJson, encodeTraceRequestProtobuf } from '../src/otlp/encode.ts';
import { checkTraceRequest, processTraceRequest } from '../src/spans/span_processor.ts';
import { acceptedOnWire } from '../src/spans/wire_verdict.ts';

const SPANS_PER_REQUEST = 512;
/** Each measurement repeats over all requests until it has run this long. */
const MIN_MEASURE_MS = 1500;

export async function benchSpanProcessor(targetSpans = 20_000): Promise<Record<string, number>> {
  // The mix averages ~10 spans per trace.
  const spans = workflowMix({ traces: Math.ceil(targetSpans / 10), services: 4, seed: 1 });
  const requests = packRequests(spans, SPANS_PER_REQUEST);
  const protobufBodies = requests.map((req) => Buffer.from(encodeTraceRequestProtobuf(req)));
  const jsonBodies = requests.map((req) => Buffer.from(encodeTraceRequestJson(req)));
  const protobufBytes = protobufBodies.reduce((n, b) => n + b.length, 0);

  let rows = 0;
  const decodeOnly = measure(() => {
    for (const body of protobufBodies) decodeTraceRequestProtobuf(body);
  });
  let judged = 0;
  const wireVerdict = measure(() => {
    for (const body of protobufBodies) judged += acceptedOnWire(body) ?? 0;
  });
  const decodeCheck = measure(() => {
    for (const body of protobufBodies) checkTraceRequest(decodeTraceRequestProtobuf(body));
  });
  if (judged === 0) throw new Error('the wire verdict judged no span');
  const decodeProcess = measure(() => {
    for (const body of protobufBodies)
      rows += processTraceRequest(decodeTraceRequestProtobuf(body)).spans.length;
  });
  const jsonDecodeProcess = measure(() => {
    for (const body of jsonBodies) rows += processTraceRequest(decodeTraceRequestJson(body)).spans.length;
  });
  if (rows === 0) throw new Error('the processor produced no rows');

  const perSec = (msPerRound: number) => Math.round((spans.length / msPerRound) * 1000);
  const msPerRequest = (msPerRound: number) => Number((msPerRound / requests.length).toFixed(2));
  const result = {
    spans: spans.length,
    requests: requests.length,
    protobufBytesPerSpan: Math.round(protobufBytes / spans.length),
    decodeSpansPerSec: perSec(decodeOnly.wallMs),
    decodeSpansPerCpuSec: perSec(decodeOnly.cpuMs),
    decodeMBPerCpuSec: Math.round(protobufBytes / 1e6 / (decodeOnly.cpuMs / 1000)),
    decodeCpuMsPer512SpanRequest: msPerRequest(decodeOnly.cpuMs),
    wireVerdictSpansPerSec: perSec(wireVerdict.wallMs),
    wireVerdictSpansPerCpuSec: perSec(wireVerdict.cpuMs),
    decodeCheckSpansPerSec: perSec(decodeCheck.wallMs),
    decodeCheckSpansPerCpuSec: perSec(decodeCheck.cpuMs),
    wireVerdictSpeedup: Number((decodeCheck.cpuMs / wireVerdict.cpuMs).toFixed(2)),
    decodeProcessSpansPerSec: perSec(decodeProcess.wallMs),
    decodeProcessSpansPerCpuSec: perSec(decodeProcess.cpuMs),
    decodeProcessCpuMsPer512SpanRequest: msPerRequest(decodeProcess.cpuMs),
    jsonDecodeProcessSpansPerSec: perSec(jsonDecodeProcess.wallMs),
    jsonDecodeProcessSpansPerCpuSec: perSec(jsonDecodeProcess.cpuMs),
  };
  console.log(
    `Span processor, ${result.spans} spans in ${result.requests} requests of ≤${SPANS_PER_REQUEST} ` +
      `(${result.protobufBytesPerSpan} protobuf bytes/span); wall-clock and per CPU-second:\n` +
      `  protobuf decode:            ${result.decodeSpansPerSec} spans/s, ${result.decodeSpansPerCpuSec} per CPU-s ` +
      `(${result.decodeMBPerCpuSec} MB per CPU-s, ${result.decodeCpuMsPer512SpanRequest} CPU-ms per request)\n` +
      `  verdict on the wire:        ${result.wireVerdictSpansPerSec} spans/s, ${result.wireVerdictSpansPerCpuSec} per CPU-s ` +
      `(${result.wireVerdictSpeedup}× decode + check: ${result.decodeCheckSpansPerCpuSec} per CPU-s)\n` +
      `  protobuf decode + process:  ${result.decodeProcessSpansPerSec} spans/s, ` +
      `${result.decodeProcessSpansPerCpuSec} per CPU-s (${result.decodeProcessCpuMsPer512SpanRequest} CPU-ms per request)\n` +
      `  OTLP/JSON decode + process: ${result.jsonDecodeProcessSpansPerSec} spans/s, ` +
      `${result.jsonDecodeProcessSpansPerCpuSec} per CPU-s`,
  );
  return result;
}

/**
 * Wall-clock and CPU milliseconds per call of `round`, after one warm-up call. CPU time is the
 * steadier figure on a shared machine (it includes the GC helper threads, so it is pessimistic).
 */
function measure(round: () => void): { wallMs: number; cpuMs: number } {
  round();
  let rounds = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < MIN_MEASURE_MS) {
    round();
    rounds += 1;
  }
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { wallMs: wallMs / rounds, cpuMs: (cpu.user + cpu.system) / 1000 / rounds };
}

if (import.meta.main) {
  console.table(await benchSpanProcessor(Number(process.argv[2] ?? 20_000)));
}
