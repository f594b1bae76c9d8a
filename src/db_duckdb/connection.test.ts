import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { AppError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { type DuckDb, memoryAction, openDuckDb, parseDuckDbBytes } from './connection.ts';

const logger = createLogger('silent');
let dir: string;
let counter = 0;
const freshFile = () => path.join(dir, `db-${++counter}.duckdb`);

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'junjo-duckdb-connection-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function rows(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRowsJson() as unknown[][];
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// Expected catalog, written out from the seed's DDL (seed-phase6-duckdb.md, Part 4). DuckDB keeps
// no VARCHAR length, so VARCHAR(32)/VARCHAR(16) read back as VARCHAR.
const EXPECTED_COLUMNS: Record<string, [name: string, type: string, nullable: boolean][]> = {
  spans: [
    ['trace_id', 'VARCHAR', false],
    ['span_id', 'VARCHAR', false],
    ['parent_span_id', 'VARCHAR', true],
    ['service_name', 'VARCHAR', false],
    ['name', 'VARCHAR', true],
    ['kind', 'VARCHAR', true],
    ['start_time', 'TIMESTAMP WITH TIME ZONE', false],
    ['end_time', 'TIMESTAMP WITH TIME ZONE', false],
    ['status_code', 'VARCHAR', true],
    ['status_message', 'VARCHAR', true],
    ['attributes_json', 'JSON', true],
    ['events_json', 'JSON', true],
    ['links_json', 'JSON', true],
    ['trace_flags', 'INTEGER', true],
    ['trace_state', 'VARCHAR', true],
    ['junjo_id', 'VARCHAR', true],
    ['junjo_parent_id', 'VARCHAR', true],
    ['junjo_span_type', 'VARCHAR', true],
    ['junjo_wf_state_start', 'JSON', true],
    ['junjo_wf_state_end', 'JSON', true],
    ['junjo_wf_graph_structure', 'JSON', true],
    ['junjo_wf_store_id', 'VARCHAR', true],
  ],
  state_patches: [
    ['patch_id', 'VARCHAR', false],
    ['service_name', 'VARCHAR', false],
    ['trace_id', 'VARCHAR', false],
    ['span_id', 'VARCHAR', false],
    ['workflow_id', 'VARCHAR', false],
    ['node_id', 'VARCHAR', false],
    ['event_time', 'TIMESTAMP WITH TIME ZONE', false],
    ['patch_json', 'JSON', false],
    ['patch_store_id', 'VARCHAR', false],
  ],
  log_records: [
    ['log_id', 'VARCHAR', false],
    ['trace_id', 'VARCHAR', false],
    ['span_id', 'VARCHAR', false],
    ['service_name', 'VARCHAR', false],
    ['time', 'TIMESTAMP WITH TIME ZONE', false],
    ['observed_time', 'TIMESTAMP WITH TIME ZONE', false],
    ['sequence', 'INTEGER', false],
    ['severity_number', 'INTEGER', false],
    ['severity_text', 'VARCHAR', false],
    ['event_name', 'VARCHAR', false],
    ['body_json', 'JSON', false],
    ['attributes_json', 'JSON', false],
  ],
};

const EXPECTED_KEYS = [
  ['log_records', 'PRIMARY KEY', ['log_id'], null, []],
  ['spans', 'PRIMARY KEY', ['trace_id', 'span_id'], null, []],
  ['state_patches', 'FOREIGN KEY', ['trace_id', 'span_id'], 'spans', ['trace_id', 'span_id']],
  ['state_patches', 'PRIMARY KEY', ['patch_id'], null, []],
];

const EXPECTED_INDEXES = [
  ['idx_end_time', 'spans', '[end_time]'],
  ['idx_junjo_id', 'spans', '[junjo_id]'],
  ['idx_junjo_span_type', 'spans', '[junjo_span_type]'],
  ['idx_log_records_trace_id_span_id', 'log_records', '[trace_id, span_id]'],
  ['idx_parent_span_id', 'spans', '[parent_span_id]'],
  ['idx_start_time', 'spans', '[start_time]'],
  ['idx_state_patches_event_time', 'state_patches', '[event_time]'],
  ['idx_state_patches_node_id', 'state_patches', '[node_id]'],
  ['idx_state_patches_trace_id_span_id', 'state_patches', '[trace_id, span_id]'],
  ['idx_state_patches_workflow_id', 'state_patches', '[workflow_id]'],
  ['idx_trace_id', 'spans', '[trace_id]'],
];

async function assertSeedCatalog(db: DuckDb): Promise<void> {
  await db.read(async (conn) => {
    for (const [table, expected] of Object.entries(EXPECTED_COLUMNS)) {
      const columns = await rows(
        conn,
        `SELECT column_name, data_type, is_nullable FROM duckdb_columns()
         WHERE schema_name = 'main' AND table_name = '${table}' ORDER BY column_index`,
      );
      assert.deepEqual(columns, expected, `columns of ${table}`);
    }
    const keys = await rows(
      conn,
      `SELECT table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names
       FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') ORDER BY ALL`,
    );
    assert.deepEqual(keys, EXPECTED_KEYS);
    const indexes = await rows(
      conn,
      `SELECT index_name, table_name, expressions FROM duckdb_indexes() WHERE NOT is_primary ORDER BY ALL`,
    );
    assert.deepEqual(indexes, EXPECTED_INDEXES);
    const tables = await rows(
      conn,
      `SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY ALL`,
    );
    assert.deepEqual(tables, [['log_records'], ['spans'], ['state_patches']]);
  });
}

describe('openDuckDb', () => {
  test('applies the seed schema: every column, type, nullability, key and index', async () => {
    const db = await openDuckDb(freshFile(), logger);
    try {
      await assertSeedCatalog(db);
    } finally {
      await db.close();
    }
  });

  test('opening an existing file again keeps its data and the same catalog', async () => {
    const file = freshFile();
    const first = await openDuckDb(file, logger);
    await first.write((conn) =>
      conn.run(`INSERT INTO spans (trace_id, span_id, service_name, start_time, end_time)
                VALUES ('t', 's', 'svc', now(), now())`),
    );
    await first.close();
    const second = await openDuckDb(file, logger);
    try {
      await assertSeedCatalog(second);
      assert.deepEqual(await second.read((conn) => rows(conn, 'SELECT span_id FROM spans')), [['s']]);
    } finally {
      await second.close();
    }
  });

  test('raises the WAL auto-checkpoint threshold to 1 GiB', async () => {
    const db = await openDuckDb(freshFile(), logger);
    try {
      const [[threshold]] = (await db.read((conn) =>
        rows(conn, `SELECT current_setting('wal_autocheckpoint')`),
      )) as [[string]];
      assert.match(threshold, /^1(\.0)? GiB$/);
    } finally {
      await db.close();
    }
  });

  test('creates new files with 64 KiB blocks (or the blockSize asked for) and storage v1.5.0; older files keep their format', async () => {
    const format = (db: DuckDb) =>
      db.read((conn) =>
        rows(
          conn,
          `SELECT block_size, tags['storage_version']
           FROM pragma_database_size() JOIN duckdb_databases() USING (database_name)
           WHERE database_name = current_database()`,
        ),
      );
    const created = await openDuckDb(freshFile(), logger);
    try {
      assert.deepEqual(await format(created), [['65536', 'v1.5.0+']]);
    } finally {
      await created.close();
    }
    const chosen = await openDuckDb(freshFile(), logger, { blockSize: 262144 });
    try {
      assert.deepEqual(await format(chosen), [['262144', 'v1.5.0+']]);
    } finally {
      await chosen.close();
    }
    // A file written with DuckDB's defaults, as every version before this one created them.
    const old = freshFile();
    const instance = await DuckDBInstance.create(old);
    const conn = await instance.connect();
    await conn.run(readFileSync(new URL('./schemas/spans_schema.sql', import.meta.url), 'utf8'));
    await conn.run(`INSERT INTO spans (trace_id, span_id, service_name, start_time, end_time)
                    VALUES ('t', 's', 'svc', now(), now())`);
    conn.closeSync();
    instance.closeSync();
    const reopened = await openDuckDb(old, logger);
    try {
      assert.deepEqual(await format(reopened), [['262144', 'v1.0.0+']]);
      assert.deepEqual(await reopened.read((c) => rows(c, 'SELECT span_id FROM spans')), [['s']]);
    } finally {
      await reopened.close();
    }
  });

  test('refuses a second open of the same file in this process', async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger);
    try {
      await assert.rejects(openDuckDb(file, logger), /already open in this process/);
    } finally {
      await db.close();
    }
    const again = await openDuckDb(file, logger);
    await again.close();
  });

  test('fails with a clear message naming the file when another process holds it', async () => {
    const file = freshFile();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `require('@duckdb/node-api').DuckDBInstance.create(${JSON.stringify(file)})
           .then(() => { console.log('ready'); setInterval(() => {}, 1000); })`,
      ],
      { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        holder.once('exit', () => reject(new Error('the holder process exited early')));
      });
      await assert.rejects(openDuckDb(file, logger), (err: Error) => {
        assert.ok(err.message.includes(file), err.message);
        assert.match(err.message, /locked by another process/);
        return true;
      });
    } finally {
      holder.kill();
      await exited;
    }
    const db = await openDuckDb(file, logger);
    await db.close();
  });
});

