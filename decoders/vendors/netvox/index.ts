import type { DeviceDefinition } from '../../core/types.ts';
import { r311w } from './r311w/index.ts';
import { r718n3 } from './r718n3/index.ts';
import { r718wa } from './r718wa/index.ts';
import { r718wa2 } from './r718wa2/index.ts';
import { r809a } from './r809a/index.ts';

export const definitions: DeviceDefinition[] = [r718wa, r718wa2, r311w, r809a, r718n3];
