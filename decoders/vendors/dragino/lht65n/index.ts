/**
 * Dragino LHT65N — LoRaWAN temperature & humidity sensor (successor of the LHT65, same uplink format).
 * Follows the LHT65N manual §2.4 "Uplink Payload" and §2.5 datalog (poll-message flag, 11-byte records);
 * shared parser in ../lht65-format.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { lht65Definition } from '../lht65-format.ts';

export const lht65n: DeviceDefinition = lht65Definition('LHT65N', {
  description: 'Temperature & humidity sensor with external probe connector and datalog',
  documentation: [
    {
      title: 'Dragino LHT65N LoRaWAN Temperature & Humidity Sensor Manual, §2.4 Uplink Payload',
      url: 'http://wiki.dragino.com/xwiki/bin/view/Main/User%20Manual%20for%20LoRaWAN%20End%20Nodes/LHT65N%20LoRaWAN%20Temperature%20%26%20Humidity%20Sensor%20Manual/',
    },
    {
      title: 'Dragino LHT65N codec examples (TTN Device Repository)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/dragino/lht65n-codec.yaml',
    },
  ],
});
