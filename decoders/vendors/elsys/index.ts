import type { DeviceDefinition } from '../../core/types.ts';
import { ersCo2 } from './ers-co2/index.ts';

export const definitions: DeviceDefinition[] = [ersCo2];
