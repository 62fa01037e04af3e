import type { DeviceDefinition } from '../../core/types.ts';
import { cmi4110 } from './cmi4110/index.ts';

export const definitions: DeviceDefinition[] = [cmi4110];
