// The fuzz suite in CI: 5,000 generated and mutated OTLP requests against both receivers of a real
// server (fuzz.ts says what is checked). FUZZ_REQUESTS sets another count, FUZZ_SEED replays a run;
// the full run is `node_modules/.bin/node test/hardening/fuzz.ts 100000`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printFuzzReport, runFuzz } from './fuzz.ts';

const requests = Number(process.env.FUZZ_REQUESTS ?? 5000);
/** RSS the server must stay under (MiB): idle it holds ~200; the bound catches a leak per request. */
const MAX_RSS_MIB = Number(process.env.FUZZ_MAX_RSS_MIB ?? 1536);

test(`${requests} fuzzed OTLP requests: no crash, no hang, bounded memory, only 2xx/4xx answers, nothing half-written`, async (t) => {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  const report = await runFuzz({ requests, seed });
  t.diagnostic(
    `seed ${report.seed}: ${report.acknowledged} acknowledged (${report.partialSuccesses} partial), ` +
      `${report.refused} refused in ${report.seconds} s; slowest ${report.slowestMs} ms; ` +
      `peak RSS ${report.peakRssMiB} MiB (${report.rssMiBSamples.join(' ')})`,
  );
  if (report.violationCount > 0 || report.errorLogLines.length > 0) printFuzzReport(report);
  assert.equal(report.requests, requests, 'every request was answered');
  assert.deepEqual(report.violations, [], `replay with FUZZ_SEED=${report.seed}`);
  assert.deepEqual(report.errorLogLines, [], 'no error-level log line');
  assert.ok(report.serverAlive);
  assert.ok(report.peakRssMiB < MAX_RSS_MIB, `peak RSS ${report.peakRssMiB} MiB under ${MAX_RSS_MIB} MiB`);
  assert.ok(
    report.acknowledged > requests / 5 && report.refused > requests / 5,
    'both outcomes were exercised',
  );
  assert.ok((report.durability?.storedSpans ?? 0) > 0);
});
