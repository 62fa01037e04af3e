/**
 * Registry of built-in device decoders. Each vendor folder exports its definitions; a registry-wide
 * test (test/decoders/registry.test.ts) checks unique models, documented examples and exposed quantities.
 */
import type { DeviceDefinition } from './core/types.ts';
import { definitions as adeunis } from './vendors/adeunis/index.ts';
import { definitions as axioma } from './vendors/axioma/index.ts';
import { definitions as dragino } from './vendors/dragino/index.ts';
import { definitions as elsys } from './vendors/elsys/index.ts';
import { definitions as elvaco } from './vendors/elvaco/index.ts';
import { definitions as fludia } from './vendors/fludia/index.ts';
import { definitions as kamstrup } from './vendors/kamstrup/index.ts';
import { definitions as milesight } from './vendors/milesight/index.ts';
import { definitions as netvox } from './vendors/netvox/index.ts';
import { definitions as nexelec } from './vendors/nexelec/index.ts';
import { definitions as quandify } from './vendors/quandify/index.ts';
import { definitions as watteco } from './vendors/watteco/index.ts';
import { definitions as yobiiq } from './vendors/yobiiq/index.ts';

export const devices: readonly DeviceDefinition[] = [
  ...milesight,
  ...netvox,
  ...dragino,
  ...adeunis,
  ...watteco,
  ...nexelec,
  ...axioma,
  ...quandify,
  ...elvaco,
  ...fludia,
  ...yobiiq,
  ...elsys,
  ...kamstrup,
];

/** Vendor and model are matched case-insensitively, as operators type them. */
export function findDevice(vendor: string, model: string): DeviceDefinition | undefined {
  const v = vendor.toLowerCase();
  const m = model.toLowerCase();
  return devices.find((d) => d.vendor.toLowerCase() === v && d.model.toLowerCase() === m);
}

export type { DecodeInput, DecodeResult, DeviceDefinition, DeviceEvent, Reading } from './core/types.ts';
export { decodeUplink } from './core/boundary.ts';
