import net from 'node:net';

// Ports are drawn below Linux's ephemeral range (32768–60999 by default). A port the OS handed out
// for `listen(0)` and that we closed again can be taken, before the server under test binds it, by
// any outgoing connection of any process (seen under load: EADDRINUSE at start-up); ports outside
// that range are only ever taken by someone binding them on purpose.
const LOWEST = 20_000;
const RANGE = 12_000;
/** Ports handed out by this process, so two servers of one test file never get the same one. */
const handedOut = new Set<number>();

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now and outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * RANGE);
    if (handedOut.has(port)) continue;
    if (await listenable(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
