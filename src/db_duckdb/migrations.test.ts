// A store written by a version that kept event times as decimal strings answers with JSON numbers
// once prepare() has migrated it, on the trace endpoints and on the pre-rendered list pages.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { legacyWorkflowTrace, toExportRequest, workflowMix } from '../fixtures/junjo_traces.ts';
import { createLogger } from '../logger.ts';
import { renderSpan } from '../spans/span_json.ts';
import { processTraceRequest } from '../spans/span_processor.ts';
import { DuckDbSpanStore } from './duckdb_span_store.ts';
import { inflateListJson } from './list_json.ts';
import { querySupportSchema } from './summaries.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-migrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What versions before migration 1 stored: the same rows with event times as decimal strings. */
const asOldVersion = (eventsJson: string) =>
  eventsJson.replace(/"timeUnixNano":(\d+)/g, '"timeUnixNano":"$1"');

const STRING_TIME = /"timeUnixNano":"/;
const NUMBER_TIME = /"timeUnixNano":\d{19},/;

async function open(file: string, logs: string[] = []): Promise<DuckDbSpanStore> {
  const logger = createLogger('info', { write: (line: string) => logs.push(line) });
  return DuckDbSpanStore.open(file, logger, { idleCheckpointMs: 0 });
}

describe('store migration 1 (event times as JSON numbers)', () => {
  it('rewrites a store written the old way, exactly and once', async () => {
    const file = path.join(dir, 'old.duckdb');
    const trace = legacyWorkflowTrace({ fail: true });
    const { spans, patches } = processTraceRequest(toExportRequest(trace.spans));
    const current = new Map(spans.map((span) => [span.span_id, span]));

    // An old database: rows (and the list pages rendered from them) with string times, and no
    // record of any migration.
    let store = await open(file);
    await store.prepare();
    await store.insertBatch({
      spans: spans.map((span) => ({ ...span, events_json: asOldVersion(span.events_json) })),
      patches,
    });
    await store.db.write((conn) => conn.run('DROP TABLE store_migrations'));
    const oldPage = Buffer.concat(
      await store.rootSpanPage(trace.serviceName, { limit: 10 }, { llmOnly: false }),
    );
    assert.match(oldPage.toString(), STRING_TIME);
    await store.close();

    const logs: string[] = [];
    store = await open(file, logs);
    await store.prepare();
    assert.ok(logs.some((line) => line.includes('store migration applied')));
    for (const row of await store.traceSpans(trace.traceId)) {
      assert.equal(
        row.events_json,
        current.get(row.span_id)!.events_json,
        'byte for byte what is stored now',
      );
    }
    assert.ok(
      spans.some((span) => NUMBER_TIME.test(span.events_json)),
      'the fixture has events',
    );
    const root = spans.find((span) => span.parent_span_id === null)!;
    const lists = [
      await store.rootSpanPage(trace.serviceName, { limit: 10 }, { llmOnly: false }),
      await store.rootSpanPage(trace.serviceName, { limit: 10 }, { llmOnly: true }),
      await store.workflowSpanPage(trace.serviceName, { limit: 10 }),
    ];
    for (const page of lists) {
      assert.ok(page.length > 0);
      for (const entry of page) assert.doesNotMatch(Buffer.from(entry).toString(), STRING_TIME);
    }
    assert.equal(Buffer.from(lists[0]![0]!).toString(), renderSpan(root));
    await store.close();

    // Applied once: the next start neither rewrites nor logs it again.
    const again: string[] = [];
    store = await open(file, again);
    await store.prepare();
    assert.ok(!again.some((line) => line.includes('store migration')));
    await store.close();
  });
});

describe('store migration 2 (span_attributes)', () => {
  it('fills the table from the stored spans, as inserts fill it, and search then finds by attribute', async () => {
    const file = path.join(dir, 'before-attributes.duckdb');
    const trace = legacyWorkflowTrace({ fail: true });
    const { spans, patches } = processTraceRequest(toExportRequest(trace.spans));
    const attributeRows = async (store: DuckDbSpanStore) =>
      store.db.read(async (conn) =>
        (await conn.runAndReadAll('SELECT * FROM span_attributes ORDER BY ALL')).getRows(),
      );

    let store = await open(file);
    await store.prepare();
    await store.insertBatch({ spans, patches });
    const inserted = await attributeRows(store);
    assert.ok(inserted.length > spans.length, 'the fixture has attributes');
    // A database of a version without the table's rows and without migration 2.
    await store.db.write(async (conn) => {
      await conn.run('DELETE FROM span_attributes');
      await conn.run('DELETE FROM store_migrations WHERE version = 2');
    });
    await store.close();

    const logs: string[] = [];
    store = await open(file, logs);
    await store.prepare();
    assert.ok(
      logs.some((line) => line.includes('store migration 2:')),
      'progress is logged',
    );
    assert.deepEqual(await attributeRows(store), inserted);
    const withKey = spans.find((span) => span.attributes_json !== '{}')!;
    const key = Object.keys(JSON.parse(withKey.attributes_json))[0]!;
    const hits = await store.searchSpans(
      {
        serviceName: withKey.service_name,
        window: { startMicros: withKey.start_time, endMicros: withKey.start_time },
        attributes: [{ key, op: 'exists' }],
      },
      { limit: 10 },
    );
    assert.ok(hits.some((hit) => hit.span.span_id === withKey.span_id));
    await store.close();
  });
});

