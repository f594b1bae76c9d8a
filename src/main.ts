// Composition root: config → stores → services → servers. Nothing else starts work.
import { ConfigError, loadConfig, prepareDataDir } from './config.ts';
import { StartupError } from './errors.ts';
import { createLogger } from './logger.ts';
import { startServer } from './server.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = prepareDataDir(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`junjo-server: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    if (error instanceof StartupError) {
      logger.fatal(`start-up failed: ${error.message}`);
      process.stderr.write(`junjo-server: cannot start: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    logger.fatal({ err: error }, 'start-up failed');
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    server.close().then(
      () => {
        logger.info('stopped cleanly');
        process.exit(exitCode);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  // Without its receivers the process would only look healthy: stop, non-zero, for a supervisor to
  // restart it (every acknowledged export is in the WAL and is indexed after the restart).
  server.failed.then((error) => {
    logger.fatal({ err: error }, 'a part of the server failed; stopping');
    stop('failure', 1);
  });
}

await main();
