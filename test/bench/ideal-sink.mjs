/**
 * The least any MQTT → InfluxDB system can do for the comparison harness (../shared/bench), to tell what this
 * machine allows: subscribe (mqtt.js, QoS 1, acknowledged on receipt), JSON.parse, decode the three bench formats
 * with Buffer reads, one reference point per uplink (PAYLOADS.md), batches of 5,000 lines, two writes in flight.
 * No journal, no acknowledgement after storage, no sandbox, no rules, no radio metadata, no raw payload: a message
 * in flight when it stops is lost. It is a measuring stick, not a design: Veilleur must never work like this.
 * From the repository root (docs/performance.md, "What this machine allows"):
 *   ../shared/bench/suite.sh -r 3 nodered:300000 "cmd:exec sh infra/scripts/with-node.sh node --max-old-space-size=112 --max-semi-space-size=8 --v8-pool-size=1 test/bench/ideal-sink.mjs:300000"
 */
import http from 'node:http';
import mqtt from 'mqtt';

const influx = new URL(process.env.INFLUX_URL);
const path = `/write?db=${encodeURIComponent(process.env.INFLUX_DB)}&precision=ms`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
const BATCH = 5000;
let lines = [];
const bodies = [];
let inFlight = 0;

function flush() {
  if (lines.length > 0) bodies.push(lines.join('\n'));
  lines = [];
  while (inFlight < 2 && bodies.length > 0) {
    inFlight++;
    const req = http.request({ host: influx.hostname, port: influx.port, path, method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        inFlight--;
        flush();
      });
    });
    req.on('error', (err) => process.stderr.write(`ideal-sink: write failed: ${err.message}\n`));
    req.end(bodies.shift());
  }
}

/** Field text of the reference point for the format of this fPort (PAYLOADS.md), or undefined. */
function fields(fPort, b) {
  if (fPort === 10 && b.length === 5) return `backflow=${(b[4] & 2) !== 0},battery_low=${(b[4] & 4) !== 0},index_l=${b.readUInt32LE(0)},leak=${(b[4] & 1) !== 0}`;
  if (fPort === 20 && b.length === 6) return `energy_wh=${b.readUInt32LE(0)},power_w=${b.readInt16LE(4)}`;
  if (fPort === 30 && b.length === 5) return `co2_ppm=${b.readUInt16LE(3)},humidity_pct=${b[2]},temperature_c=${b.readInt16LE(0) / 10}`;
  return undefined;
}
const MEASUREMENT = { 10: 'water_meter', 20: 'energy_meter', 30: 'room_sensor' };

setInterval(flush, 200);
const client = mqtt.connect(process.env.MQTT_URL, { clientId: `ideal-sink-${process.pid}`, clean: true });
client.on('connect', () => client.subscribe('application/+/device/+/event/up', { qos: 1 }));
client.on('message', (_topic, payload) => {
  const ev = JSON.parse(payload.toString('utf8'));
  const f = fields(ev.fPort, Buffer.from(ev.data, 'base64'));
  if (f === undefined) return;
  const d = ev.deviceInfo;
  const rx = ev.rxInfo[0];
  lines.push(`${MEASUREMENT[ev.fPort]},application_name=${d.applicationName},dev_eui=${d.devEui},device_name=${d.deviceName} ${f},f_cnt=${ev.fCnt},rssi=${rx.rssi},snr=${rx.snr} ${Date.parse(ev.time)}`);
  if (lines.length >= BATCH) flush();
});
process.on('SIGTERM', () => {
  flush();
  setTimeout(() => process.exit(0), 500).unref();
  client.end(true);
});
