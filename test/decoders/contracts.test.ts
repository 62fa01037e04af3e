import { describe, expect, it } from 'vitest';
import { decodeUplink, devices, findDevice } from '../../decoders/index.ts';
import { hexToBytes } from '../../decoders/core/reader.ts';
import { examplesFileProblems, loadAllExamples } from '../../decoders/core/examples.ts';
import type { DeviceDefinition } from '../../decoders/core/types.ts';
import { prng } from '../../services/simulator/random.ts';

// Contracts between a definition and what its decoder does, and between examples files and the examples test.
const examples = loadAllExamples();

describe('examples.json shape', () => {
  for (const { file, content } of examples) {
    it(file.split('/vendors/')[1]!, () => {
      expect(examplesFileProblems(file, content)).toEqual([]);
    });
  }

  it('names the file and the path of what is wrong', () => {
    const malformed = {
      vendor: 'Elsys',
      model: 'ERS',
      examples: [
        { description: 'ok', source: 'p. 3', input: { fPort: 5, hex: '0100E2' }, output: { readings: [] } },
        {
          description: 'typo',
          source: 'p. 4',
          input: { fPort: 5, hex: '01 00' },
          output: { readings: [{ quantity: 'air.temp', value: 1 }], warning: ['x'] },
        },
      ],
    };
    const problems = examplesFileProblems('vendors/elsys/ers/examples.json', malformed);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^vendors\/elsys\/ers\/examples\.json: examples\[1\]\.input\.hex: hex must be pairs/),
        expect.stringMatching(/^vendors\/elsys\/ers\/examples\.json: examples\[1\]\.output\.readings\[0\]\.quantity: not a canonical quantity/),
        expect.stringMatching(/^vendors\/elsys\/ers\/examples\.json: examples\[1\]\.output: .*"warning"/),
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('refuses an error example that also expects readings (they would never be compared)', () => {
    const problems = examplesFileProblems('x/examples.json', {
      vendor: 'V',
      model: 'M',
      examples: [{ description: 'd', source: 's', input: { fPort: 0, hex: '' }, output: { errors: ['fPort'], readings: [] } }],
    });
    expect(problems).toEqual(['x/examples.json: examples[0].output: an error example expects nothing but its errors']);
  });

  it('refuses a file without examples or without a model', () => {
    expect(examplesFileProblems('y/examples.json', { vendor: 'V', examples: [] })).toEqual([
      expect.stringMatching(/^y\/examples\.json: model: /),
      expect.stringMatching(/^y\/examples\.json: examples: /),
    ]);
  });
});

/** Quantities a decoded frame carries that its definition does not declare in `exposes`. */
function undeclared(device: DeviceDefinition, bytes: Uint8Array, fPort: number): string[] {
  const result = decodeUplink(device, { bytes, fPort, recvTime: new Date(1_735_689_600_000) });
  return [...new Set(result.readings.map((r) => r.quantity))].filter((q) => !device.exposes.includes(q));
}

describe('readings ⊆ exposes', () => {
  for (const { file, content } of examples) {
    const device = findDevice(content.vendor, content.model);
    it(`${content.vendor} ${content.model}: every vendor example`, () => {
      expect(device, `${file} names no registered device`).toBeDefined();
      for (const ex of content.examples) {
        expect(undeclared(device!, hexToBytes(ex.input.hex), ex.input.fPort), ex.description).toEqual([]);
      }
    });
  }

  // Random frames on every documented port reach quantities no vendor example shows (the Elsys type/value
  // format carries pressure or TVOC items the ERS CO2 does not measure). test/decoders/fuzz.test.ts checks the
  // same on more, mutated frames.
  const PER_DECODER = 2_000;
  for (const device of devices) {
    it(`${device.vendor} ${device.model}: ${PER_DECODER} random frames`, () => {
      const rand = prng(0xc0de ^ device.model.length);
      const found = new Set<string>();
      for (let i = 0; i < PER_DECODER; i++) {
        const bytes = Uint8Array.from({ length: Math.floor(rand() * 48) }, () => Math.floor(rand() * 256));
        for (const q of undeclared(device, bytes, device.fPorts[i % device.fPorts.length]!)) found.add(q);
      }
      expect([...found]).toEqual([]);
    });
  }
});
