/**
 * Watteco frame builder: TH standard report on port 125 (Watteco ZCL-like frames, the inverse of
 * decoders/vendors/watteco/zcl.ts and clusters.ts):
 *   Fctrl 0x11 (endpoint 0, standard report) | CmdID 0x0A report attributes | ClusterID 0x0402 temperature
 *   measurement | AttributeID 0x0000 MeasuredValue | type 0x29 (int16) | value in 0.01 °C, big endian.
 * A standard report carries one attribute, so each frame holds the temperature only (humidity and battery
 * are separate reports on clusters 0x0405 and 0x0050 that this builder does not send).
 * An absent temperature is sent as 0 °C.
 */
import { frame, scaledInt, u16be } from './bytes.ts';
import type { FrameBuilder } from './types.ts';

const WATTECO_PORT = 125;
const ZCL_INT16 = 0x29;

export const th: FrameBuilder = {
  decoder: 'watteco/th',
  build: (s) =>
    // ±327.67 °C: 0x8000 is the ZCL "invalid" int16, never sent.
    frame(WATTECO_PORT, [0x11, 0x0a], u16be(0x0402), u16be(0x0000), [ZCL_INT16], u16be(scaledInt(s.temperatureC ?? 0, 100, -32767, 32767))),
};

export const wattecoBuilders: FrameBuilder[] = [th];
