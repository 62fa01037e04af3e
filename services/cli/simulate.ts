import { parseArgs } from 'node:util';
import { generateUplinks } from '../simulator/generator.ts';
import { publishUplinks } from '../simulator/publish.ts';

const HELP = `usage: veilleur simulate [options]
Publishes the simulated town's uplinks (ChirpStack v4 and The Things Stack v3 JSON, real device payloads) to MQTT_URL.

  --history-hours H   first publish the last H hours of uplinks (past timestamps), as fast as --rate allows (default 0)
  --live              then keep publishing in real time
  --speed K           devices report K times more often than in the field (default 1; the demo uses 30)
  --rate R            at most R messages per second (default: as fast as the broker acknowledges)
  --count N           stop after N uplinks
  --duration S        stop after S seconds (default 3600)
  --seed S            random seed (default 1)
  --registry          print the YAML registry describing the town (for VEILLEUR_CONFIG) and exit
`;

export async function simulateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'history-hours': { type: 'string', default: '0' },
      live: { type: 'boolean', default: false },
      speed: { type: 'string', default: '1' },
      rate: { type: 'string' },
      count: { type: 'string' },
      duration: { type: 'string', default: '3600' },
      seed: { type: 'string', default: '1' },
      registry: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.registry) {
    const { stringify } = await import('yaml');
    const { townRegistry } = await import('../simulator/town.ts');
    process.stdout.write(stringify(townRegistry()));
    return 0;
  }
  const num = (name: string, v: string | undefined, min = 0): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number ≥ ${min}, got '${v}'`);
    return n;
  };
  const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const historyH = num('history-hours', values['history-hours'])!;
  const now = Date.now();
  const seed = num('seed', values.seed)!;
  const speed = num('speed', values.speed, 1)!;
  const count = num('count', values.count, 1);
  const rate = num('rate', values.rate, 1);
  const maxSeconds = num('duration', values.duration, 1)!;
  const common = { url, ...(process.env.MQTT_USERNAME ? { username: process.env.MQTT_USERNAME } : {}), ...(process.env.MQTT_PASSWORD ? { password: process.env.MQTT_PASSWORD } : {}) };
  // One simulation: the history first (as fast as --rate allows), then, with --live, each uplink at its time, so
  // meter indexes run on without a jump.
  const start = new Date(now - historyH * 3_600_000);
  const uplinks = generateUplinks({
    start,
    seed,
    speed,
    speedFrom: new Date(now),
    ...(count ? { count } : {}),
    ...(values.live ? {} : { end: historyH > 0 ? new Date(now) : undefined, count: count ?? (historyH > 0 ? undefined : 100) }),
  });
  const r = await publishUplinks(uplinks, { ...common, ...(values.live ? { live: true } : rate ? { rate } : {}), maxSeconds });
  const total = r.published;
  process.stderr.write(`simulate: ${total} uplinks published to ${url}\n`);
  return 0;
}
