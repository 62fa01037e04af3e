import type { DeviceDefinition } from '../../core/types.ts';
import { wattecoFlasho } from './flasho/index.ts';
import { wattecoPulseSenso } from './pulse-senso/index.ts';
import { wattecoSmartPlug } from './smart-plug/index.ts';
import { wattecoTh } from './th/index.ts';
import { wattecoTico } from './tico/index.ts';
import { wattecoTicso } from './ticso/index.ts';

export const definitions: DeviceDefinition[] = [wattecoSmartPlug, wattecoTh, wattecoTico, wattecoTicso, wattecoFlasho, wattecoPulseSenso];
