/**
 * `veilleur <command>`: serve (the ingestion service), simulate (a small town's devices), demo (local stack +
 * service + simulator), devices and decode (decoder checks for operators).
 */
import { ConfigError } from '../config/load.ts';

const USAGE = `usage: veilleur <command> [options]

commands:
  serve                 run the service (configuration from environment variables, see README)
  simulate [options]    publish a simulated town's uplinks to MQTT_URL (see 'veilleur simulate --help')
  demo                  start a private Mosquitto + InfluxDB, the service and the simulator
  devices               list the built-in device decoders as JSON
  decode --vendor V --model M --fport N --hex HEX [--recv-time RFC3339]
                        decode one payload and print {data, readings, events, warnings, errors}
  redecode [--from T] [--to T] [--dev-eui X]
                        decode again the uplinks kept raw, with today's registry and decoders
  backtest --rule W1 [--from T] [--to T] [--step-hours H]
                        the alerts a windowed rule would have raised over a period (default: 90 days)
  keys create|list|revoke|rotate
                        API keys, applied at once to the running service (see 'veilleur keys --help')
  grafana provision --out DIR
                        Grafana organisations per commune, each reading its commune only (see docs/grafana.md)
  report datacenter --site S --from T --to T [--tenant T] [--zone Z] [--format json|csv] [--category 1|2|3] [--eed YEAR]
                        PUE, DCiE, IT/cooling split, kWh and kgCO2e of a server room or datacenter
  report parsimony --tenant T [--from T --to T] [--format json|csv]
                        uplinks and airtime per device and day, battery estimate, over-reporting devices
  report yearly --tenant T --year Y [--format html|csv] [--lang fr|en] [--out FILE]
                        the REEN yearly review (water, leaks, energy, datacenter, fleet, own footprint)
  retention <show|set|apply|log>
                        how long each data class is kept, changes (shortening needs --reason) and their audit log
`;

const [command, ...rest] = process.argv.slice(2);

/**
 * Commands that read InfluxDB, publish to the broker or manage the service's API keys: after `npm run demo`, they
 * find its settings by themselves.
 */
const USE_RUNNING_DEMO = new Set(['simulate', 'redecode', 'backtest', 'report', 'retention', 'keys', 'grafana']);

async function main(): Promise<number | undefined> {
  if (command && USE_RUNNING_DEMO.has(command)) {
    const note = (await import('./demo-env.ts')).applyDemoEnv();
    if (note) process.stderr.write(`veilleur: ${note}\n`);
  }
  if (command === 'serve') {
    const { runningDemo, serveBesideDemo } = await import('./demo-env.ts');
    const demo = runningDemo();
    if (demo) {
      process.stderr.write(`veilleur serve: ${serveBesideDemo(demo)}\n`);
      return 2;
    }
  }
  switch (command) {
    case 'serve':
      return (await import('./serve.ts')).serve();
    case 'simulate':
      return (await import('./simulate.ts')).simulateCommand(rest);
    case 'demo':
      return (await import('../demo/demo.ts')).demo(rest);
    case 'devices':
      return (await import('./devices.ts')).devicesCommand();
    case 'decode':
      return (await import('./devices.ts')).decodeCommand(rest);
    case 'redecode':
      return (await import('./redecode.ts')).redecodeCommand(rest);
    case 'backtest':
      return (await import('./backtest.ts')).backtestCommand(rest);
    case 'report':
      return (await import('./report.ts')).reportCommand(rest);
    case 'retention':
      return (await import('./retention.ts')).retentionCommand(rest);
    case 'keys':
      return (await import('./keys.ts')).keysCommand(rest);
    case 'grafana':
      return (await import('./grafana.ts')).grafanaCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`veilleur: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`veilleur: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`veilleur: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
