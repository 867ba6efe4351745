// Shared pieces of the fuzz drivers: a seeded generator, a crash log, value descriptions and the
// catalogue of wrong values. Plain JavaScript: the drivers run in a child `node`, on dist/.
import { closeSync, openSync, writeSync } from "node:fs";

/** sfc32: small, fast, and the same sequence for the same seed on every platform. */
export function rng(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    real: (lo, hi) => lo + next() * (hi - lo),
  };
  return r;
}

/**
 * The crash log: before each case the driver writes what it is about to do, so that when the
 * process dies by a signal the parent can say which input did it. The file is rewritten in place
 * (one fixed-size record at offset 0, holding the last few cases), so it stays small however many
 * cases run.
 */
export class CaseLog {
  #fd;
  #recent = [];
  #size = 16384;
  constructor(path) {
    this.#fd = path ? openSync(path, "w") : undefined;
  }
  write(line) {
    this.#recent.push(line.length > 1500 ? `${line.slice(0, 1500)}…` : line);
    if (this.#recent.length > 6) this.#recent.shift();
    if (this.#fd === undefined) return;
    const text = Buffer.from(this.#recent.join("\n") + "\n");
    const record = Buffer.alloc(this.#size, 0x20);
    text.copy(record, 0, 0, Math.min(text.length, this.#size - 1));
    record[this.#size - 1] = 0x0a;
    writeSync(this.#fd, record, 0, record.length, 0);
  }
  close() {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}

const proxies = new WeakSet();
/** An object whose every property read throws: the error is the caller's own, so it may pass through. */
export function throwingProxy() {
  const p = new Proxy({}, {
    get() { throw new Error("fuzz: trap"); },
    has() { throw new Error("fuzz: trap"); },
    ownKeys() { throw new Error("fuzz: trap"); },
    getOwnPropertyDescriptor() { throw new Error("fuzz: trap"); },
  });
  proxies.add(p);
  return p;
}

/** An object whose `key` gives `first` on the first read and `later` afterwards (time-of-check/time-of-use). */
export function flipping(base, key, first, later) {
  const o = { ...base };
  let reads = 0;
  Object.defineProperty(o, key, { enumerable: true, get: () => (reads++ === 0 ? first : later) });
  o[Symbol.for("fuzz.flip")] = key;
  return o;
}

/** A short, exact description of a value, for the crash log. */
export function show(v, depth = 0) {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v);
  if (typeof v === "symbol") return "Symbol()";
  if (typeof v === "function") return "function";
  if (v === null || v === undefined) return String(v);
  if (proxies.has(v)) return "Proxy(throws)";
  if (ArrayBuffer.isView(v)) {
    const buffer = v.buffer;
    const tags = [];
    if (typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer) tags.push("shared");
    else if (buffer.resizable) tags.push("resizable");
    if (buffer.byteLength === 0 && v.length === 0 && buffer.detached) tags.push("detached");
    if (v.byteOffset) tags.push(`offset ${v.byteOffset}`);
    let preview = "";
    if (v.length > 0 && v.length <= 6) preview = ` [${Array.from(v, (x) => show(x)).join(",")}]`;
    else if (v.length > 6) {
      let odd = "";
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === "number" && !Number.isFinite(x)) { odd = ` ${x}@${i}`; break; }
      }
      preview = odd;
    }
    return `${v.constructor.name}(${v.length}${tags.length ? ` ${tags.join(",")}` : ""})${preview}`;
  }
  if (depth > 3) return "…";
  if (Array.isArray(v)) {
    const items = v.slice(0, 6).map((x) => show(x, depth + 1));
    if (v.length > 6) items.push(`…(${v.length})`);
    return `[${items.join(",")}]`;
  }
  if (v instanceof AbortSignal) return `AbortSignal(${v.aborted ? "aborted" : "live"})`;
  if (typeof v === "object") {
    const flip = v[Symbol.for("fuzz.flip")];
    const keys = Object.keys(v).slice(0, 14);
    const fields = keys.map((k) => {
      if (k === flip) return `${k}:<flips>`;
      try {
        return `${k}:${show(v[k], depth + 1)}`;
      } catch {
        return `${k}:<throws>`;
      }
    });
    const name = v.constructor && v.constructor !== Object ? v.constructor.name : "";
    return `${name}{${fields.join(",")}}`;
  }
  return String(v);
}

export const HUGE = [2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53, 2 ** 53 + 2, 1e300, Number.MAX_VALUE];
export const BAD_NUMBERS = [NaN, Infinity, -Infinity, -1, -0, 0, 0.5, 1.5, -(2 ** 31), Number.MIN_VALUE, 1e-300, ...HUGE];
export const NOT_NUMBERS = [undefined, null, true, false, "1", "", [], {}, [1, 2], 1n, Symbol("x"), () => 1, new Date(0)];

/** A wrong value for an integer or number parameter. */
export function badNumber(r) {
  return r.chance(0.7) ? r.pick(BAD_NUMBERS) : r.pick(NOT_NUMBERS);
}

/** A value of some wrong kind, for any parameter. */
export function anything(r) {
  const choices = [
    () => r.pick(BAD_NUMBERS),
    () => r.pick(NOT_NUMBERS),
    () => throwingProxy(),
    () => new Float32Array(r.int(0, 4)),
    () => new Float64Array(3),
    () => new Int32Array(2),
    () => new Uint8Array(5),
    () => "a string",
  ];
  return r.pick(choices)();
}

const TYPED = [Float32Array, Float64Array, Int32Array, Uint32Array, Int8Array, Uint8Array, Int16Array, Uint8ClampedArray];

/** A detached typed array (its buffer was transferred): length 0. */
export function detached(Type, length) {
  const a = new Type(length);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

/**
 * A wrong typed array where a `Type` of `length` elements is expected: another element type, a
 * length off by one or zero, a resizable or detached buffer, or no typed array at all. `fill`
 * gives contents where the kind of wrong leaves them meaningful.
 */
export function badTyped(r, Type, length, fill) {
  const made = (T, n) => {
    const a = new T(n);
    if (fill && T === Type) fill(a);
    return a;
  };
  const choices = [
    () => made(r.pick(TYPED.filter((T) => T !== Type)), length),
    () => made(Type, 0),
    () => made(Type, length + 1),
    () => made(Type, Math.max(0, length - 1)),
    () => made(Type, length * 2 + 3),
    () => {
      const a = new Type(new ArrayBuffer(length * Type.BYTES_PER_ELEMENT, { maxByteLength: (length + 8) * Type.BYTES_PER_ELEMENT }));
      if (fill) fill(a);
      return a;
    },
    () => detached(Type, length),
    () => Array.from({ length }, () => 0),
    () => r.pick(NOT_NUMBERS),
    () => throwingProxy(),
  ];
  return r.pick(choices)();
}

/** A typed array of the right type and length that is unusual but valid: shared memory or an offset view. */
export function oddValid(r, Type, length, fill) {
  let a;
  if (r.chance(0.5)) a = new Type(new SharedArrayBuffer(Math.max(length, 0) * Type.BYTES_PER_ELEMENT));
  else {
    const offset = r.int(1, 3);
    a = new Type(length + offset + 2).subarray(offset, offset + length);
  }
  if (fill) fill(a);
  return a;
}

/** Names in an error message that count as naming the parameter. */
export function namesOne(message, names) {
  return names.some((n) => message.includes(n));
}

export const STATE = /disposed|busy|already training|operation is running|while fit\(\) is running|await it first/;
export const NUMERIC = /not finite|no longer finite|diverged/;
