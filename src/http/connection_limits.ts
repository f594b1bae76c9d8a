// Limits that keep slow or stuck clients from holding connections, for both HTTP listeners (REST
// :1323 and OTLP/HTTP :4318). Fastify turns Node's request timeout off by default, so on :1323 a
// client sending its body a byte at a time ("slow POST"), or connecting and sending nothing, held
// its socket forever; enough of them exhaust the process's file descriptors, which the WAL and
// DuckDB need too. test/hardening/faults.test.ts holds slow clients against both listeners.
import type { FastifyInstance } from 'fastify';

/** The whole request head must arrive within this (slowloris sends it a byte at a time). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How often Node checks open requests against the headers and request timeouts. */
const CHECK_INTERVAL_MS = 1000;
/**
 * Open connections per listener; beyond it new ones are closed at once. Far below the descriptor
 * limit, so a flood of sockets is refused instead of starving the files the server must open.
 */
export const MAX_CONNECTIONS = 1000;

export interface ConnectionLimits {
  /** The whole request (head and body) must arrive within this. */
  requestTimeoutMs: number;
  /** A socket with no traffic in either direction for this long is closed. */
  idleTimeoutMs: number;
}

/** Applies the limits to the listener of `app` (call before listen). */
export function limitConnections(app: FastifyInstance, limits: ConnectionLimits): void {
  const server = app.server as FastifyInstance['server'] & { connectionsCheckingInterval: number };
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = limits.requestTimeoutMs;
  // Read when the server starts listening (Node's default checks only every 30 s).
  server.connectionsCheckingInterval = CHECK_INTERVAL_MS;
  server.setTimeout(limits.idleTimeoutMs);
  server.maxConnections = MAX_CONNECTIONS;
}
