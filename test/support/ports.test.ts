import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

import { releasePort, reservePort } from './ports.ts';

/** A port below freePort's range (so no other test file draws it) that nobody holds now. */
function unheldPort(): number {
  for (let port = 19_000; port < 20_000; port++) {
    if (reservePort(port)) {
      releasePort(port);
      return port;
    }
  }
  throw new Error('every port in 19000–19999 is reserved');
}

/** Another process that reserves `port` and waits; resolves once its reservation is made. */
async function holder(port: number) {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
      import { reservePort } from ${JSON.stringify(new URL('./ports.ts', import.meta.url).href)};
      console.log(reservePort(${port}) ? 'reserved' : 'refused');
      setInterval(() => {}, 1000);
    `,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return { child, answer: line.toString().trim() };
}

test('a port reserved by a live process is refused to others and taken over once that process is dead', async () => {
  const port = unheldPort();
  const { child, answer } = await holder(port);
  try {
    assert.equal(answer, 'reserved');
    assert.equal(reservePort(port), false, 'the holder is alive: its port must not be handed out again');
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  assert.equal(reservePort(port), true, "a killed holder's reservation is taken over");
  assert.equal(reservePort(port), false, 'a port this process holds is not handed out twice');
});
