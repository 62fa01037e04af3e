import { parseArgs } from 'node:util';
import { decodeUplink, devices, findDevice } from '../../decoders/index.ts';
import { DecodeError } from '../../decoders/core/errors.ts';
import { hexToBytes } from '../../decoders/core/reader.ts';

/** `veilleur devices`: the supported models, as JSON. */
export function devicesCommand(): number {
  const list = devices.map((d) => ({
    vendor: d.vendor,
    model: d.model,
    category: d.category,
    description: d.description,
    fPorts: d.fPorts,
    exposes: d.exposes,
    decoder: `${d.vendor}/${d.model}`.toLowerCase(),
    documentation: d.documentation,
  }));
  process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  return 0;
}

/** `veilleur decode --vendor V --model M --fport N --hex HEX [--recv-time T]`: one payload, one JSON object. */
export function decodeCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      vendor: { type: 'string' },
      model: { type: 'string' },
      fport: { type: 'string' },
      hex: { type: 'string' },
      'recv-time': { type: 'string' },
    },
    strict: true,
  });
  const fail = (msg: string) => {
    process.stderr.write(`veilleur decode: ${msg}\n`);
    return 2;
  };
  if (!values.vendor || !values.model) return fail('--vendor and --model are required (see `veilleur devices`)');
  const device = findDevice(values.vendor, values.model);
  if (!device) return fail(`unknown device '${values.vendor} ${values.model}'; \`veilleur devices\` lists the supported models`);
  if (!values.fport || !/^\d+$/.test(values.fport) || Number(values.fport) > 255) return fail(`--fport: expected an integer 0-255, got '${values.fport ?? ''}'`);
  if (values.hex === undefined) return fail('--hex is required');
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(values.hex);
  } catch (err) {
    return fail(err instanceof DecodeError ? err.message : String(err));
  }
  let recvTime: Date | undefined;
  if (values['recv-time']) {
    recvTime = new Date(values['recv-time']);
    if (Number.isNaN(recvTime.getTime())) return fail(`--recv-time: expected an RFC 3339 time, got '${values['recv-time']}'`);
  }
  const result = decodeUplink(device, { bytes, fPort: Number(values.fport), ...(recvTime ? { recvTime } : {}) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return result.errors.length > 0 ? 1 : 0;
}
