import type { DeviceDefinition } from '../../core/types.ts';
import { flowIq2200 } from './flowiq2200/index.ts';

export const definitions: DeviceDefinition[] = [flowIq2200];
