/**
 * Operator-supplied payload codecs in the LoRa Alliance TS013 form (`decodeUplink({bytes, fPort, recvTime})` →
 * `{data, warnings, errors}`), as the TTN device repository and ChirpStack use them.
 *
 * A codec runs in its own worker thread (its own V8 isolate, with a memory limit), inside a `vm` context that has
 * no `require`, `process` or timers. Calls are synchronous for the caller: the input goes through a
 * SharedArrayBuffer, the caller blocks on `Atomics.wait` for at most `timeoutMs`, and a codec that has not
 * answered by then is terminated and replaced. So a codec that throws, loops forever, eats memory or returns
 * garbage costs one clear error for that uplink — never a hang or a crash of the service.
 */
import { Worker } from 'node:worker_threads';

export interface Ts013Output {
  data?: Record<string, unknown>;
  warnings: string[];
  errors: string[];
}

// ctrl[0]: state; ctrl[1]: byte length in `data`; ctrl[2]: 0 = the codec's output (JSON), 1 = an error message.
const STATE = 0;
const LENGTH = 1;
const KIND = 2;
const IDLE = 0;
const REQUEST = 1;
const RESPONSE = 2;
const READY = 3;
const DATA_BYTES = 1 << 20;

/**
 * The worker's program, as plain JavaScript text: a function's toString() would carry whatever helpers the
 * TypeScript loader or the bundler inserted, which do not exist inside the worker.
 */
const WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
const vm = require('node:vm');
const ctrl = new Int32Array(workerData.ctrl);
const data = new Uint8Array(workerData.data);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const context = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } });
let loadError = '';
try {
  new vm.Script(workerData.source, { filename: workerData.name }).runInContext(context);
  if (typeof context.decodeUplink !== 'function') loadError = 'the codec defines no decodeUplink function';
} catch (e) {
  loadError = 'the codec does not load: ' + String(e && e.message ? e.message : e);
}
// Inputs are built inside the codec's realm (its own Array and Date), as a TS013 runtime passes them.
new vm.Script('var __veilleurMake = function (s) { var i = JSON.parse(s); return { bytes: i.bytes, fPort: i.fPort, recvTime: new Date(i.recvTime) }; };').runInContext(context);
const call = new vm.Script('__veilleurOut = JSON.stringify(decodeUplink(__veilleurMake(__veilleurIn)))');
function reply(kind, text) {
  let bytes = encoder.encode(text);
  if (bytes.length > data.length) {
    kind = 1;
    bytes = encoder.encode('output larger than ' + data.length + ' bytes');
  }
  data.set(bytes);
  Atomics.store(ctrl, 1, bytes.length);
  Atomics.store(ctrl, 2, kind);
  Atomics.store(ctrl, 0, 2);
  Atomics.notify(ctrl, 0);
}
Atomics.store(ctrl, 0, 3);
Atomics.notify(ctrl, 0);
for (;;) {
  for (let s = Atomics.load(ctrl, 0); s !== 1; s = Atomics.load(ctrl, 0)) Atomics.wait(ctrl, 0, s);
  if (loadError) {
    reply(1, loadError);
    continue;
  }
  try {
    context.__veilleurIn = decoder.decode(data.subarray(0, Atomics.load(ctrl, 1)));
    call.runInContext(context);
    const out = context.__veilleurOut;
    if (typeof out === 'string') reply(0, out);
    else reply(1, 'decodeUplink returned nothing');
  } catch (e) {
    reply(1, 'decodeUplink threw: ' + String(e && e.message ? e.message : e));
  }
}
`;

export class Ts013Codec {
  private worker: Worker | undefined;
  // Fresh shared buffers for every worker: a terminated one can never write into its successor's exchange.
  private ctrl = new Int32Array(new SharedArrayBuffer(12));
  private data = new Uint8Array(new SharedArrayBuffer(0));
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  /** Workers replaced after a timeout or a crash since start, for metrics and tests. */
  restarts = 0;

  constructor(
    readonly name: string,
    private readonly source: string,
    private readonly timeoutMs = 100,
    private readonly memoryMb = 32,
  ) {}

  private start(): boolean {
    this.ctrl = new Int32Array(new SharedArrayBuffer(12));
    this.data = new Uint8Array(new SharedArrayBuffer(DATA_BYTES));
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ctrl: this.ctrl.buffer, data: this.data.buffer, source: this.source, name: this.name },
      resourceLimits: { maxOldGenerationSizeMb: this.memoryMb, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
      env: {},
      stdout: true,
      stderr: true,
    });
    worker.unref();
    // A codec that exhausts its memory limit ends its worker; the next call starts a new one.
    worker.on('error', () => {
      if (this.worker === worker) this.worker = undefined;
    });
    this.worker = worker;
    return Atomics.wait(this.ctrl, STATE, IDLE, 5000) !== 'timed-out' && Atomics.load(this.ctrl, STATE) === READY;
  }

  /** Decodes one payload; never throws, never blocks longer than the time limit (plus a worker start). */
  decode(bytes: Uint8Array, fPort: number, recvTime: Date): Ts013Output {
    if (!this.worker && !this.start()) {
      this.stop();
      return { warnings: [], errors: [`codec '${this.name}': its worker did not start`] };
    }
    const input = this.encoder.encode(JSON.stringify({ bytes: Array.from(bytes), fPort, recvTime: recvTime.getTime() }));
    this.data.set(input);
    Atomics.store(this.ctrl, LENGTH, input.length);
    Atomics.store(this.ctrl, STATE, REQUEST);
    Atomics.notify(this.ctrl, STATE);
    Atomics.wait(this.ctrl, STATE, REQUEST, this.timeoutMs);
    if (Atomics.load(this.ctrl, STATE) !== RESPONSE) {
      this.stop();
      this.restarts++;
      return { warnings: [], errors: [`codec '${this.name}': decodeUplink did not return within ${this.timeoutMs} ms (stopped)`] };
    }
    const text = this.decoder.decode(this.data.slice(0, Atomics.load(this.ctrl, LENGTH)));
    const kind = Atomics.load(this.ctrl, KIND);
    Atomics.store(this.ctrl, STATE, IDLE);
    if (kind !== 0) return { warnings: [], errors: [`codec '${this.name}': ${text}`] };
    return parseOutput(this.name, text);
  }

  stop(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
  }
}

/** Checks the TS013 shape: `data` an object, `errors`/`warnings` arrays of strings; anything else is garbage. */
function parseOutput(name: string, json: string): Ts013Output {
  let out: unknown;
  try {
    out = JSON.parse(json);
  } catch {
    out = null;
  }
  const garbage = (what: string): Ts013Output => ({ warnings: [], errors: [`codec '${name}': decodeUplink returned ${what}; expected {data, warnings?, errors?}`] });
  if (!out || typeof out !== 'object' || Array.isArray(out)) return garbage(out === null ? 'null' : typeof out);
  const o = out as Record<string, unknown>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (o.errors !== undefined && !strings(o.errors)) return garbage('errors that are not strings');
  if (o.warnings !== undefined && !strings(o.warnings)) return garbage('warnings that are not strings');
  const errors = (o.errors as string[] | undefined) ?? [];
  if (errors.length > 0) return { warnings: (o.warnings as string[] | undefined) ?? [], errors: errors.map((e) => `codec '${name}': ${e}`) };
  if (!o.data || typeof o.data !== 'object' || Array.isArray(o.data)) return garbage('no data object');
  return { data: o.data as Record<string, unknown>, warnings: (o.warnings as string[] | undefined) ?? [], errors: [] };
}
