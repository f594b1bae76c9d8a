// A store written by a version that kept event times as decimal strings answers with JSON numbers
// once prepare() has migrated it, on the trace endpoints and on the pre-rendered list pages.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { legacyWorkflowTrace, toExportRequest } from '../fixtures/junjo_traces.ts';
import { createLogger } from '../logger.ts';
import { renderSpan } from '../spans/span_json.ts';
import { processTraceRequest } from '../spans/span_processor.ts';
import { DuckDbSpanStore } from './duckdb_span_store.ts';

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
