/**
 * Operator-supplied payload codecs in the LoRa Alliance TS013 form (`decodeUplink({bytes, fPort, recvTime})` →
 * `{data, warnings, errors}`), as the TTN device repository and ChirpStack use them.
 *
 * A codec runs in QuickJS compiled to WebAssembly (the engine ChirpStack runs codecs in too), inside a worker
 * thread of its own:
 * - isolation: the codec's code only sees QuickJS's own objects in the WASM module's linear memory — no Node API,
 *   no `require`, `process`, timers, file or network; only the input and output cross, as JSON text;
 * - time limit: QuickJS's interrupt handler stops a call once it has run `timeoutMs`;
 * - memory limit: QuickJS's allocator refuses to go past `memoryMb`;
 * - never blocking ingestion: `decode()` returns a promise; the calls made during one event-loop turn (the
 *   messages of one network read) go to the worker in one message and come back in one, and the main thread goes
 *   on meanwhile. A codec that throws, loops forever, eats memory or returns garbage costs one clear error for that
 *   uplink, and delays only the uplinks waiting for that codec.
 *
 * After a call is stopped at its time limit, the device it was made for is suspended from the codec (its uplinks
 * answered at once with the reason, for 10 s, doubling at each new stop up to 10 min), so that a frame that makes
 * the codec loop does not cost `timeoutMs` to every uplink queued behind it; when calls for 3 devices were stopped
 * within a minute, the whole codec is suspended the same way.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface Ts013Output {
  data?: Record<string, unknown>;
  warnings: string[];
  errors: string[];
}

/** Outcome of one call in the worker's reply. */
const OK = 0;
const ERROR = 1;
const TIMEOUT = 2;
const MEMORY = 3;
/** Not run: an earlier call of the same batch for this device was stopped at its time limit. */
const SKIPPED_DEVICE = 4;
/** Not run: calls for `MAX_TIMEOUTS` devices of this batch were stopped: the codec is suspended. */
const SKIPPED_CODEC = 5;

const MAX_BATCH = 256;
const MAX_TIMEOUTS = 3;
const SUSPEND_BASE_MS = 10_000;
const SUSPEND_MAX_MS = 600_000;
const CODEC_WINDOW_MS = 60_000;
/**
 * QuickJS checks its time limit between bytecode instructions, not inside one native operation (a huge
 * `Array.prototype.fill` near the memory limit can take seconds): a call still running this long after its limit
 * has its worker terminated and replaced. Generous, because a worker thread starved of CPU on a saturated machine
 * (seen in a 100,000-uplink benchmark at 500 ms) must not be taken for a stuck codec.
 */
const HARD_GRACE_MS = 2000;

