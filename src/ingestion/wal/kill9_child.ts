// Child process for kill9.test.ts: appends from several concurrent writers until it is killed and
// prints `<key> <payload id>` for every append the log acknowledged (stdout to a pipe is synchronous
// on Linux, so a printed line has left the process before the next one starts).
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../logger.ts';
import { WriteAheadLog } from './wal.ts';

const [dir, round] = process.argv.slice(2);
const wal = await WriteAheadLog.open(dir!, {
  groupCommitMs: 1,
  segmentBytes: 256 * 1024,
  logger: createLogger('silent'),
});

async function writer(id: number): Promise<never> {
  for (let sequence = 0; ; sequence++) {
    const payloadId = `${round}-${id}-${sequence}`;
    const padding = randomBytes(Math.floor(Math.random() * 16 * 1024)).toString('hex');
    const key = await wal.append(Buffer.from(`${payloadId} ${padding}`), {
      receivedAtMs: Date.now(),
      apiKeyId: `writer-${id}`,
      format: 'protobuf',
    });
    process.stdout.write(`${key} ${payloadId}\n`);
  }
}

await Promise.all([1, 2, 3, 4, 5, 6].map(writer));
