import type { DeviceDefinition } from '../../core/types.ts';
import { nexelecOrigin } from './origin/index.ts';

export const definitions: DeviceDefinition[] = [nexelecOrigin];