describe('DuckDb.write', () => {
  test('runs writes one after another, never overlapping', async () => {
    const db = await openDuckDb(freshFile(), logger);
    try {
      const events: string[] = [];
      const hold = deferred();
      const firstStarted = deferred();
      const first = db.write(async () => {
        events.push('first starts');
        firstStarted.resolve();
        await hold.promise;
        events.push('first ends');
      });
      const second = db.write(async () => {
        events.push('second starts');
      });
      // Wait for the first to start (on a busy machine that can take longer than any fixed pause),
      // then give the second a moment in which it must not start.
      await firstStarted.promise;
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(events, ['first starts']);
      hold.resolve();
      await Promise.all([first, second]);
      assert.deepEqual(events, ['first starts', 'first ends', 'second starts']);
    } finally {
      await db.close();
    }
  });

  test('a write that throws is rolled back, and the next write still runs', async () => {
    const db = await openDuckDb(freshFile(), logger);
    try {
      await db.write((conn) => conn.run('CREATE TABLE probe (v INTEGER)'));
      await assert.rejects(
        db.write(async (conn) => {
          await conn.run('INSERT INTO probe VALUES (1)');
          throw new Error('injected');
        }),
        /injected/,
      );
      await db.write((conn) => conn.run('INSERT INTO probe VALUES (2)'));
      assert.deepEqual(await db.read((conn) => rows(conn, 'SELECT v FROM probe')), [[2]]);
    } finally {
      await db.close();
    }
  });
});

