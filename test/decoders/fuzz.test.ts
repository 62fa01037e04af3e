import { describe, expect, it } from 'vitest';
import { decodeUplink, devices } from '../../decoders/index.ts';
import { hexToBytes } from '../../decoders/core/reader.ts';
import { loadAllExamples } from '../../decoders/core/examples.ts';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { prng } from '../../services/simulator/random.ts';

const PER_DECODER = Number(process.env.FUZZ_PER_DECODER ?? 10_000);

describe('decoder fuzz', () => {
  const examples = loadAllExamples();
  for (const device of devices) {
    it(`${device.vendor} ${device.model}: ${PER_DECODER} random and truncated payloads never escape the boundary`, () => {
      const rand = prng(0x5eed ^ device.model.length);
      const seeds = examples
        .filter((e) => e.content.model.toLowerCase() === device.model.toLowerCase())
        .flatMap((e) => e.content.examples.map((x) => ({ fPort: x.input.fPort, bytes: hexToBytes(x.input.hex) })));
      const ports = [...device.fPorts, 0, 1, 224, Math.floor(rand() * 256)];
      for (let i = 0; i < PER_DECODER; i++) {
        let bytes: Uint8Array;
        let fPort: number;
        const base = seeds.length > 0 && i % 2 === 0 ? seeds[i % seeds.length]! : undefined;
        if (base) {
          // Truncate or mutate a real frame: the interesting inputs sit close to valid ones.
          bytes = base.bytes.slice(0, Math.floor(rand() * (base.bytes.length + 1)));
          if (i % 4 === 0 && bytes.length > 0) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
          fPort = base.fPort;
        } else {
          bytes = Uint8Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
          fPort = ports[Math.floor(rand() * ports.length)]!;
        }
        const result = decodeUplink(device, { bytes, fPort, recvTime: new Date(1_735_689_600_000) });
        // Either a structured error or well-formed canonical readings: never both, never a throw.
        if (result.errors.length > 0) {
          expect(result.readings).toEqual([]);
          for (const e of result.errors) expect(typeof e).toBe('string');
        } else {
          for (const r of result.readings) {
            const spec = QUANTITIES[r.quantity];
            expect(spec, r.quantity).toBeDefined();
            expect(device.exposes, `${r.quantity} is not in exposes`).toContain(r.quantity);
            if (spec.type === 'float') expect(Number.isFinite(r.value), `${r.quantity}=${String(r.value)}`).toBe(true);
            else expect(typeof r.value).toBe('boolean');
          }
        }
      }
    });
  }
});
