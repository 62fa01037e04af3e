/**
 * Milesight EM300-ZLD, zone (rope) leak detection sensor with temperature and humidity.
 * Frame format: see ../em300-leak.ts (Milesight "EM300-ZLD Uplink Data", EM300 series user guide §5.2).
 */
import { em300LeakDefinition } from '../em300-leak.ts';

export const em300Zld = em300LeakDefinition(
  'EM300-ZLD',
  'Zone (rope) water leak detection sensor with temperature and humidity',
  'https://www.milesight.com/iot/product/lorawan-sensor/em300-sld-zld',
);