describe('after a fatal DuckDB error', () => {
  // DuckDB's own words when a commit ran out of memory and so did its rollback (seen in the soak):
  // from then on it refuses every statement until the database is opened again. DuckDB has no way
  // to cause a fatal error on purpose, so the statement that meets it is given its message here;
  // the session that replaces it is real (a TEMP table, which lives in one instance, is gone).
  const FATAL =
    'FATAL Error: Failed to rollback transaction. Cannot continue operation.\n' +
    'Original Error: Out of Memory Error: failed to pin block of size 256.0 KiB (191.7 MiB/192.0 MiB used)';
  const temporaryTables = (db: DuckDb) =>
    db.write((conn) => rows(conn, 'SELECT count(*)::INTEGER FROM duckdb_tables() WHERE temporary'));
  const isRetryable = (err: unknown) => err instanceof AppError && err.kind === 'unavailable';

  test('a write that meets one is refused as retryable; the file is opened again with what was committed', async () => {
    const db = await openDuckDb(freshFile(), logger);
    try {
      await db.write((conn) => conn.run('CREATE TABLE probe (v INTEGER)'));
      await db.write((conn) => conn.run('INSERT INTO probe VALUES (1)'));
      await db.write((conn) => conn.run('CREATE TEMP TABLE of_this_instance (v INTEGER)'));
      assert.deepEqual(await temporaryTables(db), [[1]]);
      await assert.rejects(
        db.write(async (conn) => {
          await conn.run('INSERT INTO probe VALUES (2)');
          throw new Error(FATAL);
        }),
        isRetryable,
      );
      assert.deepEqual(await temporaryTables(db), [[0]], 'a new instance');
      assert.equal(db.upkeep().reopens.fatal_error.count, 1, 'counted as a reopen after a fatal error');
      await db.write((conn) => conn.run('INSERT INTO probe VALUES (3)'));
      assert.deepEqual(await db.read((conn) => rows(conn, 'SELECT v FROM probe ORDER BY v')), [[1], [3]]);
    } finally {
      await db.close();
    }
  });

  test('a read that meets one is refused as retryable, and reads after it use the new instance', async () => {
    const db = await openDuckDb(freshFile(), logger, { readers: 2 });
    try {
      await db.write((conn) => conn.run('CREATE TABLE probe (v INTEGER)'));
      await db.write((conn) => conn.run('INSERT INTO probe VALUES (1)'));
      await db.write((conn) => conn.run('CREATE TEMP TABLE of_this_instance (v INTEGER)'));
      // A read still running on the old instance is let finish before that instance is closed.
      const hold = deferred();
      const running = db.read(async (conn) => {
        await hold.promise;
        return rows(conn, 'SELECT v FROM probe');
      });
      await assert.rejects(
        db.read(async () => {
          throw new Error(FATAL);
        }),
        isRetryable,
      );
      const after = db.read((conn) => rows(conn, 'SELECT count(*)::INTEGER FROM probe'));
      hold.resolve();
      assert.deepEqual(await running, [[1]]);
      assert.deepEqual(await after, [[1]]);
      assert.deepEqual(await temporaryTables(db), [[0]], 'a new instance');
    } finally {
      await db.close();
    }
  });
});

