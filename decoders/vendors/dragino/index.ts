import type { DeviceDefinition } from '../../core/types.ts';
import { lht65 } from './lht65/index.ts';
import { lht65n } from './lht65n/index.ts';
import { lwl03a } from './lwl03a/index.ts';

export const definitions: DeviceDefinition[] = [lwl03a, lht65, lht65n];
