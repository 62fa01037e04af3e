import { describe, expect, it } from 'vitest';
import { devices } from '../../decoders/index.ts';
import { loadAllExamples } from '../../decoders/core/examples.ts';
import { isQuantityId } from '../../decoders/model/quantities.ts';

// Registry-wide invariants, in the manner of zigbee-herdsman-converters' checks.
describe('decoder registry', () => {
  const examples = loadAllExamples();

  it('has unique vendor/model pairs', () => {
    const keys = devices.map((d) => `${d.vendor}/${d.model}`.toLowerCase());
    expect(new Set(keys).size).toBe(keys.length);
  });

  for (const d of devices) {
    describe(`${d.vendor} ${d.model}`, () => {
      it('cites its vendor document', () => {
        expect(d.documentation.length).toBeGreaterThan(0);
        for (const doc of d.documentation) expect(doc.url).toMatch(/^https?:\/\//);
      });
      it('exposes only canonical quantities', () => {
        expect(d.exposes.length).toBeGreaterThan(0);
        for (const id of d.exposes) expect(isQuantityId(id), id).toBe(true);
      });
      it('has vendor examples stored beside it', () => {
        const file = examples.find(
          (e) => e.content.vendor.toLowerCase() === d.vendor.toLowerCase() && e.content.model.toLowerCase() === d.model.toLowerCase(),
        );
        expect(file, 'no examples.json').toBeDefined();
        expect(file!.content.examples.filter((e) => !e.output.errors).length).toBeGreaterThan(0);
      });
    });
  }
});
