/**
 * Frame builders by decoder ('vendor/model' in lower case, as `${vendor}/${model}` of the decoder definition).
 * Each builder encodes a DeviceState into the periodic report its real device sends, rounded to the format's
 * resolution and with counters wrapping as the format's register does, so decoding gives the state back.
 * Type / value formats (Milesight, Elsys) send only the state's fields; fixed layouts send absent fields as 0.
 */
import { adeunisBuilders } from './adeunis.ts';
import { axiomaBuilders } from './axioma.ts';
import { draginoBuilders } from './dragino.ts';
import { elsysBuilders } from './elsys.ts';
import { milesightBuilders } from './milesight.ts';
import { netvoxBuilders } from './netvox.ts';
import type { FrameBuilder } from './types.ts';
import { wattecoBuilders } from './watteco.ts';

const all: FrameBuilder[] = [
  ...milesightBuilders,
  ...adeunisBuilders,
  ...netvoxBuilders,
  ...draginoBuilders,
  ...wattecoBuilders,
  ...axiomaBuilders,
  ...elsysBuilders,
];

export const frameBuilders: Record<string, FrameBuilder> = Object.fromEntries(all.map((b) => [b.decoder, b]));

export type { DeviceState, Frame, FrameBuilder, MeterAlarm } from './types.ts';
