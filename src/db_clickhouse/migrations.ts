// Versioned migrations (schema.ts MIGRATIONS): the versions applied are rows of
// junjo_schema_versions; each missing one runs in order and is recorded after its statements
// succeed (they are idempotent, so a start interrupted in the middle simply runs it again). A
// database written by a newer junjo-server is refused instead of being half understood.
import type { ClickHouseClient } from '@clickhouse/client';
import { StartupError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  bootstrapStatements,
  MIGRATIONS,
  recordDeletionStatement,
  retentionStatements,
  SCHEMA_VERSION,
  type SchemaTarget,
} from './schema.ts';

export async function migrate(
  client: ClickHouseClient,
  target: SchemaTarget,
  logger: Logger,
  retentionDays: number | null,
): Promise<void> {
  for (const query of bootstrapStatements(target)) await client.command({ query });
  const applied = await appliedVersions(client, target);
  const newest = Math.max(0, ...applied);
  if (newest > SCHEMA_VERSION) {
    throw new StartupError(
      `ClickHouse database ${target.database} has schema version ${newest}, newer than this junjo-server knows (${SCHEMA_VERSION}): upgrade junjo-server`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    logger.info({ version: migration.version, description: migration.description }, 'ClickHouse migration');
    for (const query of migration.statements(target)) await client.command({ query });
    await client.insert({
      table: `${target.database}.junjo_schema_versions`,
      values: [{ version: migration.version, description: migration.description }],
      format: 'JSONEachRow',
    });
  }
  let ttlRemoved = false;
  for (const query of retentionStatements(target, retentionDays)) {
    const applied = await client.command({ query }).then(
      () => true,
      (error: unknown) => {
        // REMOVE TTL on a table that never had one is refused; that is the state wanted.
        if (retentionDays !== null || !/TTL/i.test(String(error))) throw error;
        return false;
      },
    );
    if (retentionDays === null && applied) ttlRemoved = true;
  }
  // The TTL taken away may have dropped spans until now; the service list must know (schema.ts).
  if (ttlRemoved) await client.command({ query: recordDeletionStatement(target, "now64(6, 'UTC')") });
}

async function appliedVersions(client: ClickHouseClient, target: SchemaTarget): Promise<Set<number>> {
  const result = await client.query({
    query: `SELECT DISTINCT version FROM ${target.database}.junjo_schema_versions`,
    format: 'JSONCompactEachRow',
  });
  return new Set(((await result.json()) as number[][]).map(([version]) => Number(version)));
}
