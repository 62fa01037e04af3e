import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One vendor-published example, stored beside the decoder as a test vector (TTN lorawan-devices style). */
export interface DeviceExample {
  description: string;
  /** Where in the vendor document the example comes from (page, section, table). */
  source: string;
  input: { fPort: number; hex: string; recvTime?: string };
  output: {
    /** Vendor's documented decoded object: compared deep-equal. */
    data?: Record<string, unknown>;
    /** Canonical readings expected (time as RFC 3339): compared as a set when given. */
    readings?: { quantity: string; value: number | boolean; channel?: string; time?: string }[];
    events?: { type: string }[];
    /** Substrings that must each appear in one of the errors (an error vector). */
    errors?: string[];
    /** Substrings that must each appear in one of the warnings (lenient decoding: what was not understood). */
    warnings?: string[];
    /** Byte offset where decoding stopped (`undecodedFrom`), for frames decoded in part. */
    undecodedFrom?: number;
  };
}

export interface ExamplesFile {
  vendor: string;
  model: string;
  examples: DeviceExample[];
}

const vendorsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'vendors');

/** Every `vendors/<vendor>/<device>/examples.json`. */
export function loadAllExamples(): { file: string; content: ExamplesFile }[] {
  const out: { file: string; content: ExamplesFile }[] = [];
  for (const vendor of readdirSync(vendorsDir, { withFileTypes: true })) {
    if (!vendor.isDirectory()) continue;
    for (const device of readdirSync(join(vendorsDir, vendor.name), { withFileTypes: true })) {
      const file = join(vendorsDir, vendor.name, device.name, 'examples.json');
      if (device.isDirectory() && existsSync(file)) {
        out.push({ file, content: JSON.parse(readFileSync(file, 'utf8')) as ExamplesFile });
      }
    }
  }
  return out;
}
