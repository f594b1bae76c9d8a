// Entry point of the ingestion worker thread (single-process mode): the OTLP receivers, request
// decoding and validation, and the WAL run here, so the main thread's event loop stays free for
// the REST API and the poller. API keys are checked on this thread's own SQLite connection.
// The poller reads the WAL through messages and converts the records on its own thread: this one
// only decodes and checks each export, so acknowledging stays cheap while indexing is busy.
import { parentPort, workerData } from 'node:worker_threads';
import { createApiKeysRepository } from '../../db_sqlite/api_keys/api_keys_repository.ts';
import { openSqlite } from '../../db_sqlite/connection.ts';
import { LocalApiKeyValidator } from '../../features/internal_auth/api_key_validator.ts';
import { createLogger } from '../../logger.ts';
import { startIngestion } from '../ingestion_service.ts';
import type { WalRecord } from '../wal/wal.ts';
import type { WorkerInit, WorkerMessage, WorkerRequest } from './protocol.ts';

const port = parentPort!;
const { config } = workerData as WorkerInit;
const logger = createLogger(config.logLevel).child({ thread: 'ingestion' });
const send = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
/** Payloads handed to the main thread move instead of being copied by postMessage. */
const transferables = (value: unknown): ArrayBuffer[] =>
  Array.isArray(value) ? (value as WalRecord[]).map((record) => record.payload.buffer as ArrayBuffer) : [];

try {
  const sqlite = openSqlite(config.paths.sqlite, logger);
  const ingestion = await startIngestion(config, logger, {
    validator: new LocalApiKeyValidator(createApiKeysRepository(sqlite)),
  });
  // One wake-up message per quiet period is enough: the poller reads everything available.
  let wakePending = false;
  ingestion.wal.onAppend(() => {
    if (wakePending) return;
    wakePending = true;
    send({ type: 'appended' });
  });

  const handle = async (request: WorkerRequest): Promise<unknown> => {
    switch (request.op) {
      case 'read': {
        wakePending = false;
        // Each record is read into a buffer of its own, which the reply then transfers.
        return ingestion.wal.readAfter(request.afterKey, request.limits);
      }
      case 'release':
        await ingestion.wal.releaseUpTo(request.key);
        return null;
      case 'facts': {
        // This thread's own JavaScript heap and the buffers its objects hold (the process RSS in
        // /health/details includes both).
        const usage = process.memoryUsage();
        return {
          ...ingestion.facts(),
          worker_heap_used_bytes: usage.heapUsed,
          worker_heap_total_bytes: usage.heapTotal,
          worker_array_buffers_bytes: usage.arrayBuffers,
        };
      }
      case 'close':
        await ingestion.close();
        sqlite.close();
        return null;
    }
  };
  port.on('message', (request: WorkerRequest) => {
    handle(request).then(
      (value) => send({ type: 'reply', id: request.id, ok: true, value }, transferables(value)),
      (error: unknown) => send({ type: 'reply', id: request.id, ok: false, message: String(error) }),
    );
  });
  send({ type: 'ready' });
} catch (error) {
  logger.error({ err: error }, 'ingestion worker failed to start');
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
