import { describe, expect, it } from 'vitest';
import { decodeUplink, findDevice } from '../../decoders/index.ts';
import { hexToBytes } from '../../decoders/core/reader.ts';
import { loadAllExamples } from '../../decoders/core/examples.ts';

// Every vendor example stored beside a decoder runs here: bytes → the vendor's documented output.
for (const { file, content } of loadAllExamples()) {
  describe(`${content.vendor} ${content.model} (${file.split('/vendors/')[1]})`, () => {
    const device = findDevice(content.vendor, content.model);
    it('is registered', () => {
      expect(device, `${content.vendor} ${content.model} is not in decoders/index.ts`).toBeDefined();
    });
    for (const ex of content.examples) {
      it(ex.description, () => {
        const result = decodeUplink(device!, {
          bytes: hexToBytes(ex.input.hex),
          fPort: ex.input.fPort,
          ...(ex.input.recvTime ? { recvTime: new Date(ex.input.recvTime) } : {}),
        });
        if (ex.output.errors) {
          expect(result.errors.length, 'an error was expected').toBeGreaterThan(0);
          for (const fragment of ex.output.errors) {
            expect(result.errors.join(' | ')).toContain(fragment);
          }
          return;
        }
        expect(result.errors).toEqual([]);
        if (ex.output.data) expect(result.data).toEqual(ex.output.data);
        if (ex.output.readings) {
          const got = result.readings.map((r) => ({
            quantity: r.quantity,
            value: r.value,
            ...(r.channel !== undefined ? { channel: r.channel } : {}),
            ...(r.time ? { time: r.time.toISOString() } : {}),
          }));
          const want = ex.output.readings.map((r) => (r.time ? { ...r, time: new Date(r.time).toISOString() } : r));
          expect(sortReadings(got)).toEqual(sortReadings(want));
        }
        for (const fragment of ex.output.warnings ?? []) {
          expect(result.warnings.join(' | ')).toContain(fragment);
        }
        expect(result.undecodedFrom, 'undecodedFrom').toBe(ex.output.undecodedFrom);
        if (ex.output.events) {
          expect(result.events.map((e) => e.type).sort()).toEqual(ex.output.events.map((e) => e.type).sort());
        }
      });
    }
  });
}

function sortReadings<T extends { quantity: string; channel?: string; time?: string }>(rs: T[]): T[] {
  const key = (r: T) => `${r.quantity}|${r.channel ?? ''}|${r.time ?? ''}`;
  return [...rs].sort((a, b) => key(a).localeCompare(key(b)));
}
