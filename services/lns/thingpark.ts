/**
 * Actility ThingPark (ThingPark Enterprise / Community, ThingPark X IoT Flow, and operators built on it), as its
 * MQTT or HTTP connections deliver it: one root key naming the message, `{"DevEUI_uplink": {…}}`,
 * `{"DevEUI_notification": {…}}`, … The topic is whatever the connection was configured with (the documented
 * example is `mqtt/things/{DevEUI}/uplink`), so the body alone identifies the format.
 * Older deployments print numbers as strings ("FPort": "1", "LrrRSSI": "-80.000000"), newer ones as numbers.
 * References: docs.thingpark.com/thingpark-x/latest/Message/uplink-message and …/notification-message;
 * ../shared/reference/lns-and-decoders.md §c.
 */
import { z } from 'zod';
import { best, devEuiHex, ignored, looseNumber, pickTime, position, rfc3339 } from './common.ts';
import type { DeviceIdentity, GatewayInfo, ParseOutcome } from './uplink.ts';
import { zodDetail } from './zod-detail.ts';

const int = looseNumber.pipe(z.number().int().min(0));

const customerData = z.looseObject({
  name: z.string().optional(),
  tags: z.array(z.unknown()).optional(),
  alr: z.looseObject({ pro: z.string().optional() }).optional(),
});

const common = {
  Time: rfc3339.optional(),
  DevEUI: devEuiHex,
  DevAddr: z.string().optional(),
  CustomerID: z.union([z.string(), z.number()]).transform(String).optional(),
  CustomerData: customerData.optional(),
  DriverCfg: z.looseObject({ mod: z.looseObject({ pId: z.string().optional(), mId: z.string().optional() }).optional() }).optional(),
};

const uplink = z.looseObject({
  ...common,
  FPort: int.default(0),
  FCntUp: int.default(0),
  MType: looseNumber.optional(),
  payload_hex: z
    .string()
    .regex(/^(?:[0-9a-fA-F]{2})*$/, 'expected hexadecimal bytes')
    .default(''),
  LrrRSSI: looseNumber.optional(),
  LrrSNR: looseNumber.optional(),
  LrrLAT: looseNumber.optional(),
  LrrLON: looseNumber.optional(),
  Lrrid: z.string().optional(),
  SpFact: looseNumber.optional(),
  Frequency: looseNumber.optional(),
  DevLrrCnt: looseNumber.optional(),
  Lrrs: z
    .looseObject({
      Lrr: z.array(z.looseObject({ Lrrid: z.string().optional(), LrrRSSI: looseNumber.optional(), LrrSNR: looseNumber.optional() })).default([]),
    })
    .optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
});

const notification = z.looseObject({
  ...common,
  Type: z.string(),
  Var1: z.union([z.string(), z.number()]).optional(),
  Var2: z.union([z.string(), z.number()]).optional(),
});

/** Root keys ThingPark sends that Veilleur counts but does not store, as metric labels. */
const IGNORED = ['downlink_sent', 'location', 'notification'] as const;

export function isThingPark(json: Record<string, unknown>): boolean {
  const keys = Object.keys(json);
  return keys.length === 1 && keys[0]!.startsWith('DevEUI_') && typeof json[keys[0]!] === 'object';
}

function identity(x: z.infer<typeof uplink> | z.infer<typeof notification>): DeviceIdentity {
  const mod = x.DriverCfg?.mod;
  const tags: Record<string, string> = {};
  // CustomerData.tags is a list such as ["site=Paris", "Bruno Devices"]: the key=value ones become device tags.
  for (const t of x.CustomerData?.tags ?? []) {
    const m = typeof t === 'string' ? /^([^=]+)=(.*)$/.exec(t) : null;
    if (m) tags[m[1]!.trim().toLowerCase()] = m[2]!.trim();
  }
  const customer = x.CustomerID ?? '';
  return {
    lns: 'thingpark',
    // The ThingPark customer (subscriber) account: map it to a commune with `lnsTenants` in the configuration.
    lnsTenant: customer,
    applicationId: customer,
    applicationName: customer ? `thingpark-${customer}` : 'thingpark',
    devEui: x.DevEUI,
    deviceName: x.CustomerData?.name ?? '',
    deviceProfile: mod?.pId && mod.mId ? `${mod.pId}/${mod.mId}` : (x.CustomerData?.alr?.pro ?? ''),
    tags,
  };
}

