/**
 * What a simulated device is (its network server, identity, place and behaviour) and the application its topic
 * carries: shared by the town (town.ts), which lists the devices, and the envelopes (envelopes.ts), which publish
 * them, so that neither imports the other.
 */
import type { DeviceState } from './frames/types.ts';
import { uuidFrom } from './random.ts';

export type Behaviour = (state: DeviceState, ctx: { t: Date; dtS: number; rand: () => number; local: LocalTime }) => void;
/** A fresh behaviour per simulation run, so what it carries between uplinks (fractions of a pulse) starts at zero. */
export type BehaviourFactory = () => Behaviour;

export interface SimDevice {
  devEui: string;
  /** The network server's device name (ChirpStack `deviceName`, TTS `device_id`): an identifier. */
  name: string;
  /** What the commune calls the device, in words: the registry's `name`, shown in alerts, charts and reports. */
  label?: string;
  lns: 'chirpstack-v4' | 'tts-v3';
  /** Network-server tenant name (ChirpStack) or tenant id (TTS). */
  lnsTenant: string;
  application: string;
  /** Network-server device profile: the registry maps it to a decoder. */
  profile: string;
  /** Built-in decoder, 'vendor/model' lower-case. */
  decoder: string;
  site: string;
  building?: string;
  zone?: string;
  role?: string;
  pulse?: { input?: string; quantity: 'metering.water.total' | 'metering.electricity.activeEnergy'; perPulse: number };
  intervalS: number;
  initial: DeviceState;
  behaviour: BehaviourFactory;
}

export interface LocalTime {
  hour: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

/** The application a device's topic carries: ChirpStack's application id (a UUID), The Things Stack's `app@tenant`. */
export function topicApplication(d: SimDevice): string {
  return d.lns === 'tts-v3' ? `${d.application}@${d.lnsTenant}` : uuidFrom(`app:${d.lnsTenant}:${d.application}`);
}
