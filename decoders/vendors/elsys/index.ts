import type { DeviceDefinition } from '../../core/types.ts';
import { ersCo2 } from './ers-co2/index.ts';
import { ers } from './ers/index.ts';
import { ersLite } from './ers-lite/index.ts';

export const definitions: DeviceDefinition[] = [ersCo2, ers, ersLite];