/**
 * The worker's program, as plain JavaScript text: a function's toString() would carry whatever helpers the
 * TypeScript loader or the bundler inserted, which do not exist inside the worker.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { newQuickJSWASMModuleFromVariant } = require(workerData.corePath);
const variantModule = require(workerData.variantPath);
const { source, name, timeoutMs, memoryBytes } = workerData;
// [index in the batch of the call running, when it started]: read by the caller's watchdog.
const progress = new Float64Array(workerData.progress);
// Inputs are built inside the codec's realm (its own Array and Date), as a TS013 runtime passes them; JSON is
// captured before the codec runs, so a codec that replaces it only harms its own output (checked by the caller).
// An output longer than 1 MB of JSON comes back as its length only: it never enters the worker's own small heap.
const RUNNER = '(function (P, S) { return function (s) { var i = P(s); var o = S(decodeUplink({ bytes: i.b, fPort: i.p, recvTime: new Date(i.t) })); return typeof o === "string" && o.length > 1048576 ? o.length : o; }; })(JSON.parse, JSON.stringify)';

let QuickJS;
let rt;
let ctx;
let run;
let loadError = '';
let deadline = 0;
let interrupted = false;

function dispose() {
  try { run && run.dispose(); } catch {}
  try { ctx && ctx.dispose(); } catch {}
  try { rt && rt.dispose(); } catch {}
  run = ctx = rt = undefined;
}

function message(handle) {
  let e;
  try { e = ctx.dump(handle); } catch { e = 'unreadable error'; }
  try { handle.dispose(); } catch {}
  if (e && typeof e === 'object') return String(e.message !== undefined ? e.message : JSON.stringify(e));
  return String(e);
}

/** A fresh runtime and context with the codec loaded: at start, and after a call was stopped mid-way. */
function load() {
  dispose();
  rt = QuickJS.newRuntime();
  rt.setMemoryLimit(memoryBytes);
  rt.setMaxStackSize(1 << 20);
  rt.setInterruptHandler(() => {
    if (Date.now() <= deadline) return false;
    interrupted = true;
    return true;
  });
  ctx = rt.newContext();
  loadError = '';
  deadline = Date.now() + Math.max(timeoutMs, 1000);
  const loaded = ctx.evalCode(source, name + '.js');
  if (loaded.error) {
    loadError = 'the codec does not load: ' + message(loaded.error);
    return;
  }
  loaded.value.dispose();
  const fn = ctx.getProp(ctx.global, 'decodeUplink');
  const kind = ctx.typeof(fn);
  fn.dispose();
  if (kind !== 'function') {
    loadError = 'the codec defines no decodeUplink function';
    return;
  }
  const made = ctx.evalCode(RUNNER, 'veilleur-runner.js');
  if (made.error) {
    loadError = 'the codec does not load: ' + message(made.error);
    return;
  }
  run = made.value;
}

function call(input) {
  if (!ctx) load();
  if (loadError) return [1, loadError];
  interrupted = false;
  deadline = Date.now() + timeoutMs;
  let arg;
  try {
    arg = ctx.newString(input);
  } catch (e) {
    load();
    return [3, 'input does not fit in the memory limit'];
  }
  const r = ctx.callFunction(run, ctx.undefined, arg);
  arg.dispose();
  if (r.error) {
    const text = message(r.error);
    if (interrupted) {
      load();
      return [2, ''];
    }
    if (/out of memory/i.test(text)) {
      load();
      return [3, ''];
    }
    if (/stack overflow/i.test(text)) return [1, 'decodeUplink threw: ' + text + ' (stack limit 1 MB)'];
    return [1, 'decodeUplink threw: ' + text];
  }
  const kind = ctx.typeof(r.value);
  const out = kind === 'string' ? ctx.getString(r.value) : undefined;
  r.value.dispose();
  if (kind === 'number') return [1, 'decodeUplink returned more than 1 MB of JSON'];
  return out === undefined ? [1, 'decodeUplink returned nothing'] : [0, out];
}

parentPort.on('message', (batch) => {
  const n = batch.keys.length;
  const status = new Uint8Array(n);
  const out = new Array(n);
  const stoppedKeys = new Set();
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = batch.ends[i];
    const key = batch.keys[i]; // 0: no device; otherwise the device's number in this batch
    if (stoppedKeys.size >= ${MAX_TIMEOUTS}) status[i] = ${SKIPPED_CODEC};
    else if (key && stoppedKeys.has(key)) status[i] = ${SKIPPED_DEVICE};
    else {
      let bytes = '';
      for (let j = start; j < end; j++) bytes += (j > start ? ',' : '') + batch.bytes[j];
      progress[1] = Date.now();
      progress[0] = i;
      const r = call('{"b":[' + bytes + '],"p":' + batch.ports[i] + ',"t":' + batch.times[i] + '}');
      status[i] = r[0];
      out[i] = r[1];
      if (r[0] === ${TIMEOUT}) stoppedKeys.add(key || -1 - i);
    }
    start = end;
  }
  parentPort.postMessage({ status, out, restarts: 0 });
});