describe('store migration 3 (deflated list JSON)', () => {
  const spans = processTraceRequest(toExportRequest(workflowMix({ traces: 40, services: 3, seed: 5 })));
  const serviceNames = [...new Set(spans.spans.map((span) => span.service_name))];

  /** Every list page of every service, as the API serves them. */
  async function pages(store: DuckDbSpanStore): Promise<string[]> {
    const text = (page: Uint8Array[]) => page.map((entry) => Buffer.from(entry).toString());
    const all: string[] = [];
    for (const service of serviceNames) {
      all.push(...text(await store.rootSpanPage(service, { limit: 100 }, { llmOnly: false })));
      all.push(...text(await store.rootSpanPage(service, { limit: 100 }, { llmOnly: true })));
      all.push(...text(await store.workflowSpanPage(service, { limit: 100 })));
    }
    return all;
  }

  /** The table's rows in row id order (the order its zone maps rely on), JSON as text. */
  const entries = (store: DuckDbSpanStore) =>
    store.db.read(async (conn) => {
      const reader = await conn.runAndReadAll(
        `SELECT * EXCLUDE (span_json_deflated), span_json_deflated FROM span_list_entries ORDER BY rowid`,
      );
      return reader.getRows().map((row) => {
        const json = row.pop() as { bytes: Uint8Array };
        return JSON.stringify([...row, Buffer.from(inflateListJson(json.bytes)).toString()], (_, v) =>
          typeof v === 'bigint'
            ? String(v)
            : typeof v === 'object' && v !== null && 'micros' in v
              ? String(v.micros)
              : v,
        );
      });
    });

  /**
   * Rewrites the table as versions before migration 3 kept it (the JSON text in span_json), and
   * forgets the migration. With `crashed`, also leaves what a crash in the middle of it leaves.
   */
  async function asOldVersion(store: DuckDbSpanStore, crashed: boolean): Promise<void> {
    const texts = await store.db.read(async (conn) =>
      (await conn.runAndReadAll('SELECT rowid, span_json_deflated FROM span_list_entries')).getRows(),
    );
    await store.db.write(async (conn) => {
      await conn.run(`CREATE TABLE span_list_text AS
        SELECT trace_id, span_id, parent_span_id, service_name, start_time, junjo_span_type, has_llm,
               NULL::BLOB AS span_json, end_time, rowid AS original_row
        FROM span_list_entries ORDER BY rowid`);
      for (const [rowid, json] of texts) {
        await conn.run('UPDATE span_list_text SET span_json = encode($json) WHERE original_row = $rowid', {
          rowid: rowid as bigint,
          json: Buffer.from(inflateListJson((json as { bytes: Uint8Array }).bytes)).toString(),
        });
      }
      await conn.run('DROP TABLE span_list_entries');
      await conn.run(`CREATE TABLE span_list_entries AS
        SELECT * EXCLUDE (original_row) FROM span_list_text ORDER BY original_row`);
      await conn.run('DROP TABLE span_list_text');
      await conn.run('DELETE FROM store_migrations WHERE version = 3');
      if (crashed) {
        await conn.run('ALTER TABLE span_list_entries RENAME TO span_list_entries_text');
        await conn.run(await querySupportSchema());
        await conn.run(`INSERT INTO span_list_entries BY NAME
          SELECT * EXCLUDE (span_json), span_json AS span_json_deflated FROM span_list_entries_text LIMIT 3`);
      }
    });
  }

  for (const crashed of [false, true]) {
    it(`converts a store${crashed ? ' left midway by a crash' : ''}: same rows in the same order, same pages`, async () => {
      const file = path.join(dir, `list-text-${crashed}.duckdb`);
      let store = await open(file);
      await store.prepare();
      await store.insertBatch(spans);
      const before = { pages: await pages(store), entries: await entries(store) };
      assert.ok(before.pages.length > 40, 'the fixture lists spans of every kind');
      await asOldVersion(store, crashed);
      const columns = async () =>
        store.db.read(async (conn) =>
          (
            await conn.runAndReadAll(
              "SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE table_name LIKE 'span_list_entries%' ORDER BY ALL",
            )
          )
            .getRows()
            .map((row) => row[0] as string),
        );
      assert.ok(
        (await columns()).includes(
          crashed ? 'span_list_entries_text.span_json' : 'span_list_entries.span_json',
        ),
      );
      await store.close();

      const logs: string[] = [];
      store = await open(file, logs);
      await store.prepare();
      assert.ok(
        logs.some((line) => line.includes('store migration 3:')),
        'progress is logged',
      );
      assert.ok(
        !(await columns()).some(
          (column) => column.endsWith('.span_json') || column.startsWith('span_list_entries_text'),
        ),
      );
      assert.deepEqual(await entries(store), before.entries);
      assert.deepEqual(await pages(store), before.pages);
      await store.close();
    });
  }
});