export function parseThingPark(topic: string, json: Record<string, unknown>, now: Date): ParseOutcome {
  const root = Object.keys(json)[0]!;
  const body = json[root];
  if (root === 'DevEUI_notification') {
    const parsed = notification.safeParse(body);
    if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'thingpark', detail: `ThingPark ${root}: ${zodDetail(parsed.error)}` };
    const n = parsed.data;
    const time = pickTime([['network_server', n.Time]], now);
    if (n.Type === 'join') return { kind: 'join', topic, ...identity(n), ...time, ...(n.DevAddr ? { devAddr: n.DevAddr } : {}) };
    if (n.Type === 'devstatusans') {
      // DevStatusAns battery (LoRaWAN 1.0.x §5.5): 0 external power, 1..254 level, 255 could not measure.
      const battery = Number(n.Var1);
      const margin = Number(n.Var2);
      return {
        kind: 'status',
        topic,
        ...identity(n),
        ...time,
        externalPowerSource: battery === 0,
        batteryLevelUnavailable: !(battery >= 1 && battery <= 254),
        ...(battery >= 1 && battery <= 254 ? { batteryLevel: Math.round((battery / 254) * 1000) / 10 } : {}),
        ...(n.Var2 !== undefined && n.Var2 !== '' && Number.isFinite(margin) ? { marginDb: margin } : {}),
      };
    }
    return ignored('thingpark', 'notification', IGNORED, `ThingPark notification '${n.Type}' is not stored`);
  }
  if (root !== 'DevEUI_uplink') {
    return ignored('thingpark', root.slice('DevEUI_'.length).toLowerCase(), IGNORED, `ThingPark ${root} message is not stored`);
  }
  const parsed = uplink.safeParse(body);
  if (!parsed.success) return { kind: 'rejected', reason: 'invalid_envelope', lns: 'thingpark', detail: `ThingPark DevEUI_uplink: ${zodDetail(parsed.error)}` };
  const u = parsed.data;
  const lrrs = u.Lrrs?.Lrr ?? [];
  const gatewayInfo: GatewayInfo[] = lrrs
    .filter((l) => l.Lrrid)
    .map((l) => {
      // Only the best LRR's position is given (LrrLAT/LrrLON, with Lrrid naming it).
      const at = l.Lrrid === u.Lrrid ? position(u.LrrLAT, u.LrrLON) : undefined;
      return { gatewayId: l.Lrrid!.toLowerCase(), ...(l.LrrRSSI !== undefined ? { rssi: l.LrrRSSI } : {}), ...(l.LrrSNR !== undefined ? { snr: l.LrrSNR } : {}), ...at };
    });
  return {
    kind: 'uplink',
    topic,
    ...identity(u),
    fPort: u.FPort,
    fCnt: u.FCntUp,
    payload: Buffer.from(u.payload_hex, 'hex'),
    // `Time` is the LRR timestamp of the frame as the network server (LRC) reports it.
    ...pickTime([['network_server', u.Time]], now),
    confirmed: u.MType === 4, // LoRaWAN MType 4 = confirmed data up
    radio: {
      gateways: u.DevLrrCnt ?? lrrs.length,
      rssi: u.LrrRSSI ?? best(lrrs.map((l) => l.LrrRSSI)),
      snr: u.LrrSNR ?? best(lrrs.map((l) => l.LrrSNR)),
      spreadingFactor: u.SpFact,
      // ThingPark gives MHz (868.1).
      frequencyHz: u.Frequency !== undefined ? Math.round(u.Frequency * 1e6) : undefined,
    },
    ...(u.payload ? { lnsObject: u.payload } : {}),
    ...(gatewayInfo.length ? { gatewayInfo } : {}),
  };
}
