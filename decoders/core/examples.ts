import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isQuantityId } from '../model/quantities.ts';

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

const rfc3339 = z.iso.datetime({ offset: true });

/**
 * Shape of an `examples.json`, checked by test/decoders/contracts.test.ts. Strict objects, so a misspelt key
 * (`warning`, `fport`) fails instead of silently skipping the check it was meant to ask for.
 */
export const examplesFileSchema = z.strictObject({
  vendor: z.string().min(1),
  model: z.string().min(1),
  examples: z
    .array(
      z.strictObject({
        description: z.string().min(1),
        source: z.string().min(1),
        input: z.strictObject({
          fPort: z.number().int().min(0).max(255),
          hex: z.string().regex(/^(?:[0-9a-fA-F]{2})*$/, 'hex must be pairs of hexadecimal digits, without spaces'),
          recvTime: rfc3339.optional(),
        }),
        output: z
          .strictObject({
            data: z.record(z.string(), z.unknown()).optional(),
            readings: z
              .array(
                z.strictObject({
                  quantity: z.string().refine(isQuantityId, 'not a canonical quantity (decoders/model/quantities.ts)'),
                  value: z.union([z.number(), z.boolean()]),
                  channel: z.string().min(1).optional(),
                  time: rfc3339.optional(),
                }),
              )
              .optional(),
            events: z.array(z.strictObject({ type: z.string().min(1) })).optional(),
            errors: z.array(z.string().min(1)).min(1).optional(),
            warnings: z.array(z.string().min(1)).min(1).optional(),
            undecodedFrom: z.number().int().min(0).optional(),
          })
          // An error vector asserts only the error: expectations beside it would never be checked.
          .refine((o) => !o.errors || (o.data === undefined && o.readings === undefined && o.events === undefined && o.warnings === undefined && o.undecodedFrom === undefined), {
            message: 'an error example expects nothing but its errors',
          }),
      }),
    )
    .min(1),
});

/** Problems of one examples file, each naming the file and the JSON path (`examples[3].output.readings[0].quantity`). */
export function examplesFileProblems(file: string, content: unknown): string[] {
  const parsed = examplesFileSchema.safeParse(content);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${file}: ${formatPath(issue.path)}: ${issue.message}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
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
