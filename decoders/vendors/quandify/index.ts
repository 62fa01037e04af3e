import type { DeviceDefinition } from '../../core/types.ts';
import { cubicMeter } from './cubicmeter/index.ts';

export const definitions: DeviceDefinition[] = [cubicMeter];
