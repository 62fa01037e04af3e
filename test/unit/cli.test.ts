import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadAllExamples } from '../../decoders/core/examples.ts';
import { decodeCommand } from '../../services/cli/devices.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'veilleur.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

/** Every model the decoders issue requires, as the vendors name them ("TIC'O" is sold as TICS'O; "Insafe Origin" is now ORIGIN). */
const REQUIRED = [
  ['Milesight', 'EM300-ZLD'], ['Milesight', 'EM300-SLD'], ['Netvox', 'R718WA'], ['Netvox', 'R311W'], ['Dragino', 'LWL03A'],
  ['Milesight', 'EM300-DI'], ['Adeunis', 'PULSE'], ['Adeunis', 'PULSE 4'], ['Axioma', 'Qalcosonic W1'], ['Quandify', 'CubicMeter'],
  ['Milesight', 'CT101'], ['Milesight', 'CT303'], ['Milesight', 'WS523'], ['Adeunis', 'TIC CBE/LINKY MONO'], ['Adeunis', 'TIC CBE/LINKY TRI'],
  ['Watteco', 'Smart Plug'], ["Watteco", "TICS'O"], ['Netvox', 'R809A'], ['Netvox', 'R718N3'], ['Elvaco', 'CMi4110'], ['Fludia', 'FM432e'],
  ['YOBIIQ', 'EM2101'], ['Elsys', 'ERS CO2'], ['Milesight', 'AM307'], ['Milesight', 'AM319'], ['Milesight', 'EM500-CO2'],
  ['Adeunis', 'COMFORT 2'], ['Adeunis', 'COMFORT CO2'], ['Dragino', 'LHT65'], ['Watteco', 'TH'], ['Nexelec', 'ORIGIN'],
];

describe('veilleur devices', () => {
  it('prints every required model as JSON with vendor, model and category', () => {
    const list = JSON.parse(execFileSync(process.execPath, [BIN, 'devices'], { encoding: 'utf8' })) as { vendor: string; model: string; category: string }[];
    for (const [vendor, model] of REQUIRED) {
      expect(list.find((d) => d.vendor === vendor && d.model === model), `${vendor} ${model}`).toMatchObject({ category: expect.any(String) });
    }
  });
});

describe('veilleur decode', () => {
  it('decodes one payload, matching vendor and model case-insensitively', () => {
    const r = run('decode', '--vendor', 'MILESIGHT', '--model', 'em300-zld', '--fport', '85', '--hex', '050001');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { leakage_status: 'leak' }, readings: [{ quantity: 'water.leak', value: true }], errors: [] });
  });

  it('exits non-zero with a clear message on an unknown device or malformed hex', () => {
    const unknown = run('decode', '--vendor', 'acme', '--model', 'x1', '--fport', '1', '--hex', '00');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain("unknown device 'acme x1'");
    const badHex = run('decode', '--vendor', 'milesight', '--model', 'em300-zld', '--fport', '85', '--hex', '0x5zz');
    expect(badHex.status).not.toBe(0);
    expect(badHex.stderr).toContain("malformed hex payload '0x5zz'");
  });

  describe('works for every model on its vendor examples', () => {
    let out = '';
    afterEach(() => vi.restoreAllMocks());
    for (const { content } of loadAllExamples()) {
      const ex = content.examples.find((e) => !e.output.errors && e.output.data)!;
      it(`${content.vendor} ${content.model}`, () => {
        out = '';
        vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
          out += String(s);
          return true;
        });
        const code = decodeCommand(['--vendor', content.vendor, '--model', content.model, '--fport', String(ex.input.fPort), '--hex', ex.input.hex, ...(ex.input.recvTime ? ['--recv-time', ex.input.recvTime] : [])]);
        vi.restoreAllMocks();
        expect(code).toBe(0);
        expect(JSON.parse(out).data).toEqual(ex.output.data);
      });
    }
  });
});
