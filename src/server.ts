// Starts every store and listener the configured role needs and stops them in reverse order.
import type { Config } from './config.ts';
import { healthRoutes } from './features/health/routes.ts';
import { buildHttpApp } from './http/app.ts';
import type { Logger } from './logger.ts';

export interface RunningServer {
  close(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne();
  };
  try {
    const http = await buildHttpApp({ logger, guards: [], features: [healthRoutes([])] });
    await http.listen({ host: config.host, port: config.ports.http });
    closers.push(() => http.close());
    logger.info(
      { role: config.role, dataDir: config.paths.dataDir, ports: config.ports },
      'junjo-server started',
    );
    return { close };
  } catch (error) {
    await close();
    throw error;
  }
}