describe('DuckDb.read', () => {
  test('runs while a write transaction is open and sees only committed rows', async () => {
    const db = await openDuckDb(freshFile(), logger);
    try {
      await db.write((conn) => conn.run('CREATE TABLE probe (v INTEGER)'));
      const inserted = deferred();
      const hold = deferred();
      const writing = db.write(async (conn) => {
        await conn.run('INSERT INTO probe SELECT range FROM range(1000)');
        inserted.resolve();
        await hold.promise;
      });
      await inserted.promise;
      const during = await db.read((conn) => rows(conn, 'SELECT count(*)::INTEGER FROM probe'));
      assert.deepEqual(during, [[0]]);
      hold.resolve();
      await writing;
      assert.deepEqual(await db.read((conn) => rows(conn, 'SELECT count(*)::INTEGER FROM probe')), [[1000]]);
    } finally {
      await db.close();
    }
  });

  test('more concurrent reads than reader connections all complete', async () => {
    const db = await openDuckDb(freshFile(), logger, { readers: 2 });
    try {
      const results = await Promise.all(
        Array.from({ length: 7 }, (_, i) => db.read((conn) => rows(conn, `SELECT ${i}`))),
      );
      assert.deepEqual(
        results,
        Array.from({ length: 7 }, (_, i) => [[i]]),
      );
    } finally {
      await db.close();
    }
  });
});

// One stat: a checkpoint may delete the WAL between an existence check and a stat (CI saw it once).
const walBytes = (file: string) => statSync(`${file}.wal`, { throwIfNoEntry: false })?.size ?? 0;
const writeSomething = (db: DuckDb) =>
  db.write((conn) => conn.run('CREATE TABLE probe AS SELECT range AS v FROM range(10000)'));

describe('DuckDb.upkeep', () => {
  test('counts asked-for and idle checkpoints with their time, not the ones with nothing to write', async () => {
    const db = await openDuckDb(freshFile(), logger, { idleCheckpointMs: 50 });
    try {
      await writeSomething(db);
      await db.checkpoint();
      await db.checkpoint(); // nothing written since: not a checkpoint
      const asked = db.upkeep().checkpoints.requested;
      assert.equal(asked.count, 1);
      assert.ok(asked.seconds > 0);
      await db.write((conn) => conn.run('INSERT INTO probe VALUES (1)'));
      const deadline = Date.now() + 60_000; // the loop ends as soon as the idle checkpoint ran
      while (db.upkeep().checkpoints.idle.count === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const { checkpoints, reopens } = db.upkeep();
      assert.equal(checkpoints.idle.count, 1);
      assert.equal(checkpoints.requested.count, 1);
      assert.deepEqual(
        Object.values(reopens).map((r) => r.count),
        [0, 0, 0],
      );
    } finally {
      await db.close();
    }
  });

  test('counts the checkpoints for held rows and the reopens for index memory, a reopen’s checkpoint as its own', async () => {
    // Shares of 0: every memory check (at most once a second, after a write) decides for a
    // checkpoint, or for a reopen; the wait makes sure one follows the write.
    const rowsDb = await openDuckDb(freshFile(), logger, {
      idleCheckpointMs: 0,
      heldMemoryCheckpointShare: 0,
    });
    try {
      await new Promise((r) => setTimeout(r, 1100));
      await writeSomething(rowsDb);
      await rowsDb.writesQueued();
      assert.ok(rowsDb.upkeep().checkpoints.rows_held.count >= 1, JSON.stringify(rowsDb.upkeep()));
      assert.equal(rowsDb.upkeep().reopens.index_memory.count, 0);
    } finally {
      await rowsDb.close();
    }
    const indexDb = await openDuckDb(freshFile(), logger, { idleCheckpointMs: 0, indexMemoryReopenShare: 0 });
    try {
      await new Promise((r) => setTimeout(r, 1100));
      await writeSomething(indexDb);
      await indexDb.writesQueued();
      const { checkpoints, reopens } = indexDb.upkeep();
      assert.ok(reopens.index_memory.count >= 1, JSON.stringify(indexDb.upkeep()));
      assert.ok(reopens.index_memory.seconds > 0);
      assert.equal(checkpoints.rows_held.count + checkpoints.requested.count, 0);
    } finally {
      await indexDb.close();
    }
  });
});

describe('DuckDb.checkpoint and close', () => {
  test('checkpoint() moves the WAL into the database file', async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger, { idleCheckpointMs: 0 });
    try {
      await writeSomething(db);
      assert.ok(walBytes(file) > 0, 'the write went to the WAL');
      await db.checkpoint();
      assert.equal(walBytes(file), 0);
    } finally {
      await db.close();
    }
  });

  test('checkpoints by itself once the writer has been idle for idleCheckpointMs', async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger, { idleCheckpointMs: 100 });
    try {
      await writeSomething(db);
      assert.ok(walBytes(file) > 0, 'the write went to the WAL');
      const deadline = Date.now() + 60_000; // the loop ends as soon as the checkpoint ran
      while (walBytes(file) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(walBytes(file), 0);
    } finally {
      await db.close();
    }
  });

  test('with idleCheckpointMs 0 the WAL stays until a checkpoint is asked for', async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger, { idleCheckpointMs: 0 });
    try {
      await writeSomething(db);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(walBytes(file) > 0);
    } finally {
      await db.close();
    }
  });

  test('an idle checkpoint held up by a read older than an update is tried again once that read ends', async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger, { idleCheckpointMs: 100 });
    try {
      await db.write((conn) =>
        conn.run('CREATE TABLE probe (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO probe VALUES (1, 0)'),
      );
      await db.checkpoint();
      const readOpen = deferred();
      const readMayEnd = deferred();
      // A read transaction that began before the update keeps DuckDB from checkpointing.
      const reading = db.read(async (conn) => {
        await conn.run('BEGIN TRANSACTION');
        await conn.run('SELECT count(*) FROM probe');
        readOpen.resolve();
        await readMayEnd.promise;
        await conn.run('COMMIT');
      });
      await readOpen.promise;
      await db.write((conn) => conn.run('UPDATE probe SET n = n + 1'));
      await new Promise((r) => setTimeout(r, 500)); // several idle checkpoints' worth
      assert.ok(walBytes(file) > 0, 'no checkpoint while the older read is open');
      readMayEnd.resolve();
      await reading;
      const deadline = Date.now() + 60_000; // the loop ends as soon as the checkpoint ran
      while (walBytes(file) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(walBytes(file), 0);
    } finally {
      await db.close();
    }
  });

  test('close() lets an in-flight write finish, then refuses new work', async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger);
    await db.write((conn) => conn.run('CREATE TABLE probe (v INTEGER)'));
    const started = deferred();
    const writing = db.write(async (conn) => {
      started.resolve();
      await new Promise((r) => setTimeout(r, 50));
      await conn.run('INSERT INTO probe VALUES (42)');
      return 'written';
    });
    await started.promise;
    await db.close();
    assert.equal(await writing, 'written');
    await assert.rejects(
      db.write(async () => {}),
      /closed/,
    );
    await assert.rejects(
      db.read(async () => {}),
      /closed/,
    );
    assert.equal(walBytes(file), 0, 'close() checkpointed');
    const reopened = await openDuckDb(file, logger);
    try {
      assert.deepEqual(await reopened.read((conn) => rows(conn, 'SELECT v FROM probe')), [[42]]);
    } finally {
      await reopened.close();
    }
  });
});

