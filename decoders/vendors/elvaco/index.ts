import type { DeviceDefinition } from '../../core/types.ts';
import { cmi4110 } from './cmi4110/index.ts';
import { cmi4111 } from './cmi4111/index.ts';
import { cmi4130 } from './cmi4130/index.ts';
import { cmi4140 } from './cmi4140/index.ts';
import { cmi4160 } from './cmi4160/index.ts';

export const definitions: DeviceDefinition[] = [cmi4110, cmi4111, cmi4130, cmi4140, cmi4160];
