import type { DeviceDefinition } from '../../core/types.ts';
import { comfort2 } from './comfort-2/index.ts';
import { comfortCo2 } from './comfort-co2/index.ts';
import { pulse } from './pulse/index.ts';
import { pulse4 } from './pulse-4/index.ts';
import { ticCbeLinkyMono } from './tic-cbe-linky-mono/index.ts';
import { ticCbeLinkyTri } from './tic-cbe-linky-tri/index.ts';

export const definitions: DeviceDefinition[] = [pulse, pulse4, ticCbeLinkyMono, ticCbeLinkyTri, comfort2, comfortCo2];