test('the memory limit and thread count are applied, and memory() reports use against that limit', async () => {
  const db = await openDuckDb(freshFile(), logger, { memoryLimit: '100MiB', threads: 1 });
  try {
    const [[limit, threads]] = (await db.read((conn) =>
      rows(conn, "SELECT current_setting('memory_limit'), current_setting('threads')"),
    )) as [[string, number]];
    assert.equal(limit, '100.0 MiB');
    assert.equal(Number(threads), 1);
    await db.write((conn) => conn.run('CREATE TABLE filler AS SELECT range AS n FROM range(200000)'));
    const memory = await db.memory();
    // Freed memory goes back to the system after any task that allocated more than 16 MiB, and
    // jemalloc's background threads purge freed pages on time.
    const [[flushAbove, bulkFlushAbove, backgroundThreads]] = (await db.read((conn) =>
      rows(
        conn,
        "SELECT current_setting('allocator_flush_threshold'), current_setting('allocator_bulk_deallocation_flush_threshold'), current_setting('allocator_background_threads')",
      ),
    )) as [[string, string, boolean]];
    assert.equal(flushAbove, '16.0 MiB');
    assert.equal(bulkFlushAbove, '64.0 MiB');
    assert.equal(backgroundThreads, true);
    assert.equal(memory.limit, '100.0 MiB');
    assert.ok(memory.usedBytes > 0, `DuckDB holds the new table's blocks: ${memory.usedBytes}`);
  } finally {
    await db.close();
  }
});