newQuickJSWASMModuleFromVariant(variantModule.default || variantModule).then(
  (m) => {
    QuickJS = m;
    parentPort.postMessage('ready');
  },
  (e) => parentPort.postMessage({ fatal: String(e && e.message ? e.message : e) }),
);
`;

const requireHere = createRequire(import.meta.url);
let modulePaths: { corePath: string; variantPath: string } | undefined;
function quickjsPaths(): { corePath: string; variantPath: string } {
  modulePaths ??= { corePath: requireHere.resolve('quickjs-emscripten-core'), variantPath: requireHere.resolve('@jitl/quickjs-wasmfile-release-sync') };
  return modulePaths;
}

interface Call {
  bytes: Uint8Array;
  fPort: number;
  time: number;
  key: string;
  resolve: (out: Ts013Output) => void;
}

interface Suspension {
  until: number;
  /** Consecutive stops: the next suspension lasts twice as long. */
  strikes: number;
  stoppedAt: number;
}

export class Ts013Codec {
  private worker: Worker | undefined;
  private ready = false;
  private queue: Call[] = [];
  private inflight: Call[] | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Shared with the worker: [index in the batch of the call running, when it started (ms)]. */
  private progress = new Float64Array(new SharedArrayBuffer(16));
  private scheduled = false;
  private stopped = false;
  private readonly devices = new Map<string, Suspension>();
  private codecSuspension: Suspension | undefined;
  /** When calls for distinct devices were last stopped, for the codec-wide suspension. */
  private readonly recentStops = new Map<string, number>();
  /** QuickJS contexts rebuilt after a call was stopped (time or memory limit), or workers replaced, since start. */
  restarts = 0;
  /** Calls answered without running the codec because the device or the codec was suspended. */
  suspendedCalls = 0;

  constructor(
    readonly name: string,
    private readonly source: string,
    private readonly timeoutMs = 100,
    private readonly memoryMb = 32,
  ) {}

  /**
   * Decodes one payload. `key` names the device (its DevEUI): a device whose frame made the codec loop is
   * suspended alone. Never rejects.
   */
  decode(bytes: Uint8Array, fPort: number, recvTime: Date, key = ''): Promise<Ts013Output> {
    const now = Date.now();
    const held = this.suspension(key, now);
    if (held) {
      this.suspendedCalls++;
      return Promise.resolve(held);
    }
    if (this.stopped) return Promise.resolve(this.error('the codec engine is stopped'));
    return new Promise((resolve) => {
      this.queue.push({ bytes, fPort, time: recvTime.getTime(), key, resolve });
      if (!this.inflight && !this.scheduled) {
        // Dispatched after the current event-loop turn: the messages of one network read go in one batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  stop(): void {
    this.stopped = true;
    const w = this.worker;
    this.worker = undefined;
    this.ready = false;
    if (this.watchdog) clearTimeout(this.watchdog);
    // Calls still waiting are left unanswered: the service stops after the broker connection, so their messages
    // were not acknowledged and come again at the next start; an error now would store a stray raw record.
    this.inflight = undefined;
    this.queue = [];
    if (w) void w.terminate();
  }

  private error(text: string): Ts013Output {
    return { warnings: [], errors: [`codec '${this.name}': ${text}`] };
  }

  /** The answer for a suspended device or codec, or undefined when the call may run. */
  private suspension(key: string, now: number): Ts013Output | undefined {
    const c = this.codecSuspension;
    if (c && now < c.until) {
      return this.error(
        `decodeUplink did not return within ${this.timeoutMs} ms for ${MAX_TIMEOUTS} devices at ${iso(c.stoppedAt)}; the codec is not called again until ${iso(c.until)} (uplink kept raw)`,
      );
    }
    const d = key ? this.devices.get(key) : undefined;
    if (d && now < d.until) {
      return this.error(
        `decodeUplink did not return within ${this.timeoutMs} ms for this device at ${iso(d.stoppedAt)}; not called again for it until ${iso(d.until)} (uplink kept raw)`,
      );
    }
    return undefined;
  }

  private suspend(previous: Suspension | undefined, now: number): Suspension {
    const strikes = previous ? previous.strikes + 1 : 1;
    return { until: now + Math.min(SUSPEND_BASE_MS * 2 ** (strikes - 1), SUSPEND_MAX_MS), strikes, stoppedAt: now };
  }

  private startWorker(): void {
    // A fresh exchange for every worker: a terminated one can never write into its successor's.
    this.progress = new Float64Array(new SharedArrayBuffer(16));
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ...quickjsPaths(), progress: this.progress.buffer, source: this.source, name: this.name, timeoutMs: this.timeoutMs, memoryBytes: this.memoryMb * 1024 * 1024 },
      // The worker's own heap only holds the JSON text of a batch; the codec's memory is QuickJS's, limited above.
      resourceLimits: { maxOldGenerationSizeMb: 12, maxYoungGenerationSizeMb: 2, stackSizeMb: 4 },
      env: {},
      stdout: true,
      stderr: true,
    });
    worker.unref();
    this.worker = worker;
    this.ready = false;
    worker.on('message', (m: unknown) => {
      if (this.worker !== worker) return;
      if (m === 'ready') {
        this.ready = true;
        this.dispatch();
      } else if (m && typeof m === 'object' && 'fatal' in m) this.workerFailed(worker, `its worker did not start: ${String((m as { fatal: unknown }).fatal)}`);
      else this.answer(m as { status: Uint8Array; out: Array<string | undefined> });
    });
    worker.on('error', (err) => this.workerFailed(worker, `its worker stopped: ${err.message}`));
    worker.on('exit', (code) => this.workerFailed(worker, `its worker exited (code ${code})`));
  }

  /** The worker died or hung: the calls it held get the reason, the next ones a new worker. */
  private workerFailed(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.ready = false;
    this.restarts++;
    void worker.terminate();
    if (this.watchdog) clearTimeout(this.watchdog);
    const calls = this.inflight ?? this.queue.splice(0);
    this.inflight = undefined;
    for (const c of calls) c.resolve(this.error(reason));
    if (this.queue.length) this.dispatch();
  }

  private dispatch(): void {
    if (this.stopped || this.inflight || this.queue.length === 0) return;
    if (!this.worker) this.startWorker();
    if (!this.ready) return;
    // Calls queued before a suspension began are answered now, without running.
    const now = Date.now();
    const calls: Call[] = [];
    while (this.queue.length && calls.length < MAX_BATCH) {
      const c = this.queue.shift()!;
      const held = this.suspension(c.key, now);
      if (held) {
        this.suspendedCalls++;
        c.resolve(held);
      } else calls.push(c);
    }
    if (calls.length === 0) return;
    let size = 0;
    for (const c of calls) size += c.bytes.length;
    const bytes = new Uint8Array(size);
    const ends = new Uint32Array(calls.length);
    const ports = new Uint8Array(calls.length);
    const times = new Float64Array(calls.length);
    // Devices as small numbers (1, 2, …; 0 for none): a typed array is moved to the worker, not copied string by string.
    const keys = new Uint32Array(calls.length);
    const numbers = new Map<string, number>();
    let at = 0;
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i]!;
      bytes.set(c.bytes, at);
      at += c.bytes.length;
      ends[i] = at;
      ports[i] = c.fPort;
      times[i] = c.time;
      if (c.key) {
        let n = numbers.get(c.key);
        if (n === undefined) numbers.set(c.key, (n = numbers.size + 1));
        keys[i] = n;
      }
    }
    this.inflight = calls;
    const worker = this.worker!;
    worker.ref();
    worker.postMessage({ bytes, ends, ports, times, keys }, [bytes.buffer, ends.buffer, ports.buffer, times.buffer, keys.buffer]);
    this.progress[0] = -1;
    this.progress[1] = Date.now();
    this.arm(worker, calls, HARD_GRACE_MS + this.timeoutMs);
  }

  /** Each call is stopped inside the worker at its limit; this catches one stuck in a long native operation. */
  private arm(worker: Worker, calls: Call[], inMs: number): void {
    this.watchdog = setTimeout(() => {
      if (this.worker !== worker || this.inflight !== calls) return;
      const index = this.progress[0]!;
      const late = Date.now() - this.progress[1]! - this.timeoutMs - HARD_GRACE_MS;
      if (late < 0) this.arm(worker, calls, -late + 1);
      else this.stuck(worker, calls, index);
    }, inMs);
    this.watchdog.unref();
  }

  /**
   * A call ran past its limit and the worker did not stop it: the worker is replaced, the call is answered as
   * stopped, the other calls of its batch go first in the queue again (codecs are pure: running one twice is
   * harmless).
   */
  private stuck(worker: Worker, calls: Call[], index: number): void {
    this.worker = undefined;
    this.ready = false;
    this.inflight = undefined;
    this.restarts++;
    void worker.terminate();
    const now = Date.now();
    const c = index >= 0 ? calls[index] : undefined;
    const again = calls.filter((x) => x !== c);
    this.queue.unshift(...again);
    if (c) {
      if (c.key) this.devices.set(c.key, this.suspend(this.devices.get(c.key), now));
      this.noteStops(new Set([c.key]), now);
      c.resolve(this.error(`decodeUplink did not return within ${this.timeoutMs} ms (stopped, its worker replaced)`));
    }
    this.dispatch();
  }

  private answer(reply: { status: Uint8Array; out: Array<string | undefined> }): void {
    const calls = this.inflight;
    if (!calls) return;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.inflight = undefined;
    this.worker?.unref();
    const now = Date.now();
    // Suspensions first, so that the calls the worker skipped get the reason that holds from now on.
    const stoppedKeys = new Set<string>();
    for (let i = 0; i < calls.length; i++) {
      if (reply.status[i] !== TIMEOUT) continue;
      const key = calls[i]!.key;
      stoppedKeys.add(key);
      if (key) this.devices.set(key, this.suspend(this.devices.get(key), now));
    }
    if (stoppedKeys.size) this.noteStops(stoppedKeys, now);
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i]!;
      const status = reply.status[i];
      if (status === TIMEOUT || status === MEMORY) this.restarts++;
      if (status === TIMEOUT) c.resolve(this.error(`decodeUplink did not return within ${this.timeoutMs} ms (stopped)`));
      else if (status === OK) {
        if (c.key && this.devices.has(c.key) && !stoppedKeys.has(c.key)) this.devices.delete(c.key);
        c.resolve(parseOutput(this.name, reply.out[i] ?? ''));
      } else if (status === MEMORY) c.resolve(this.error(`decodeUplink went past its memory limit of ${this.memoryMb} MB (stopped)`));
      else if (status === ERROR) c.resolve(this.error(reply.out[i] ?? 'unknown error'));
      else {
        this.suspendedCalls++;
        c.resolve(this.suspension(c.key, now) ?? this.error(`decodeUplink did not return within ${this.timeoutMs} ms for other devices of the same batch; not called`));
      }
    }
    this.dispatch();
  }

  /** Calls stopped for `MAX_TIMEOUTS` distinct devices within a minute suspend the whole codec. */
  private noteStops(keys: Set<string>, now: number): void {
    for (const k of keys) this.recentStops.set(k || `#${now}-${this.recentStops.size}`, now);
    for (const [k, t] of this.recentStops) if (now - t > CODEC_WINDOW_MS) this.recentStops.delete(k);
    if (this.recentStops.size >= MAX_TIMEOUTS) {
      this.codecSuspension = this.suspend(this.codecSuspension && now - this.codecSuspension.until < SUSPEND_MAX_MS ? this.codecSuspension : undefined, now);
      this.recentStops.clear();
    }
    // Bounded: expired suspensions are forgotten once there are many.
    if (this.devices.size > 10_000) for (const [k, s] of this.devices) if (s.until < now) this.devices.delete(k);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
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
