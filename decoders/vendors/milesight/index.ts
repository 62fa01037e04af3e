import type { DeviceDefinition } from '../../core/types.ts';
import { am102 } from './am102/index.ts';
import { am103 } from './am103/index.ts';
import { am307 } from './am307/index.ts';
import { am319 } from './am319/index.ts';
import { ct101 } from './ct101/index.ts';
import { ct303 } from './ct303/index.ts';
import { em300Di } from './em300-di/index.ts';
import { em300Mcs } from './em300-mcs/index.ts';
import { em300Mld } from './em300-mld/index.ts';
import { em300Sld } from './em300-sld/index.ts';
import { em300Th } from './em300-th/index.ts';
import { em300Zld } from './em300-zld/index.ts';
import { em500Co2 } from './em500-co2/index.ts';
import { ws303 } from './ws303/index.ts';
import { ws523 } from './ws523/index.ts';

export const definitions: DeviceDefinition[] = [em300Zld, em300Sld, em300Di, ct101, ct303, ws523, am307, am319, em500Co2, am102, am103, em300Th, em300Mcs, em300Mld, ws303];
