/**
 * Dragino LHT65 — LoRaWAN temperature & humidity sensor with external probe connector.
 * Follows the LHT65 user manual §2.4 "Uplink Payload" (BAT, built-in temperature/humidity, Ext #, Ext value); the
 * parser is shared with the LHT65N, whose payload is the same (../lht65-format.ts).
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { lht65Definition } from '../lht65-format.ts';

export const lht65: DeviceDefinition = lht65Definition('LHT65', {
  description: 'Temperature & humidity sensor with external probe (DS18B20 by default)',
  documentation: [
    {
      title: 'Dragino LHT65 LoRaWAN Temperature & Humidity Sensor User Manual, §2.4 Uplink Payload',
      url: 'http://wiki.dragino.com/xwiki/bin/view/Main/User%20Manual%20for%20LoRaWAN%20End%20Nodes/LHT65%20-%20LoRaWAN%20Temperature%20%26%20Humidity%20Sensor%20User%20Manual/',
    },
    {
      title: 'Dragino LHT65 codec examples (TTN Device Repository)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/dragino/lht65-codec.yaml',
    },
  ],
});
