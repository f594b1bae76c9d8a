// Starts every store, service and listener the configured role needs, and stops them in reverse
// order: listeners first (no new work), then the poller (finishes its batch), then the WAL and the
// databases (open transactions finished, files closed).
//
//   all        one process: ingestion (OTLP receivers → WAL) on a worker thread; poller → span
//              store (DuckDB), REST API + web UI on the main thread
//   ingestion  OTLP receivers → WAL, serves ReadSpans (:50052), checks keys via ValidateApiKey
//   backend    one poller per ingestion node (ReadSpans) → span store, serves ValidateApiKey (:50053),
//              REST API + web UI
//   (the internal services listen on JUNJO_INTERNAL_HOST and require JUNJO_INTERNAL_SECRET)
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { createAccounts } from './accounts.ts';
import { adminTokenFile, type Config, readOrCreateSecretFile } from './config.ts';
import { ClickHouseSpanStore } from './db_clickhouse/clickhouse_span_store.ts';
import { DuckDbSpanStore } from './db_duckdb/duckdb_span_store.ts';
import { openSqlite } from './db_sqlite/connection.ts';
import {
  createNodePollerStateRepository,
  createPollerStateRepository,
} from './db_sqlite/poller_state/poller_state_repository.ts';
import { createSignInAttemptsRepository } from './db_sqlite/sign_in_attempts/sign_in_attempts_repository.ts';
import { systemClock } from './features/auth/clock.ts';
import { BackupService } from './features/backup/backup_service.ts';
import { backupRoutes } from './features/backup/routes.ts';
import { type HealthSource, healthRoutes, processMemory } from './features/health/routes.ts';
import { addValidateApiKeyService, GrpcApiKeyValidator } from './features/internal_auth/grpc_validator.ts';
import { createLlmService } from './features/llm/llm_service.ts';
import { llmRoutes } from './features/llm/routes.ts';
import { Metrics } from './features/metrics/metrics.ts';
import { metricsRoutes } from './features/metrics/routes.ts';
import { otelRoutes } from './features/otel/routes.ts';
import { searchRoutes } from './features/search/routes.ts';
import { webUiRoutes } from './features/web/routes.ts';
import { workflowRunRoutes } from './features/workflow_runs/routes.ts';
import { workflowStatsRoutes } from './features/workflow_stats/routes.ts';
import { requireInternalSecret } from './grpc/internal_secret.ts';
import { buildHttpApp, type HttpPlugin } from './http/app.ts';
import { startIngestion } from './ingestion/ingestion_service.ts';
import { readOrCreateNodeId } from './ingestion/node_id.ts';
import { bindGrpc, grpcServerOptions, shutdownGrpc } from './ingestion/otlp_grpc_server.ts';
import { addReadSpansService, GrpcWalSource } from './ingestion/read_spans_service.ts';
import type { WalSource } from './ingestion/wal_source.ts';
import { lowerIndexingPriority } from './ingestion/worker/indexing_priority.ts';
import { IngestionThread } from './ingestion/worker/ingestion_thread.ts';
import type { Logger } from './logger.ts';
import type { SpanStore } from './spans/span_store.ts';
import { IngestionPoller, pollersFacts } from './telemetry/ingestion_poller.ts';
import { RetentionJob } from './telemetry/retention.ts';

/** The main thread's nice value in one process (see indexing_priority.ts): ~1/9 of the ingestion thread's CPU weight. */
const INDEXING_NICENESS = 10;

export interface RunningServer {
  close(): Promise<void>;
  /** Settles if a part the server cannot work without dies after start (the ingestion thread). */
  failed: Promise<Error>;
}

/**
 * Internal gRPC server (split mode) with the standard health service registered: on the internal
 * interface (loopback unless configured), and only for callers holding the internal secret.
 */
