import { loadConfig } from '../config/load.ts';
import { createLogger } from '../logger.ts';
import { createService } from '../service.ts';

/** Runs until SIGTERM/SIGINT, then drains and exits; a second signal exits at once. */
export async function serve(): Promise<number | undefined> {
  const cfg = loadConfig();
  const log = createLogger(cfg.logLevel);
  const service = createService(cfg, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without draining (the spool keeps the data)');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping: draining the spool to InfluxDB');
    service.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    // Input never gets here (every input path is guarded); a bug does. Exit so a supervisor restarts us: the spool
    // and the broker's persistent session keep every acknowledged and unacknowledged message.
    log.fatal({ err: err.stack }, 'uncaught exception; exiting');
    process.exit(70);
  });
  try {
    await service.start();
  } catch (err) {
    // A port already taken, a spool directory that cannot be written: say so and exit rather than half-run
    // (a healthy /healthz with nothing consumed). What the spool holds stays for the next start.
    log.fatal({ err: (err as Error).message }, 'cannot start');
    await service.stop(1000).catch(() => undefined);
    process.exit(1);
  }
  return undefined;
}
