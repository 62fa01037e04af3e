/** Every dashboard, in the order of the files they produce. */
import { buildingEnergy } from './building-energy.ts';
import type { DashboardDefinition } from './common.ts';
import { datacenter } from './datacenter.ts';
import { fleet } from './fleet.ts';
import { water } from './water.ts';

export const DASHBOARDS: readonly DashboardDefinition[] = [water, buildingEnergy, datacenter, fleet];
