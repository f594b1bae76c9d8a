// The durability promise under kill -9: several clients export over gRPC and OTLP/HTTP, the server
// is SIGKILLed at a random moment, restarted on the same data directory, and DuckDB then holds every
// acknowledged span and state patch exactly once. Ten rounds here (CRASH_ROUNDS sets another count);
// the long run is `node_modules/.bin/node test/ingestion/crash_rounds.ts 100` (docs/reliability.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashRounds } from './crash_rounds.ts';

const rounds = Number(process.env.CRASH_ROUNDS ?? 10);

test('after kill -9 at random moments every acknowledged span and patch is in DuckDB exactly once', async (t) => {
  const reports = await runCrashRounds({
    rounds,
    // Kills a little earlier than the long run (300–1500 ms) so that ten rounds fit in CI's time.
    killWindowMs: [200, 1000],
    onRound: (report) =>
      t.diagnostic(
        `round ${report.round}: killed after ${report.killedAfterMs} ms, ` +
          `${report.requestsAcked}/${report.requestsSent} requests acknowledged, ` +
          `${report.durability.storedSpans} spans stored for ${report.totalSpansAcked} acknowledged`,
      ),
  });
  assert.equal(reports.length, rounds);
  for (const report of reports) {
    assert.ok(report.requestsAcked > 0, `round ${report.round} acknowledged something before the kill`);
    assert.ok(report.durability.storedPatches > 0, 'the traces carry set_state patches');
  }
  const last = reports.at(-1)!;
  assert.ok(last.durability.storedSpans >= last.totalSpansAcked);
});
