// Structured JSON log lines (pino). Secrets are redacted by path so a careless log call cannot leak them.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'junjo-server' },
      redact: {
        paths: [
          'password',
          '*.password',
          'key',
          '*.key',
          'apiKey',
          '*.apiKey',
          'req.headers.cookie',
          'req.headers["x-junjo-api-key"]',
          'req.headers["x-csrf-token"]',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
