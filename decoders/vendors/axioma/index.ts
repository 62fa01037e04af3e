import type { DeviceDefinition } from '../../core/types.ts';
import { qalcosonicW1 } from './qalcosonic-w1/index.ts';

export const definitions: DeviceDefinition[] = [qalcosonicW1];
