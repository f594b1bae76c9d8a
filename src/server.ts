// Starts every store, service and listener the configured role needs, and stops them in reverse
// order: listeners first (no new work), then the poller (finishes its batch), then the WAL and the
// databases (open transactions finished, files closed).
//
//   all        one process: OTLP receivers → WAL → poller → DuckDB, REST API + web UI
//   ingestion  OTLP receivers → WAL, serves ReadSpans (:50052), checks keys via ValidateApiKey
//   backend    poller reading ReadSpans → DuckDB, serves ValidateApiKey (:50053), REST API + web UI
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { createAccounts } from './accounts.ts';
import type { Config } from './config.ts';
import { openDuckDb } from './db_duckdb/connection.ts';
import { SpanRepository } from './db_duckdb/span_repository.ts';
import { openSqlite } from './db_sqlite/connection.ts';
import { createPollerStateRepository } from './db_sqlite/poller_state/poller_state_repository.ts';
import { type HealthSource, healthRoutes } from './features/health/routes.ts';
import type { ApiKeyValidator } from './features/internal_auth/api_key_validator.ts';
import { addValidateApiKeyService, GrpcApiKeyValidator } from './features/internal_auth/grpc_validator.ts';
import { otelRoutes } from './features/otel/routes.ts';
import { webUiRoutes } from './features/web/routes.ts';
import { buildHttpApp, type HttpPlugin } from './http/app.ts';
import { Backpressure } from './ingestion/backpressure.ts';
import {
  addOtlpServices,
  bindGrpc,
  grpcServerCredentials,
  grpcServerOptions,
  shutdownGrpc,
} from './ingestion/otlp_grpc_server.ts';
import { buildOtlpHttpServer } from './ingestion/otlp_http_server.ts';
import { addReadSpansService, GrpcWalSource } from './ingestion/read_spans_service.ts';
import { TraceIngest } from './ingestion/trace_ingest.ts';
import { WriteAheadLog } from './ingestion/wal/wal.ts';
import type { Logger } from './logger.ts';
import { ConvertedCache } from './telemetry/converted_cache.ts';
import { IngestionPoller } from './telemetry/ingestion_poller.ts';
import { localWalSource } from './telemetry/local_wal_source.ts';
import type { WalSource } from './telemetry/wal_source.ts';

export interface RunningServer {
  close(): Promise<void>;
}

