// Misbehaving HTTP clients for the fault suite: sockets that send their request head or body a
// byte at a time (slowloris, slow POST). Each remembers whether the server closed it, and when.
import net from 'node:net';
import { HEADERS_TIMEOUT_MS } from '../../src/http/connection_limits.ts';

const HEADS_TRICKLE_MS = HEADERS_TIMEOUT_MS - 4000;

export interface SlowClient {
  openedAt: number;
  /** ms after opening at which the server closed the socket (null while open or closed by us). */
  closedAfterMs: number | null;
  /** First bytes the server answered before closing (e.g. "HTTP/1.1 408"). */
  answer: string;
  /** The socket error that ended the connection, if any (e.g. ECONNRESET). */
  error: string | null;
  destroy(): void;
}

export type SlowKind = 'head' | 'body';

/**
 * Opens a connection that trickles one byte every `byteEveryMs`: `head` never finishes its header
 * block; `body` sends a complete head announcing a large body, then trickles the body.
 * A head stops trickling well before the headers timeout: a server that closes a socket with
 * unread bytes sends a reset, and on a busy machine the reset can arrive before this process has
 * read the 408 in front of it, which Linux then discards.
 */
export function openSlowClient(port: number, kind: SlowKind, path: string, byteEveryMs = 500): SlowClient {
  const socket = net.connect(port, '127.0.0.1');
  let destroyedByUs = false;
  let timer: NodeJS.Timeout | undefined;
  const client: SlowClient = {
    openedAt: Date.now(),
    closedAfterMs: null,
    answer: '',
    error: null,
    destroy: () => {
      destroyedByUs = true;
      clearInterval(timer);
      socket.destroy();
    },
  };
  socket.on('connect', () => {
    const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`;
    socket.write(kind === 'head' ? `${head}X-Slow: ` : `${head}Content-Length: 100000\r\n\r\n`);
    const stopAt = kind === 'head' ? client.openedAt + HEADS_TRICKLE_MS : Number.POSITIVE_INFINITY;
    timer = setInterval(() => {
      if (Date.now() < stopAt) socket.write('a');
      else clearInterval(timer);
    }, byteEveryMs);
  });
  socket.on('data', (chunk: Buffer) => {
    if (client.answer.length < 200) client.answer += chunk.toString('latin1');
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    client.error = error.code ?? error.message;
  });
  socket.on('close', () => {
    clearInterval(timer);
    if (!destroyedByUs) client.closedAfterMs = Date.now() - client.openedAt;
  });
  return client;
}

export function openSlowClients(count: number, open: () => SlowClient): SlowClient[] {
  return Array.from({ length: count }, open);
}

/** Resolves once every client was closed by the server, or after `timeoutMs`. */
export async function waitUntilClosed(clients: SlowClient[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && clients.some((client) => client.closedAfterMs === null)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
