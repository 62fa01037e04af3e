import type { DeviceDefinition } from '../../core/types.ts';

export const definitions: DeviceDefinition[] = [];
