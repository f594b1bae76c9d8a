import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packRequests, workflowMix } from '../fixtures/junjo_traces.ts';
import { createLogger } from '../logger.ts';
import { isLlmAttributesJson } from '../spans/llm_span.ts';
import type { SpanBatch } from '../spans/rows.ts';
import { processTraceRequest } from '../spans/span_processor.ts';
import { testSpanRow } from '../spans/test_span_row.ts';
import { type DuckDb, openDuckDb } from './connection.ts';
import { SpanRepository } from './span_repository.ts';
import { prepareQuerySupport, pruneQuerySupport } from './summaries.ts';

let dir: string;
let db: DuckDb;
let repository: SpanRepository;
const batches: SpanBatch[] = [];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-summaries-test-'));
  db = await openDuckDb(path.join(dir, 'otel.duckdb'), createLogger('silent'));
  await prepareQuerySupport(db);
  repository = new SpanRepository(db, createLogger('silent'));
  // The workflow mix as the SDK exports it: children before parents, traces split across requests.
  for (const request of packRequests(workflowMix({ traces: 300, services: 4, seed: 5 }), 256)) {
    const { spans, patches } = processTraceRequest(request);
    batches.push({ spans, patches });
  }
  // All but the last two batches, so that a replay below can add new rows too.
  for (const batch of batches.slice(0, -2)) await repository.insertBatch(batch);
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The query-support tables as sorted text, to compare two ways of filling them. */
function snapshot(): Promise<Record<string, string[]>> {
  return db.read(async (conn) => {
    const rows = async (sql: string) =>
      (await conn.runAndReadAll(sql))
        .getRows()
        .map((row) => JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
    return {
      services: await rows(
        'SELECT service_name, span_count, trace_count, epoch_us(last_seen) FROM service_summaries ORDER BY 1',
      ),
      listed: await rows(
        'SELECT trace_id, span_id, service_name, epoch_us(start_time), junjo_span_type, has_llm, span_json_deflated FROM span_list_entries ORDER BY 1, 2',
      ),
      llmTraces: await rows('SELECT DISTINCT trace_id FROM llm_traces ORDER BY 1'),
      hours: await rows(
        'SELECT service_name, epoch_us(hour), roots, llm_roots, workflows FROM span_list_hours ORDER BY 1, 2',
      ),
      attributes: await rows(
        'SELECT trace_id, span_id, key, service_name, epoch_us(start_time), text, number, long FROM span_attributes ORDER BY ALL',
      ),
    };
  });
}

async function rebuildFromSpans(): Promise<void> {
  await db.write(async (conn) => {
    for (const table of ['service_summaries', 'span_list_entries', 'llm_traces'])
      await conn.run(`DELETE FROM ${table}`);
  });
  await prepareQuerySupport(db);
}

describe('query-support tables', () => {
  test('replayed batches, and a batch of stored and new spans, count each span once', async () => {
    const stored = await snapshot();
    for (const batch of batches.slice(0, -2)) await repository.insertBatch(batch);
    assert.deepEqual(await snapshot(), stored);
    const [last, secondLast] = [batches.at(-1)!, batches.at(-2)!];
    await repository.insertBatch({
      spans: [...batches[0]!.spans, ...secondLast.spans, ...secondLast.spans],
      patches: secondLast.patches,
    });
    await repository.insertBatch(last);
    const all = await snapshot();
    const spanTotal = all.services!.reduce((sum, row) => sum + Number(JSON.parse(row)[1]), 0);
    assert.equal(spanTotal, await repository.countSpans());
  });

  test('an LLM span stored after its root flags the root and its hour', async () => {
    const start = 1749000000000000n;
    const root = testSpanRow({
      trace_id: 'a'.repeat(32),
      span_id: 'b'.repeat(16),
      service_name: 'late',
      start_time: start,
    });
    const llm = testSpanRow({
      trace_id: root.trace_id,
      span_id: 'c'.repeat(16),
      parent_span_id: root.span_id,
      service_name: 'llm-elsewhere',
      start_time: start + 5_000_000n,
      attributes_json: '{"openinference.span.kind":"LLM"}',
    });
    await repository.insertBatch({ spans: [root], patches: [] });
    await repository.insertBatch({ spans: [llm], patches: [] });
    const after = await snapshot();
    assert.ok(after.listed!.some((r) => r.startsWith(`["${root.trace_id}"`) && r.includes(',true,')));
    assert.ok(
      after.hours!.includes(`["late","${start - (start % 3_600_000_000n)}","1","1","0"]`),
      after.hours!.join(),
    );
  });

  test('maintained batch by batch, they equal a rebuild from spans', async () => {
    const incremental = await snapshot();
    assert.equal(incremental.services!.length, 6);
    assert.ok(incremental.attributes!.length > incremental.listed!.length, 'one row per attribute');
    assert.ok(incremental.listed!.length >= 300);
    assert.ok(
      incremental.listed!.some((row) => row.includes(',true,')),
      'some roots have LLM spans',
    );
    assert.ok(
      incremental.listed!.some((row) => row.includes(',false,')),
      'some roots do not',
    );
    await rebuildFromSpans();
    assert.deepEqual(await snapshot(), incremental);
  });

  test('a second prepareQuerySupport changes nothing', async () => {
    const first = await snapshot();
    await prepareQuerySupport(db);
    assert.deepEqual(await snapshot(), first);
  });

  test('pruneQuerySupport after a retention delete leaves what a rebuild would', async () => {
    const cutoff = await db.read(async (conn) => {
      const reader = await conn.runAndReadAll('SELECT epoch_us(quantile_disc(start_time, 0.5)) FROM spans');
      return reader.getRows()[0]![0] as bigint;
    });
    // DuckDB refuses to delete a referenced span in the transaction that deletes its patches.
    await db.write((conn) =>
      conn.run(
        `DELETE FROM state_patches WHERE (trace_id, span_id) IN
           (SELECT (trace_id, span_id) FROM spans WHERE epoch_us(start_time) < $cutoff)`,
        { cutoff },
      ),
    );
    await db.write(async (conn) => {
      await conn.run('DELETE FROM spans WHERE epoch_us(start_time) < $cutoff', { cutoff });
      await pruneQuerySupport(conn, cutoff);
    });
    const pruned = await snapshot();
    assert.ok(pruned.listed!.length > 0);
    await rebuildFromSpans();
    const rebuilt = await snapshot();
    assert.deepEqual(pruned.services, rebuilt.services);
    assert.deepEqual(pruned.listed, rebuilt.listed);
    assert.deepEqual(pruned.hours, rebuilt.hours);
    assert.ok(pruned.attributes!.length > 0);
    assert.deepEqual(pruned.attributes, rebuilt.attributes, 'the attributes of deleted spans are gone');
  });
});

describe('isLlmAttributesJson', () => {
  const cases: [Record<string, unknown>, boolean][] = [
    [{ 'openinference.span.kind': 'LLM' }, true],
    [{ 'openinference.span.kind': 'CHAIN' }, false],
    [{ 'gen_ai.operation.name': 'chat' }, true],
    [{ 'gen_ai.provider.name': 'openai' }, true],
    [{ 'gen_ai.usage.input_tokens': 3 }, false],
    [{ nested: { 'openinference.span.kind': 'LLM' } }, false],
    [{ note: '"openinference.span.kind":"LLM"' }, false],
    [{}, false],
  ];
  test('agrees with the SQL used to rebuild the tables', async () => {
    for (const [attributes, expected] of cases) {
      const json = JSON.stringify(attributes);
      assert.equal(isLlmAttributesJson(json), expected, json);
      const inSql = await db.read(async (conn) => {
        const reader = await conn.runAndReadAll(
          `SELECT ($a::JSON ->> 'openinference.span.kind' = 'LLM'
             OR json_exists($a::JSON, '$."gen_ai.operation.name"')
             OR json_exists($a::JSON, '$."gen_ai.provider.name"')) IS TRUE`,
          { a: json },
        );
        return reader.getRows()[0]![0];
      });
      assert.equal(inSql, expected, `SQL: ${json}`);
    }
  });
});
