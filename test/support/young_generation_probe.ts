// Started with the launcher's V8 flags (ingestion_thread.test.ts): prints how large the ingestion
// thread's young generation grew under those flags.
import { loadConfig } from '../../src/config.ts';
import { IngestionThread } from '../../src/ingestion/worker/ingestion_thread.ts';

const thread = await IngestionThread.start(
  loadConfig({}),
  new URL('./young_generation_worker.ts', import.meta.url),
);
console.log(JSON.stringify(await thread.facts()));
await thread.close();
