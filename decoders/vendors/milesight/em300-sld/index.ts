/**
 * Milesight EM300-SLD, spot leak detection sensor with temperature and humidity.
 * Frame format: see ../em300-leak.ts (Milesight "EM300-ZLD/SLD Uplink Data", EM300 series user guide §5.2).
 */
import { em300LeakDefinition } from '../em300-leak.ts';

export const em300Sld = em300LeakDefinition(
  'EM300-SLD',
  'Spot water leak detection sensor with temperature and humidity',
  'https://www.milesight.com/iot/product/lorawan-sensor/em300-sld-zld',
);
