// An ingestion worker that makes short-lived garbage the way decoding exports does, then answers
// `facts` with the size its young generation grew to (ingestion_thread.test.ts).
import v8 from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { WorkerMessage, WorkerRequest } from '../../src/ingestion/worker/protocol.ts';

let batch: object[] = [];
for (let i = 0; i < 200_000; i++) {
  batch.push({ spanId: i, name: `span ${i}` });
  if (batch.length > 5_000) batch = [];
}
const newSpaceBytes = v8
  .getHeapSpaceStatistics()
  .find((space) => space.space_name === 'new_space')?.space_size;

const port = parentPort!;
const send = (message: WorkerMessage) => port.postMessage(message);
port.on('message', (request: WorkerRequest) => {
  if (request.op === 'facts') send({ type: 'reply', id: request.id, ok: true, value: { newSpaceBytes } });
  else if (request.op === 'close') send({ type: 'reply', id: request.id, ok: true, value: null });
});
send({ type: 'ready' });
