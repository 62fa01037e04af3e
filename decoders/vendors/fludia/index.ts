import type { DeviceDefinition } from '../../core/types.ts';
import { fm432e } from './fm432e/index.ts';

export const definitions: DeviceDefinition[] = [fm432e];
