import type { DeviceDefinition } from '../../core/types.ts';
import { em2101 } from './em2101/index.ts';

export const definitions: DeviceDefinition[] = [em2101];
