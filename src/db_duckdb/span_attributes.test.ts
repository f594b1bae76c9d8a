import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../logger.ts';
import { testSpanRow } from '../spans/test_span_row.ts';
import { type DuckDb, openDuckDb } from './connection.ts';
import {
  ATTRIBUTE_TEXT_CAP_BYTES,
  INSERT_FROM_SPANS_FILE,
  recordStoredSpanAttributes,
  shortValuesOnly,
} from './span_attributes.ts';
import { SpanRepository } from './span_repository.ts';
import { prepareQuerySupport } from './summaries.ts';

const logger = createLogger('silent');
let dir: string;
let counter = 0;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-span-attributes-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function span(attributes: Record<string, unknown>) {
  const n = ++counter;
  return testSpanRow({
    trace_id: `${n}`.padStart(32, 'a'),
    span_id: `${n}`.padStart(16, 'b'),
    service_name: 'svc',
    start_time: 1_700_000_000_000_000n + BigInt(n),
    end_time: 1_700_000_000_500_000n + BigInt(n),
    attributes_json: JSON.stringify(attributes),
  });
}

const atCap = 'c'.repeat(ATTRIBUTE_TEXT_CAP_BYTES);
// Every kind of value on both sides of the cap; é is two UTF-8 bytes, so 200 of them are over it.
const MIXED = {
  prompt: 'p'.repeat(100_000),
  accented: 'é'.repeat(200),
  at_cap: atCap,
  short: 'hello',
  number: 42.5,
  flag: true,
  nothing: null,
  small_object: { a: 1 },
  large_object: { text: 'y'.repeat(5_000) },
  large_array: ['z'.repeat(3_000)],
  padding: 'q'.repeat(5_000),
};

describe('shortValuesOnly', () => {
  test('passes short attributes through untouched', () => {
    const json = JSON.stringify({ a: 'x'.repeat(300) });
    assert.equal(shortValuesOnly(json), json);
  });

  test('stands in for values longer than the cap, by UTF-8 bytes, and keeps the rest', () => {
    const out = JSON.parse(shortValuesOnly(JSON.stringify(MIXED))) as Record<string, unknown>;
    for (const key of ['prompt', 'accented', 'large_object', 'large_array', 'padding']) {
      assert.equal(typeof out[key], 'string', key);
      assert.ok((out[key] as string).length === ATTRIBUTE_TEXT_CAP_BYTES + 1, key);
    }
    assert.deepEqual(
      { at_cap: out.at_cap, short: out.short, number: out.number, flag: out.flag, nothing: out.nothing },
      { at_cap: atCap, short: 'hello', number: 42.5, flag: true, nothing: null },
    );
    assert.deepEqual(out.small_object, { a: 1 });
  });
});

/** A new store under a 64 MiB limit, its query-support tables created. */
async function smallStore(name: string) {
  const db = await openDuckDb(path.join(dir, `${name}-${++counter}.duckdb`), logger, {
    memoryLimit: '64MiB',
    threads: 1,
  });
  await prepareQuerySupport(db);
  return db;
}

async function longValueRows(db: DuckDb): Promise<number> {
  const [[long]] = (await db.read(async (conn) =>
    (await conn.runAndReadAll('SELECT count(*) FILTER (WHERE long)::INTEGER FROM span_attributes')).getRows(),
  )) as [[number]];
  return long;
}

describe('span_attributes from the insert path and the backfill', () => {
  test('equal what DuckDB derives from the full attributes (the bulk load from a file)', async () => {
    const db = await openDuckDb(path.join(dir, `same-${++counter}.duckdb`), logger);
    try {
      await prepareQuerySupport(db);
      const spans = [span(MIXED), span({ only: 'short' }), span({ big: 'b'.repeat(20_000), n: 7 })];
      await new SpanRepository(db, logger).insertBatch({ spans, patches: [] });
      const rows = () =>
        db.read(async (conn) =>
          (
            await conn.runAndReadAll(
              'SELECT trace_id, span_id, key, text, number, long FROM span_attributes ORDER BY ALL',
            )
          ).getRowsJson(),
        );
      const inserted = await rows();
      assert.equal(inserted.length, Object.keys(MIXED).length + 1 + 2);
      await db.write(async (conn) => {
        await conn.run('DELETE FROM span_attributes');
        await recordStoredSpanAttributes(conn, 0n, 1_000n);
      });
      assert.deepEqual(await rows(), inserted, 'the backfill');
      // The bulk load hands DuckDB every value whole.
      const file = path.join(dir, `spans-${counter}.ndjson`);
      writeFileSync(
        file,
        spans
          .map(({ service_name, start_time, trace_id, span_id, attributes_json }) =>
            JSON.stringify({
              service_name,
              start_time: Number(start_time),
              trace_id,
              span_id,
              attributes_json,
            }),
          )
          .join('\n'),
      );
      await db.write(async (conn) => {
        await conn.run('DELETE FROM span_attributes');
        await conn.run(INSERT_FROM_SPANS_FILE, { file });
      });
      assert.deepEqual(await rows(), inserted, 'the full attributes');
    } finally {
      await db.close();
    }
  });

  test('the backfill of 2,000 stored spans, 200 of them with a 100 KB prompt, runs under a 64 MiB limit', async () => {
    // In one statement over the step's row ids, their 20 MB of prompts took DuckDB's JSON functions
    // over the limit, and a server upgraded onto such a store could not start.
    const db = await smallStore('backfill');
    try {
      const repository = new SpanRepository(db, logger);
      for (let batch = 0; batch < 4; batch++) {
        const spans = Array.from({ length: 500 }, (_, i) =>
          span({ 'llm.prompt': i % 10 === 0 ? 'p'.repeat(100_000) + i : 'short', batch }),
        );
        assert.equal((await repository.insertBatch({ spans, patches: [] })).spans, 500);
      }
      const added = await db.write(async (conn) => {
        await conn.run('DELETE FROM span_attributes');
        return recordStoredSpanAttributes(conn, 0n, 99_999n);
      });
      assert.equal(added, 4_000);
      assert.equal(await longValueRows(db), 200);
    } finally {
      await db.close();
    }
  });

  test('a batch of 500 spans, 50 of them with a 100 KB prompt, goes in under a 64 MiB limit', async () => {
    // Extracted whole, their 5 MB of prompts took DuckDB's JSON functions over 128 MiB in one
    // statement (the web benchmark's prompted trace), and the insert failed every time it was tried.
    const db = await smallStore('prompts');
    try {
      const spans = Array.from({ length: 500 }, (_, i) =>
        span({ 'llm.prompt': i % 10 === 0 ? 'p'.repeat(100_000) + i : 'short' }),
      );
      const inserted = await new SpanRepository(db, logger).insertBatch({ spans, patches: [] });
      assert.equal(inserted.spans, 500);
      assert.equal(await longValueRows(db), 50);
    } finally {
      await db.close();
    }
  });
});