// With it, DuckDB joins a top-N of at most 50 rows back to a scan of the whole table's row ids,
// which the list pages' own pick-then-fetch makes redundant (docs/memory.md).
test("a top-N of 50 rows is not joined back to the whole table (DuckDB's late materialization off)", async () => {
  const db = await openDuckDb(freshFile(), logger);
  try {
    await db.write((conn) =>
      conn.run("CREATE TABLE listed AS SELECT range AS t, range % 7 AS kind, 'x' AS body FROM range(20000)"),
    );
    const plan = await db.read((conn) =>
      rows(conn, 'EXPLAIN SELECT rowid FROM listed WHERE kind = 3 ORDER BY t DESC LIMIT 50'),
    );
    const text = plan.map((row) => String(row[1])).join('\n');
    assert.match(text, /TOP_N/);
    assert.doesNotMatch(text, /JOIN/, text);
  } finally {
    await db.close();
  }
});

test('sizes as DuckDB prints its settings are read in bytes', () => {
  assert.equal(parseDuckDbBytes('192.0 MiB'), 192 * 2 ** 20);
  assert.equal(parseDuckDbBytes('1.5 GiB'), 1.5 * 2 ** 30);
  assert.equal(parseDuckDbBytes('2.0 GB'), 2e9);
  assert.equal(parseDuckDbBytes('0 bytes'), 0);
  assert.throws(() => parseDuckDbBytes('lots'), /unexpected DuckDB size/);
  assert.throws(() => parseDuckDbBytes('3 parsecs'), /unexpected DuckDB size/);
});

test('a read that runs out of memory is tried once more, then refused as retryable, and frees its reader', async () => {
  const db = await openDuckDb(freshFile(), logger, { memoryLimit: '16MiB', threads: 1, readers: 1 });
  try {
    let attempts = 0;
    // A list of 10M integers (~80 MB) cannot be built under a 16 MiB limit, and cannot spill.
    const tooBig = db.read((conn) => {
      attempts++;
      return conn.run('SELECT list(range) FROM range(10000000)');
    });
    await assert.rejects(tooBig, (err: unknown) => {
      assert.ok(err instanceof AppError, String(err));
      assert.equal(err.kind, 'unavailable');
      assert.equal(err.retryAfterSeconds, 5);
      assert.match(err.message, /out of memory/);
      return true;
    });
    assert.equal(attempts, 2);
    // The one reader connection went back to the pool both times.
    const [[answer]] = (await db.read((conn) => rows(conn, 'SELECT 42'))) as [[number]];
    assert.equal(answer, 42);
  } finally {
    await db.close();
  }
});

