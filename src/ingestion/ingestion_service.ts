// The ingestion side of the server: WAL, backpressure, the shared accept path and both public
// OTLP receivers. Started by the `ingestion` role in its process, and by the `all` role inside
// the ingestion worker thread (so decoding never competes with the API's event loop).
import type { Config } from '../config.ts';
import type { ApiKeyValidator } from '../features/internal_auth/api_key_validator.ts';
import type { Logger } from '../logger.ts';
import { Backpressure } from './backpressure.ts';
import { bindGrpc, createOtlpGrpcServer, grpcServerCredentials, shutdownGrpc } from './otlp_grpc_server.ts';
import { buildOtlpHttpServer } from './otlp_http_server.ts';
import { RequestBytesBudget } from './request_budget.ts';
import { type IngestCounters, TraceIngest } from './trace_ingest.ts';
import { type WalStats, WriteAheadLog } from './wal/wal.ts';

/** What ingestion reports (on /health, and to /metrics through the worker thread). */
export interface IngestionFacts {
  ingestion: IngestCounters & {
    backlog_bytes: number;
    free_disk_bytes: number;
    inflight_request_bytes: number;
    wal: WalStats;
    /** CPU of the thread the receivers and the WAL run on, and the part of it spent decoding and validating. */
    thread_cpu_ms: number;
    decode_validate_cpu_ms: number;
  };
}

export interface IngestionService {
  wal: WriteAheadLog;
  facts(): IngestionFacts;
  /** Stops the listeners (in-flight exports finish), then closes the WAL. */
  close(): Promise<void>;
}

function threadCpuMs(): number {
  const usage = process.threadCpuUsage();
  return Math.round((usage.user + usage.system) / 1000);
}

export async function startIngestion(
  config: Config,
  logger: Logger,
  deps: { validator: ApiKeyValidator },
): Promise<IngestionService> {
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) {
      try {
        await closeOne();
      } catch (error) {
        logger.error({ err: error }, 'error while stopping ingestion');
      }
    }
    closers.length = 0;
  };
  try {
    const wal = await WriteAheadLog.open(config.paths.wal, {
      groupCommitMs: config.walGroupCommitMs,
      logger,
    });
    closers.push(() => wal.close());
    const backpressure = new Backpressure({
      backlogBytes: () => wal.backlogBytes(null),
      maxBacklogBytes: config.maxBacklogBytes,
      walDir: config.paths.wal,
      minFreeDiskBytes: config.minFreeDiskBytes,
      logger,
    });
    await backpressure.start();
    closers.push(() => backpressure.stop());
    const requestBudget = new RequestBytesBudget(config.maxInflightRequestBytes);
    const ingest = new TraceIngest({
      validator: deps.validator,
      wal,
      backpressure,
      requestBudget,
      maxRequestBytes: config.maxRequestBytes,
      logger: logger.child({ component: 'ingestion' }),
    });

    const otlpGrpc = createOtlpGrpcServer(ingest, logger, config.maxRequestBytes);
    await bindGrpc(otlpGrpc, config.host, config.ports.otlpGrpc, grpcServerCredentials(config));
    closers.push(() => shutdownGrpc(otlpGrpc));

    const otlpHttp = await buildOtlpHttpServer(ingest, logger, config.maxRequestBytes);
    await otlpHttp.listen({ host: config.host, port: config.ports.otlpHttp });
    closers.push(() => otlpHttp.close());

    return {
      wal,
      facts: () => ({
        ingestion: {
          ...ingest.counters,
          ...backpressure.facts(),
          inflight_request_bytes: requestBudget.inUseBytes,
          wal: wal.stats(),
          thread_cpu_ms: threadCpuMs(),
          decode_validate_cpu_ms: Math.round(ingest.cpu.decode_validate_ms),
        },
      }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
