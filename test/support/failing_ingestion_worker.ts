// An ingestion worker that starts, answers `close`, and dies of an uncaught error when asked for
// its facts: what IngestionThread must notice after start-up (ingestion_thread.test.ts).
import { parentPort } from 'node:worker_threads';
import type { WorkerMessage, WorkerRequest } from '../../src/ingestion/worker/protocol.ts';

const port = parentPort!;
const send = (message: WorkerMessage) => port.postMessage(message);
port.on('message', (request: WorkerRequest) => {
  if (request.op === 'close') send({ type: 'reply', id: request.id, ok: true, value: null });
  else if (request.op === 'facts')
    setImmediate(() => {
      throw new Error('worker failed on purpose');
    });
});
send({ type: 'ready' });