/** Internal gRPC server (split mode) with the standard health service registered. */
async function startInternalGrpc(
  config: Config,
  port: number,
  serviceName: string,
  register: (server: grpc.Server) => void,
): Promise<grpc.Server> {
  const server = new grpc.Server(grpcServerOptions(config.maxRequestBytes));
  register(server);
  new HealthImplementation({ '': 'SERVING', [serviceName]: 'SERVING' }).addToServer(server);
  await bindGrpc(server, config.host, port, grpc.ServerCredentials.createInsecure());
  return server;
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
  const runsIngestion = config.role !== 'backend';
  const runsBackend = config.role !== 'ingestion';
  const health: HealthSource[] = [() => ({ role: config.role })];

  try {
    // Stores.
    const sqlite = runsBackend ? openSqlite(config.paths.sqlite, logger) : null;
    if (sqlite) onClose('sqlite', () => sqlite.close());
    const duckdb = runsBackend ? await openDuckDb(config.paths.duckdb, logger) : null;
    if (duckdb) onClose('duckdb', () => duckdb.close());
    const wal = runsIngestion
      ? await WriteAheadLog.open(config.paths.wal, { groupCommitMs: config.walGroupCommitMs, logger })
      : null;
    if (wal) onClose('wal', () => wal.close());

    // Services.
    const accounts = sqlite ? createAccounts({ sqlite, config, logger }) : null;
    // One process: the receiver's converted rows go straight to the poller (bounded; misses re-decode).
    const convertedCache = wal && duckdb ? new ConvertedCache(256 * 1024 * 1024) : undefined;
    let poller: IngestionPoller | null = null;
    if (sqlite && duckdb) {
      let source: WalSource;
      if (wal) {
        source = localWalSource(wal);
      } else {
        const remote = new GrpcWalSource(config.addresses.ingestion);
        onClose('read-spans client', () => remote.close());
        source = remote;
      }
      const activePoller = new IngestionPoller({
        source,
        repository: new SpanRepository(duckdb, logger),
        pollerState: createPollerStateRepository(sqlite),
        logger: logger.child({ component: 'poller' }),
        intervalMs: config.pollIntervalMs,
        deadLetterDir: path.join(config.paths.dataDir, 'dead-letter'),
        convertedCache,
      });
      await activePoller.start();
      onClose('poller', () => activePoller.stop());
      health.push(() => activePoller.facts());
      poller = activePoller;
    }

    // Listeners.
    if (wal) {
      let validator: ApiKeyValidator;
      if (accounts) {
        validator = accounts.apiKeyValidator;
      } else {
        const remote = new GrpcApiKeyValidator(config.addresses.backendAuth);
        onClose('validate-api-key client', () => remote.close());
        validator = remote;
      }
      const backpressure = new Backpressure({
        backlogBytes: () => wal.backlogBytes(null),
        maxBacklogBytes: config.maxBacklogBytes,
        walDir: config.paths.wal,
        minFreeDiskBytes: config.minFreeDiskBytes,
        logger,
      });
      await backpressure.start();
      onClose('backpressure', () => backpressure.stop());
      const ingest = new TraceIngest({
        validator,
        wal,
        backpressure,
        maxRequestBytes: config.maxRequestBytes,
        logger: logger.child({ component: 'ingestion' }),
        onAppended: convertedCache ? (key, rows, bytes) => convertedCache.put(key, rows, bytes) : undefined,
      });
      health.push(() => ({
        ingestion: { ...ingest.counters, ...backpressure.facts(), wal: wal.stats() },
      }));

      const otlpGrpc = new grpc.Server(grpcServerOptions(config.maxRequestBytes));
      addOtlpServices(otlpGrpc, ingest, logger);
      await bindGrpc(otlpGrpc, config.host, config.ports.otlpGrpc, grpcServerCredentials(config));
      onClose('otlp-grpc', () => shutdownGrpc(otlpGrpc));

      const otlpHttp = await buildOtlpHttpServer(ingest, logger, config.maxRequestBytes);
      await otlpHttp.listen({ host: config.host, port: config.ports.otlpHttp });
      onClose('otlp-http', () => otlpHttp.close());

      if (!poller) {
        const readSpans = await startInternalGrpc(
          config,
          config.ports.readSpans,
          'ingestion.InternalIngestionService',
          (server) => addReadSpansService(server, localWalSource(wal), logger),
        );
        onClose('read-spans', () => shutdownGrpc(readSpans));
      }
    }
    if (accounts) {
      if (!wal) {
        const internalAuth = await startInternalGrpc(
          config,
          config.ports.internalAuth,
          'ingestion.InternalAuthService',
          (server) => addValidateApiKeyService(server, accounts.apiKeyValidator, logger),
        );
        onClose('internal-auth', () => shutdownGrpc(internalAuth));
      }
      // The web UI's catch-all comes last so it never shadows an API route.
      const features: HttpPlugin[] = [
        healthRoutes(health),
        ...accounts.features,
        ...(duckdb ? [otelRoutes({ duckdb })] : []),
        webUiRoutes(),
      ];
      const http = await buildHttpApp({ logger, guards: accounts.guards, features });
      await http.listen({ host: config.host, port: config.ports.http });
      onClose('http', () => http.close());
    }

    logger.info(
      { role: config.role, dataDir: config.paths.dataDir, ports: config.ports },
      'junjo-server started',
    );
    return { close };
  } catch (error) {
    await close();
    throw error;
  }
}
