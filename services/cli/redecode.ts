import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../logger.ts';
import { loadCustomCodecs } from '../pipeline/custom-codecs.ts';
import { builtInDecoders } from '../pipeline/decode.ts';
import { redecode } from '../pipeline/redecode.ts';
import { Registry } from '../registry/registry.ts';
import { createInfluxTarget } from '../storage/influx.ts';

/** `veilleur redecode [--from T] [--to T] [--dev-eui X]`: decode again what was kept raw, with today's configuration. */
export async function redecodeCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' }, 'dev-eui': { type: 'string' } } });
  const from = new Date(values.from ?? 0);
  const to = values.to ? new Date(values.to) : new Date();
  for (const [name, d] of [['--from', from], ['--to', to]] as const) {
    if (Number.isNaN(d.getTime())) {
      process.stderr.write(`veilleur redecode: ${name}: expected an RFC 3339 time\n`);
      return 2;
    }
  }
  if (values['dev-eui'] && !/^[0-9a-fA-F]{16}$/.test(values['dev-eui'])) {
    process.stderr.write('veilleur redecode: --dev-eui: expected 16 hexadecimal characters\n');
    return 2;
  }
  const cfg = loadConfig();
  const log = createLogger(cfg.logLevel);
  const custom = loadCustomCodecs(cfg.registry.codecs, cfg.configFile);
  try {
    const report = await redecode(
      createInfluxTarget(cfg.influx),
      new Registry(cfg.registry, cfg.defaultTenant),
      [custom.resolver, builtInDecoders],
      { from, to, ...(values['dev-eui'] ? { devEui: values['dev-eui'] } : {}) },
      log,
    );
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  } finally {
    custom.stop();
  }
}