describe('rows of a commit', () => {
  const appendRows = (db: DuckDb, from: number, count: number) =>
    db.write((conn) =>
      conn.run(
        `INSERT INTO wide SELECT 'k' || (range + ${from}), repeat('x', 500) || range FROM range(${count})`,
      ),
    );

  test('a commit of at least 2,048 rows goes to the file at commit, not into memory until a checkpoint', async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger, { idleCheckpointMs: 0 });
    try {
      await db.write((conn) => conn.run('CREATE TABLE wide (id VARCHAR, body VARCHAR)'));
      await appendRows(db, 0, 3000);
      const [[persistent, inMemory]] = (await db.read((conn) =>
        rows(
          conn,
          `SELECT count(*) FILTER (WHERE persistent), count(*) FILTER (WHERE NOT persistent)
           FROM pragma_storage_info('wide') WHERE row_group_id = 0`,
        ),
      )) as [[number, number]];
      assert.ok(Number(persistent) > 0, 'the first full row group was written to the file at commit');
      assert.equal(Number(inMemory), 0);
    } finally {
      await db.close();
    }
  });

  /**
   * Commits of 1,000 rows (under a row group, so they wait in memory) until the writer has decided
   * `decisions` times to checkpoint for the memory they hold (or maxCommits); for each decision, the
   * number of commits before it and the held bytes it logged.
   */
  async function heldMemoryCheckpoints(
    memoryLimit: string,
    maxCommits: number,
    { decisions = 1, spacing }: { decisions?: number; spacing?: number } = {},
  ): Promise<Array<{ commits: number; heldBytes: number }>> {
    const lines: Array<{ msg: string; heldBytes?: number }> = [];
    const debugLogger = createLogger('debug', { write: (line: string) => lines.push(JSON.parse(line)) });
    const decided = () => lines.filter((line) => line.msg.includes('held in memory passed their share'));
    const found: Array<{ commits: number; heldBytes: number }> = [];
    const db = await openDuckDb(freshFile(), debugLogger, {
      idleCheckpointMs: 0,
      memoryLimit,
      threads: 1,
      heldMemoryCheckpointSpacing: spacing,
    });
    try {
      await db.write((conn) => conn.run('CREATE TABLE wide (id VARCHAR, body VARCHAR)'));
      for (let commit = 0; commit < maxCommits && found.length < decisions; commit++) {
        // The check queued after a write runs before the next write, so a decision is never missed.
        await appendRows(db, commit * 1000, 1000);
        const decision = decided()[found.length];
        if (decision) {
          // The write that just finished waited behind the checkpoint, which logs when it is done.
          const checkpointed = lines
            .slice(lines.indexOf(decision))
            .some((line) => line.msg === 'DuckDB checkpoint');
          assert.ok(checkpointed, 'the checkpoint ran');
          const [[count]] = (await db.read((conn) => rows(conn, 'SELECT count(*) FROM wide'))) as [[bigint]];
          assert.equal(Number(count), (commit + 1) * 1000, 'every committed row is there');
          found.push({ commits: commit + 1, heldBytes: Number(decision.heldBytes) });
        }
        await new Promise((r) => setTimeout(r, 100)); // the check runs at most once a second
      }
      return found;
    } finally {
      await db.close();
    }
  }

  test('rows held in memory past a quarter of the memory limit are checkpointed between writes', async () => {
    // ~1 KB per row waits in memory: a quarter of 48 MiB after ~12 commits.
    const [first] = await heldMemoryCheckpoints('48MiB', 200);
    assert.ok(first, 'checkpointed');
    assert.ok(first.commits > 1, `checkpointed after ${first.commits} commits`);
    assert.ok(first.heldBytes >= 12 * 2 ** 20, `at ${first.heldBytes} bytes held`);
  });

  test('rows held in memory well under a quarter of the limit wait for an idle or asked-for checkpoint', async () => {
    assert.deepEqual(await heldMemoryCheckpoints('1GiB', 20), []);
  });

  test('the next checkpoint for held memory waits its spacing after the last, unless held memory reaches twice its share', async () => {
    // A spacing no test outlasts: the second checkpoint waits until the rows pass half of 48 MiB.
    const [first, second] = await heldMemoryCheckpoints('48MiB', 400, { decisions: 2, spacing: 1e6 });
    assert.ok(first && second, 'checkpointed twice');
    assert.ok(second.heldBytes >= 24 * 2 ** 20, `the second at ${second.heldBytes} bytes held`);
    assert.ok(second.commits - first.commits > 12, 'more rows waited in memory than before the first');
  });

  test('the memory check counts only rows as held: index nodes wait for their own, larger share', () => {
    const MiB = 2 ** 20;
    const rules = {
      heldRowsShare: 1 / 4,
      indexReopenShare: 1 / 2,
      written: true,
      lastCheckpointLongAgo: true,
    };
    const at = (rowMiB: number, indexMiB: number, changes: Partial<typeof rules> = {}) =>
      memoryAction(
        { rowBytes: rowMiB * MiB, indexBytes: indexMiB * MiB, limitBytes: 128 * MiB },
        { ...rules, ...changes },
      );
    // 20 MiB of rows and 40 of index nodes: together past a quarter of 128 MiB, each under its own share.
    assert.equal(at(20, 40), null);
    assert.equal(at(32, 40), 'checkpoint');
    assert.equal(at(20, 64), 'reopen');
    assert.equal(at(40, 64), 'reopen', 'the reopen checkpoints first, so it takes the rows too');
    assert.equal(at(40, 10, { written: false }), null, 'nothing written since the last checkpoint');
    assert.equal(at(40, 10, { lastCheckpointLongAgo: false }), null, 'the spacing after the last checkpoint');
    assert.equal(
      at(64, 10, { lastCheckpointLongAgo: false }),
      'checkpoint',
      'twice the share skips the spacing',
    );
  });

  /** ART_INDEX bytes in DuckDB's memory: index nodes loaded or changed. */
  const indexMemory = async (db: DuckDb) => {
    const [[bytes]] = (await db.read((conn) =>
      rows(conn, "SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'ART_INDEX'"),
    )) as [[string]];
    return Number(bytes);
  };

  /**
   * A file with 20,000 spans (the seed's indexes), opened again with `indexMemoryReopenShare`, then
   * 300 lookups by trace id a second apart in groups (the check runs at most once a second). Returns
   * the messages logged and the indexes' memory at its highest and at the end.
   */
  async function lookUpTraces(
    indexMemoryReopenShare: number,
    afterReopen?: (reader: DuckDBConnection, db: DuckDb) => Promise<void>,
  ) {
    const file = freshFile();
    const filled = await openDuckDb(file, logger, { idleCheckpointMs: 0 });
    await filled.write((conn) =>
      conn.run(`INSERT INTO spans (trace_id, span_id, service_name, start_time, end_time)
                SELECT md5(i::VARCHAR), left(md5((-i)::VARCHAR), 16), 'svc', now(), now() FROM range(20000) t(i)`),
    );
    await filled.close();
    const messages: string[] = [];
    // Debug: a reopen soon after the last is logged at debug once one warning has said so.
    const debugLogger = createLogger('debug', {
      write: (line: string) => messages.push((JSON.parse(line) as { msg: string }).msg),
    });
    // 64 MiB and a share of 1/256: the threshold is 256 KiB of loaded index nodes.
    const db: DuckDb = await openDuckDb(file, debugLogger, {
      idleCheckpointMs: 0,
      memoryLimit: '64MiB',
      indexMemoryReopenShare,
      ...(afterReopen && { afterReopen: (reader: DuckDBConnection) => afterReopen(reader, db) }),
    });
    let highest = 0;
    try {
      for (let group = 0; group < 3; group++) {
        for (let i = group * 100; i < (group + 1) * 100; i++) {
          const found = await db.read((conn) =>
            rows(conn, `SELECT span_id FROM spans WHERE trace_id = md5('${i}')`),
          );
          assert.deepEqual(found.length, 1, `trace ${i} is found`);
        }
        highest = Math.max(highest, await indexMemory(db));
        await new Promise((r) => setTimeout(r, 1100));
      }
      await db.read((conn) => rows(conn, 'SELECT 1')); // the last group's check
      await db.write(async () => {}); // and it has run (it is queued on the writer)
      return { messages, highest, last: await indexMemory(db) };
    } finally {
      await db.close();
    }
  }

  test('index nodes loaded by lookups past their share of the limit are released by opening the file again', async () => {
    const { messages, highest, last } = await lookUpTraces(1 / 256);
    assert.ok(highest > 256 * 1024, `lookups loaded ${highest} bytes of index nodes`);
    assert.ok(
      messages.includes('DuckDB opened its file again to release loaded index nodes'),
      messages.join(' | '),
    );
    assert.ok(last < highest, `index memory ${last} after the reopen, ${highest} before`);
  });

  test('after opening the file again it runs afterReopen on a reader connection', async () => {
    const found: number[] = [];
    const { messages } = await lookUpTraces(1 / 256, async (reader) => {
      // Trace 0 was read first: its index nodes went with the reopen, and this loads them again.
      found.push((await rows(reader, "SELECT span_id FROM spans WHERE trace_id = md5('0')")).length);
    });
    const reopens = messages.filter((msg) => msg.includes('to release loaded index nodes')).length;
    assert.ok(reopens >= 1, messages.join(' | '));
    assert.deepEqual(found, Array(reopens).fill(1));
  });

  test('reads and writes go on while afterReopen runs', async () => {
    const events: string[] = [];
    await lookUpTraces(1 / 256, async (_reader, db) => {
      if (events.length > 0) return; // the first reopen tells
      const read = db.read((conn) => rows(conn, 'SELECT 1')).then(() => 'read');
      const insert = db.write((conn) =>
        conn.run(`INSERT INTO spans (trace_id, span_id, service_name, start_time, end_time)
                  VALUES ('written-meanwhile', 'written-meanwhile', 'svc', now(), now())`),
      );
      // Were either waiting for this function, it would wait for the timeout.
      const timeout = new AbortController();
      const waited = sleep(5000, 'waited', { signal: timeout.signal }).catch(() => 'cancelled');
      events.push(await Promise.race([insert.then(() => 'written'), waited]));
      events.push(await Promise.race([read, waited]));
      timeout.abort();
      events.push('afterReopen done');
    });
    assert.deepEqual(events, ['written', 'read', 'afterReopen done']);
  });

  test('index nodes loaded under their share of the limit stay loaded', async () => {
    const { messages, highest, last } = await lookUpTraces(1);
    assert.ok(!messages.some((msg) => msg.includes('to release loaded index nodes')), messages.join(' | '));
    assert.ok(last >= highest, `index memory ${last} at the end, ${highest} at its highest`);
  });

  const rowGroups = async (db: DuckDb) => {
    const [[groups]] = (await db.read((conn) =>
      rows(conn, "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('wide')"),
    )) as [[bigint]];
    return Number(groups);
  };

  test("a checkpoint leaves the commits' partly filled row groups as they are (no vacuum)", async () => {
    const file = freshFile();
    const db = await openDuckDb(file, logger, { idleCheckpointMs: 0 });
    try {
      await db.write((conn) => conn.run('CREATE TABLE wide (id VARCHAR, body VARCHAR)'));
      // Each commit writes its own row groups: 2,048 rows and a partial one of 952.
      for (let commit = 0; commit < 4; commit++) await appendRows(db, commit * 3000, 3000);
      assert.equal(await rowGroups(db), 8);
      await db.checkpoint();
      // A vacuum would merge the four 952-row groups (and recompress them); the count would fall.
      assert.equal(await rowGroups(db), 8);
    } finally {
      await db.close();
    }
  });
});