async function startInternalGrpc(
  config: Config,
  logger: Logger,
  port: number,
  serviceName: string,
  register: (server: grpc.Server) => void,
): Promise<grpc.Server> {
  const server = new grpc.Server({
    ...grpcServerOptions(config.maxRequestBytes),
    interceptors: [requireInternalSecret(config.internal.secret, logger)],
  });
  register(server);
  new HealthImplementation({ '': 'SERVING', [serviceName]: 'SERVING' }).addToServer(server);
  await bindGrpc(server, config.internal.host, port, grpc.ServerCredentials.createInsecure());
  return server;
}

/** JUNJO_SPAN_STORE: the embedded DuckDB file, or ClickHouse (docs/scale-out.md). */
function openSpanStore(config: Config, logger: Logger): Promise<SpanStore> {
  const chosen = config.spanStore;
  if (chosen.kind === 'duckdb') return DuckDbSpanStore.open(config.paths.duckdb, logger, config.duckdb);
  return ClickHouseSpanStore.open({ ...chosen, retentionDays: config.retentionDays }, logger);
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const closers: Array<{ name: string; close: () => Promise<void> | void }> = [];
  const onClose = (name: string, close: () => Promise<void> | void) => closers.push({ name, close });
  const close = async () => {
    for (const { name, close: closeOne } of closers.reverse()) {
      try {
        await closeOne();
      } catch (error) {
        logger.error({ err: error, component: name }, 'error while stopping');
      }
    }
    closers.length = 0;
  };
  const health: HealthSource[] = [() => ({ role: config.role }), processMemory];
  let failed: Promise<Error> = new Promise(() => undefined);

  try {
    if (config.role === 'ingestion') {
      const validator = new GrpcApiKeyValidator(config.addresses.backendAuth, config.internal.secret, logger);
      onClose('validate-api-key client', () => validator.close());
      const ingestion = await startIngestion(config, logger, { validator });
      onClose('ingestion', () => ingestion.close());
      const nodeId = await readOrCreateNodeId(config.paths.wal);
      logger.info({ nodeId }, 'ingestion node id (kept in the WAL directory)');
      const readSpans = await startInternalGrpc(
        config,
        logger,
        config.ports.readSpans,
        'ingestion.InternalIngestionService',
        (server) => addReadSpansService(server, ingestion.wal, nodeId, logger),
      );
      onClose('read-spans', () => shutdownGrpc(readSpans));
    } else {
      // Stores (the ingestion worker opens its own SQLite connection, after the migrations ran).
      const sqlite = openSqlite(config.paths.sqlite, logger);
      onClose('sqlite', () => sqlite.close());
      const store = await openSpanStore(config, logger);
      onClose('span store', () => store.close());
      // DuckDB: the query API's derived tables, created, and back-filled once from an older
      // database (minutes for tens of millions of spans, hence the log lines). ClickHouse: the
      // server's reachability, credentials and version checked, the schema migrated.
      const preparing = Date.now();
      logger.info('preparing the span store');
      await store.prepare();
      logger.info({ ms: Date.now() - preparing }, 'span store ready');
      health.push(async () => ({
        span_store: await store.stats().then(
          (stats) => ({
            spans: stats.spans,
            bytes: stats.bytes,
            memory_bytes: stats.memoryBytes,
            memory_limit: stats.memoryLimit,
            upkeep: store.upkeep(),
          }),
          (err: unknown) => ({ error: String(err) }),
        ),
      }));
      const accounts = createAccounts({ sqlite, config, logger });

      // Where the pollers read accepted exports from: the worker thread's WAL, or each ingestion
      // node's ReadSpans (one poller per node, so a node that is down holds up only its own).
      const sources: Array<{ node: string; source: WalSource }> = [];
      let ingestionFacts: IngestionThread['facts'] | null = null;
      if (config.role === 'all') {
        const thread = await IngestionThread.start(config);
        onClose('ingestion thread', () => thread.close());
        failed = thread.failed;
        // After the worker started, so that it keeps the priority this thread had.
        lowerIndexingPriority(INDEXING_NICENESS, logger);
        ingestionFacts = () => thread.facts();
        health.push(ingestionFacts);
        sources.push({ node: 'local', source: thread });
      } else {
        for (const address of config.addresses.ingestion) {
          const remote = new GrpcWalSource(address, config.internal.secret);
          onClose(`read-spans client ${address}`, () => remote.close());
          sources.push({ node: address, source: remote });
        }
        const internalAuth = await startInternalGrpc(
          config,
          logger,
          config.ports.internalAuth,
          'ingestion.InternalAuthService',
          (server) => addValidateApiKeyService(server, accounts.apiKeyValidator, logger),
        );
        onClose('internal-auth', () => shutdownGrpc(internalAuth));
      }
      // Read at scrape time only, once the pollers below exist.
      const metrics = new Metrics({
        ingestion: ingestionFacts,
        pollers: () => pollers.map((poller) => poller.facts()),
        duckdbPath: config.paths.duckdb,
        upkeep: () => store.upkeep(),
      });
      const pollers = sources.map(
        ({ node, source }, index) =>
          new IngestionPoller({
            node,
            source,
            store,
            // The first configured node inherits the position of a backend that read only one.
            pollerState: (nodeId) =>
              nodeId === null
                ? createPollerStateRepository(sqlite)
                : createNodePollerStateRepository(sqlite, nodeId, { adoptUnclaimedRow: index === 0 }),
            logger: logger.child({ component: 'poller', node }),
            intervalMs: config.pollIntervalMs,
            deadLetterDir: path.join(config.paths.dataDir, 'dead-letter'),
            onBatch: (pollerNode, batch) => metrics.observeBatch(pollerNode, batch),
          }),
      );
      for (const poller of pollers) {
        await poller.start();
        onClose(`poller ${poller.facts().node}`, () => poller.stop());
      }
      health.push(() => pollersFacts(pollers));

      // JUNJO_RETENTION_DAYS: old spans deleted at start and hourly, a few thousand per transaction.
      const retention = new RetentionJob({
        store,
        days: config.retentionDays,
        logger: logger.child({ component: 'retention' }),
      });
      retention.start();
      onClose('retention', () => retention.stop());
      health.push(() => retention.facts());

      // The web UI's catch-all comes last so it never shadows an API route.
      const features: HttpPlugin[] = [
        healthRoutes(health),
        ...accounts.features,
        otelRoutes({ store }),
        workflowStatsRoutes({ store }),
        searchRoutes({ store }),
        workflowRunRoutes({ store }),
        metricsRoutes({ token: config.metricsToken, metrics }),
        backupRoutes({
          token: readOrCreateSecretFile(adminTokenFile(config)),
          backups: new BackupService({
            store,
            sqlite,
            // One process has one poller; a split backend's backups do not wait for any (see there).
            poller: pollers[0]!,
            ingestion: ingestionFacts,
            logger: logger.child({ component: 'backup' }),
          }),
        }),
        llmRoutes(
          createLlmService({
            providers: config.llm.providers,
            timeoutMs: config.llm.timeoutMs,
            logger: logger.child({ component: 'llm' }),
            clock: systemClock,
          }),
          {
            generationsPerMinute: config.llm.generationsPerMinute,
            timeoutMs: config.llm.timeoutMs,
            clock: systemClock,
            attempts: createSignInAttemptsRepository(sqlite),
          },
        ),
        webUiRoutes(),
      ];
      const http = await buildHttpApp({
        logger,
        production: config.production,
        trustProxy: config.trustProxy,
        guards: [metrics.httpTimer(), ...accounts.guards],
        features,
      });
      await http.listen({ host: config.host, port: config.ports.http });
      onClose('http', () => http.close());
    }

    logger.info(
      { role: config.role, dataDir: config.paths.dataDir, ports: config.ports },
      'junjo-server started',
    );
    return { close, failed };
  } catch (error) {
    await close();
    throw error;
  }
}
