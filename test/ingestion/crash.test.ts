// The durability promise under kill -9: several clients export over gRPC and OTLP/HTTP, the server
// is SIGKILLed at a random moment, restarted on the same data directory, and DuckDB then holds every
// acknowledged span and state patch exactly once (four rounds; crash_rounds.ts runs a hundred).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashRounds } from './crash_rounds.ts';

test('after kill -9 at random moments every acknowledged span and patch is in DuckDB exactly once', async (t) => {
  const reports = await runCrashRounds({
    rounds: 4,
    onRound: (report) =>
      t.diagnostic(
        `round ${report.round}: killed after ${report.killedAfterMs} ms, ` +
          `${report.requestsAcked}/${report.requestsSent} requests acknowledged, ` +
          `${report.durability.storedSpans} spans stored for ${report.totalSpansAcked} acknowledged`,
      ),
  });
  assert.equal(reports.length, 4);
  for (const report of reports) {
    assert.ok(report.requestsAcked > 0, `round ${report.round} acknowledged something before the kill`);
    assert.ok(report.durability.storedPatches > 0, 'the traces carry set_state patches');
  }
  const last = reports.at(-1)!;
  assert.ok(last.durability.storedSpans >= last.totalSpansAcked);
});
