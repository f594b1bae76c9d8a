// Messages between the main thread and the ingestion worker (single-process mode).
import type { Config } from '../../config.ts';
import type { ReadLimits } from '../wal_source.ts';

export interface WorkerInit {
  config: Config;
}

export type WorkerRequest =
  | { id: number; op: 'read'; afterKey: bigint | null; limits: ReadLimits }
  | { id: number; op: 'release'; key: bigint }
  | { id: number; op: 'facts' }
  | { id: number; op: 'close' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'appended' }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; message: string };
