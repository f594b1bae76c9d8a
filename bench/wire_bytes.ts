// Bytes on the wire of the span API (issue 13): a root-span list page of 500 and of 50 rows, and a
// 10,000-span trace, each as identity, gzip and br (whichever the client's Accept-Encoding picks),
// the trace both whole (nested_spans) and compact; plus a 500-span trace with a 100 KB prompt on
// every tenth span, whole and compact. The real server; bodies read as raw bytes over HTTP.
//
//   node bench/wire_bytes.ts
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { legacyWorkflowTrace } from '../src/fixtures/junjo_traces.ts';
import { createApiKey, signIn } from '../test/support/accounts.ts';
import { startServerProcess } from '../test/support/server_process.ts';
import { indexedSpans, waitFor } from '../test/support/wait.ts';
import { addLargePrompts, sendSpans, spanCount, traceWith } from './bench_traces.ts';

const SERVICE = 'bench-wire';
const USER = { email: 'wire@example.com', password: 'correct horse battery staple' };
const ENCODINGS = ['identity', 'gzip', 'br'] as const;

/** Bytes of the response body as sent, and its content-encoding. */
function wireBytes(
  url: string,
  cookie: string,
  acceptEncoding: string,
): Promise<{ bytes: number; encoding: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { cookie, 'accept-encoding': acceptEncoding } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`${url}: ${response.statusCode}`));
        else resolve({ bytes, encoding: String(response.headers['content-encoding'] ?? 'identity') });
      });
    })
      .on('error', reject)
      .end();
  });
}

export async function benchWireBytes(): Promise<Record<string, number>> {
  const server = await startServerProcess();
  try {
    const session = await signIn(server.baseUrl, USER.email, USER.password);
    const apiKey = (await createApiKey(session)).key;
    // 520 small workflow runs (a list page of 500 is full), one 10,000-span trace, and a 500-span
    // trace with a 100 KB prompt on every tenth span.
    const runs = Array.from({ length: 520 }, (_, i) =>
      legacyWorkflowTrace({
        seed: 1000 + i,
        serviceName: SERVICE,
        startTimeUnixNano: BigInt(Date.now() - 7_200_000 + i * 1000) * 1_000_000n,
      }),
    );
    const big = traceWith(10_000, spanCount, 71, 'bench-wire-big');
    const prompted = traceWith(500, spanCount, 72, 'bench-wire-prompts');
    const promptCount = addLargePrompts(prompted, 10, 100_000);
    const all = [...runs, big, prompted];
    await sendSpans(
      server.ports.otlpGrpc,
      apiKey,
      all.flatMap((trace) => trace.spans),
    );
    const total = all.reduce((sum, trace) => sum + trace.spans.length, 0);
    await waitFor(async () => (await indexedSpans(server.baseUrl, USER)) >= total, 'spans indexed', 180_000);

    const targets: Record<string, string> = {
      'list page, 500 rows': `/otel/service/${SERVICE}/root_spans?limit=500`,
      'list page, 50 rows': `/otel/service/${SERVICE}/root_spans?limit=50`,
      [`trace of ${big.spans.length} spans, full`]: `/otel/trace/${big.traceId}/nested_spans`,
      [`trace of ${big.spans.length} spans, compact`]: `/otel/trace/${big.traceId}/compact`,
      [`trace of ${prompted.spans.length} spans, ${promptCount} × 100 KB prompts, full`]: `/otel/trace/${prompted.traceId}/nested_spans`,
      [`trace of ${prompted.spans.length} spans, ${promptCount} × 100 KB prompts, compact`]: `/otel/trace/${prompted.traceId}/compact`,
    };
    const results: Record<string, number> = {};
    console.log(
      `${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (sizes do not depend on load)`,
    );
    console.log(`${'response'.padEnd(52)} ${ENCODINGS.map((e) => e.padStart(12)).join('')}`);
    for (const [name, path] of Object.entries(targets)) {
      const sizes: number[] = [];
      for (const encoding of ENCODINGS) {
        const { bytes, encoding: sent } = await wireBytes(server.baseUrl + path, session.cookie, encoding);
        if (sent !== encoding) throw new Error(`${name}: asked for ${encoding}, got ${sent}`);
        sizes.push(bytes);
        results[`${name} (${encoding})`] = bytes;
      }
      console.log(`${name.padEnd(52)} ${sizes.map((b) => b.toLocaleString('en').padStart(12)).join('')}`);
    }
    return results;
  } finally {
    await server.cleanup();
  }
}

if (import.meta.main) await benchWireBytes();
