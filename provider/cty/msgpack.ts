// cty's msgpack encoding of DynamicValue (Terraform's object wire format), both directions.
//
// Decoding uses @msgpack/msgpack to read the bytes into a generic tree, then walks it with the type.
// Encoding writes bytes directly: cty needs ordered maps (sorted attribute names), integer map keys in
// refinements, and "bin" for the type of a dynamic value, none of which a plain-object encoder can express.
import { Decoder, ExtData } from '@msgpack/msgpack';
import type { CtyType } from './types.js';
import { typeFromJson, typeToJson } from './types.js';
import { BigNumber, DynamicValue, Unknown, exactDecimal, isObjectValue, plainDecimal } from './values.js';
import type { ObjectValue, Refinements, Value } from './values.js';

export class CtyError extends Error {
  readonly path: (string | number)[];
  constructor(
    readonly reason: string,
    path: (string | number)[] = [],
  ) {
    super(reason);
    this.path = [...path];
    this.message = this.render();
  }
  /** Adds the step leading to where the error happened (errors travel up without paths being built). */
  within(step: string | number): this {
    this.path.unshift(step);
    this.message = this.render();
    return this;
  }
  private render(): string {
    return this.path.length > 0 ? `${formatPath(this.path)}: ${this.reason}` : this.reason;
  }
}

function within(e: unknown, step: string | number): unknown {
  return e instanceof CtyError ? e.within(step) : e;
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

const UNKNOWN_EXT = 0;
const REFINED_UNKNOWN_EXT = 12;
// Refinement map keys (cty/msgpack/unknown.go).
const REFINE_NULLNESS = 1;
const REFINE_STRING_PREFIX = 2;
const REFINE_NUMBER_MIN = 3;
const REFINE_NUMBER_MAX = 4;
const REFINE_LENGTH_MIN = 5;
const REFINE_LENGTH_MAX = 6;

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

class Writer {
  private buf = Buffer.allocUnsafe(512);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  nil(): void {
    this.u8(0xc0);
  }
  bool(v: boolean): void {
    this.u8(v ? 0xc3 : 0xc2);
  }
  int(v: bigint): void {
    if (v >= 0n) {
      if (v < 0x80n) this.u8(Number(v));
      else if (v <= 0xffn) (this.u8(0xcc), this.u8(Number(v)));
      else if (v <= 0xffffn) (this.u8(0xcd), this.u16(Number(v)));
      else if (v <= 0xffffffffn) (this.u8(0xce), this.u32(Number(v)));
      else {
        this.u8(0xcf);
        this.ensure(8);
        this.buf.writeBigUInt64BE(v, this.pos);
        this.pos += 8;
      }
    } else if (v >= -32n) this.u8(Number(v) & 0xff);
    else if (v >= -128n) (this.u8(0xd0), this.u8(Number(v) & 0xff));
    else if (v >= -32768n) (this.u8(0xd1), this.u16(Number(v) & 0xffff));
    else if (v >= -2147483648n) (this.u8(0xd2), this.u32(Number(v) >>> 0));
    else {
      this.u8(0xd3);
      this.ensure(8);
      this.buf.writeBigInt64BE(v, this.pos);
      this.pos += 8;
    }
  }
  float64(v: number): void {
    this.u8(0xcb);
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (n < 32) this.u8(0xa0 | n);
    else if (n <= 0xff) (this.u8(0xd9), this.u8(n));
    else if (n <= 0xffff) (this.u8(0xda), this.u16(n));
    else (this.u8(0xdb), this.u32(n));
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }
  bin(b: Uint8Array): void {
    const n = b.length;
    if (n <= 0xff) (this.u8(0xc4), this.u8(n));
    else if (n <= 0xffff) (this.u8(0xc5), this.u16(n));
    else (this.u8(0xc6), this.u32(n));
    this.bytes(b);
  }
  arrayHeader(n: number): void {
    if (n < 16) this.u8(0x90 | n);
    else if (n <= 0xffff) (this.u8(0xdc), this.u16(n));
    else (this.u8(0xdd), this.u32(n));
  }
  mapHeader(n: number): void {
    if (n < 16) this.u8(0x80 | n);
    else if (n <= 0xffff) (this.u8(0xde), this.u16(n));
    else (this.u8(0xdf), this.u32(n));
  }
  ext(type: number, data: Uint8Array): void {
    const n = data.length;
    const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
    if (fixed[n] !== undefined) this.u8(fixed[n]);
    else if (n <= 0xff) (this.u8(0xc7), this.u8(n));
    else if (n <= 0xffff) (this.u8(0xc8), this.u16(n));
    else (this.u8(0xc9), this.u32(n));
    this.u8(type & 0xff);
    this.bytes(data);
  }
  result(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos);
  }
}

function writeNumber(w: Writer, n: number | BigNumber): void {
  if (typeof n === 'number') {
    if (Number.isNaN(n)) throw new CtyError('NaN is not a valid number');
    if (Number.isInteger(n)) {
      const big = BigInt(n);
      if (big >= INT64_MIN && big <= UINT64_MAX) return w.int(big);
    }
    return w.float64(n);
  }
  // Same choice as cty: an exact int64, else an exact float64, else the decimal text.
  const asInt = n.toBigInt();
  if (asInt !== undefined && asInt >= INT64_MIN && asInt <= UINT64_MAX) return w.int(asInt);
  const asFloat = n.toNumber();
  if (Number.isFinite(asFloat) && exactDecimal(asFloat) === plainDecimal(n.text)) return w.float64(asFloat);
  w.str(n.text);
}

function writeRefinements(r: Refinements): Uint8Array {
  const w = new Writer();
  const entries: [number, () => void][] = [];
  if (r.notNull) entries.push([REFINE_NULLNESS, () => w.bool(false)]);
  if (r.stringPrefix !== undefined) entries.push([REFINE_STRING_PREFIX, () => w.str(r.stringPrefix!)]);
  for (const [key, bound] of [
    [REFINE_NUMBER_MIN, r.numberMin],
    [REFINE_NUMBER_MAX, r.numberMax],
  ] as const) {
    if (bound)
      entries.push([
        key,
        () => {
          w.arrayHeader(2);
          writeNumber(w, bound.value);
          w.bool(bound.inclusive);
        },
      ]);
  }
  if (r.lengthMin !== undefined) entries.push([REFINE_LENGTH_MIN, () => w.int(BigInt(r.lengthMin!))]);
  if (r.lengthMax !== undefined) entries.push([REFINE_LENGTH_MAX, () => w.int(BigInt(r.lengthMax!))]);
  w.mapHeader(entries.length);
  for (const [key, write] of entries) {
    w.int(BigInt(key));
    write();
  }
  return w.result();
}

function writeUnknown(w: Writer, u: Unknown): void {
  if (!u.hasRefinements) return w.ext(UNKNOWN_EXT, new Uint8Array([0]));
  w.ext(REFINED_UNKNOWN_EXT, writeRefinements(u.refinements));
}

/** Best-effort type of a plain value, for values put into "dynamic" positions without a type. */
export function inferType(value: Value): CtyType {
  if (value === null || value instanceof Unknown) return { kind: 'dynamic' };
  if (typeof value === 'string') return { kind: 'string' };
  if (typeof value === 'boolean') return { kind: 'bool' };
  if (typeof value === 'number' || value instanceof BigNumber) return { kind: 'number' };
  if (value instanceof DynamicValue) return value.type;
  if (Array.isArray(value)) return { kind: 'tuple', elements: value.map(inferType) };
  const attributes: Record<string, CtyType> = {};
  for (const [k, v] of Object.entries(value)) attributes[k] = inferType(v);
  return { kind: 'object', attributes };
}

function write(w: Writer, type: CtyType, value: Value): void {
  if (type.kind === 'dynamic' && value !== null && !(value instanceof Unknown)) {
    const dyn = value instanceof DynamicValue ? value : new DynamicValue(inferType(value), value);
    if (dyn.type.kind === 'dynamic') return write(w, dyn.type, dyn.value);
    w.arrayHeader(2);
    w.bin(Buffer.from(JSON.stringify(typeToJson(dyn.type)), 'utf8'));
    return write(w, dyn.type, dyn.value);
  }
  if (value instanceof Unknown) return writeUnknown(w, value);
  if (value === null || value === undefined) return w.nil();
  const fail = (what: string): never => {
    throw new CtyError(`expected ${what}, got ${describe(value)}`);
  };
  switch (type.kind) {
    case 'string':
      return typeof value === 'string' ? w.str(value) : fail('a string');
    case 'bool':
      return typeof value === 'boolean' ? w.bool(value) : fail('a bool');
    case 'number':
      return typeof value === 'number' || value instanceof BigNumber ? writeNumber(w, value) : fail('a number');
    case 'list':
    case 'set': {
      if (!Array.isArray(value)) return fail(`a ${type.kind}`);
      w.arrayHeader(value.length);
      for (let i = 0; i < value.length; i++) {
        try {
          write(w, type.element, value[i]);
        } catch (e) {
          throw within(e, i);
        }
      }
      return;
    }
    case 'tuple': {
      if (!Array.isArray(value) || value.length !== type.elements.length)
        return fail(`a tuple of ${type.elements.length} elements`);
      w.arrayHeader(value.length);
      for (let i = 0; i < value.length; i++) {
        try {
          write(w, type.elements[i], value[i]);
        } catch (e) {
          throw within(e, i);
        }
      }
      return;
    }
    case 'map': {
      if (!isObjectValue(value)) return fail('a map');
      const keys = sortedKeys(Object.keys(value));
      w.mapHeader(keys.length);
      for (const k of keys) {
        w.str(k);
        try {
          write(w, type.element, value[k]);
        } catch (e) {
          throw within(e, k);
        }
      }
      return;
    }
    case 'object': {
      if (!isObjectValue(value)) return fail('an object');
      for (const k in value)
        if (!Object.hasOwn(type.attributes, k)) throw new CtyError(`unsupported attribute "${k}"`);
      const names = attributeOrder(type);
      w.mapHeader(names.length);
      for (const name of names) {
        w.str(name);
        try {
          write(w, type.attributes[name], value[name] ?? null);
        } catch (e) {
          throw within(e, name);
        }
      }
      return;
    }
    case 'dynamic':
      return; // unreachable: handled above
  }
}

// Go sorts strings by bytes; JavaScript's default sort (UTF-16 units) agrees for ASCII, so the byte
// comparison is only needed for other keys.
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedKeys(keys: string[]): string[] {
  return keys.every((k) => /^[\x00-\x7f]*$/.test(k)) ? keys.sort() : keys.sort(compareBytes);
}

const attributeOrders = new WeakMap<CtyType, string[]>();

function attributeOrder(type: CtyType & { kind: 'object' }): string[] {
  let names = attributeOrders.get(type);
  if (!names) attributeOrders.set(type, (names = sortedKeys(Object.keys(type.attributes))));
  return names;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v instanceof BigNumber) return 'a number';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export function encodeMsgpack(type: CtyType, value: Value): Uint8Array {
  const w = new Writer();
  write(w, type, value);
  return w.result();
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

// The library refuses a "__proto__" map key (prototype safety), which then reads as invalid msgpack.
const decoder = new Decoder({ useBigInt64: true });

function entries(raw: Record<string, unknown>): [string, unknown][] {
  return Object.entries(raw);
}

function isExtension(raw: unknown): boolean {
  // ext -1 (timestamp) is decoded to a Date by the library; cty never sends it, but any ext is unknown.
  return raw instanceof ExtData || raw instanceof Date;
}

function readUnknown(raw: unknown): Unknown {
  if (!(raw instanceof ExtData) || raw.type !== REFINED_UNKNOWN_EXT) return new Unknown();
  const data = raw.data instanceof Uint8Array ? raw.data : new Uint8Array(0);
  if (data.length === 0) return new Unknown();
  let decoded: unknown;
  try {
    decoded = decoder.decode(data);
  } catch {
    return new Unknown(); // malformed refinements only lose precision, never the unknown-ness
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) return new Unknown();
  const r: Refinements = {};
  for (const [key, v] of entries(decoded as Record<string, unknown>)) {
    switch (Number(key)) {
      case REFINE_NULLNESS:
        if (v === false) r.notNull = true;
        break;
      case REFINE_STRING_PREFIX:
        if (typeof v === 'string') r.stringPrefix = v;
        break;
      case REFINE_NUMBER_MIN:
      case REFINE_NUMBER_MAX:
        if (Array.isArray(v) && v.length === 2) {
          const bound = { value: readNumber(v[0]), inclusive: v[1] === true };
          if (Number(key) === REFINE_NUMBER_MIN) r.numberMin = bound;
          else r.numberMax = bound;
        }
        break;
      case REFINE_LENGTH_MIN:
        r.lengthMin = Number(v);
        break;
      case REFINE_LENGTH_MAX:
        r.lengthMax = Number(v);
        break;
    }
  }
  return new Unknown(r);
}

function readNumber(raw: unknown): number | BigNumber {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) && BigInt(Number(raw)) === raw ? Number(raw) : new BigNumber(raw.toString());
  if (typeof raw === 'string') {
    // cty sends numbers that fit neither int64 nor float64 exactly as decimal text; keep it exact.
    try {
      return new BigNumber(raw.trim());
    } catch {
      throw new CtyError(`invalid number ${JSON.stringify(raw)}`);
    }
  }
  throw new CtyError(`expected a number, got ${describeRaw(raw)}`);
}

function describeRaw(raw: unknown): string {
  if (raw instanceof Uint8Array) return 'bytes';
  if (Array.isArray(raw)) return 'an array';
  if (raw === null) return 'null';
  return typeof raw === 'object' ? 'a map' : `a ${typeof raw}`;
}

function read(type: CtyType, raw: unknown): Value {
  if (isExtension(raw)) return readUnknown(raw);
  if (raw === null || raw === undefined) return null;
  const fail = (what: string): never => {
    throw new CtyError(`expected ${what}, got ${describeRaw(raw)}`);
  };
  switch (type.kind) {
    case 'dynamic': {
      if (!Array.isArray(raw) || raw.length !== 2) return fail('a [type, value] pair for a dynamic value');
      const typeRaw = raw[0];
      const typeText =
        typeRaw instanceof Uint8Array ? Buffer.from(typeRaw).toString('utf8') : typeof typeRaw === 'string' ? typeRaw : fail('a type');
      let concrete: CtyType;
      try {
        concrete = typeFromJson(JSON.parse(typeText));
      } catch (e) {
        throw new CtyError(`invalid dynamic type: ${(e as Error).message}`);
      }
      return new DynamicValue(concrete, read(concrete, raw[1]));
    }
    case 'string':
      return typeof raw === 'string' ? raw : fail('a string');
    case 'bool':
      return typeof raw === 'boolean' ? raw : fail('a bool');
    case 'number':
      return readNumber(raw);
    case 'list':
    case 'set':
      if (!Array.isArray(raw)) return fail(`a ${type.kind}`);
      return raw.map((e, i) => {
        try {
          return read(type.element, e);
        } catch (err) {
          throw within(err, i);
        }
      });
    case 'tuple':
      if (!Array.isArray(raw) || raw.length !== type.elements.length)
        return fail(`a tuple of ${type.elements.length} elements`);
      return raw.map((e, i) => {
        try {
          return read(type.elements[i], e);
        } catch (err) {
          throw within(err, i);
        }
      });
    case 'map': {
      if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) return fail('a map');
      const out: ObjectValue = {};
      for (const [k, v] of entries(raw as Record<string, unknown>)) {
        try {
          out[k] = read(type.element, v);
        } catch (err) {
          throw within(err, k);
        }
      }
      return out;
    }
    case 'object': {
      if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) return fail('an object');
      const out: ObjectValue = {};
      for (const name of Object.keys(type.attributes)) out[name] = null;
      for (const [k, v] of entries(raw as Record<string, unknown>)) {
        if (!Object.hasOwn(type.attributes, k)) throw new CtyError(`unsupported attribute "${k}"`);
        try {
          out[k] = read(type.attributes[k], v);
        } catch (err) {
          throw within(err, k);
        }
      }
      return out;
    }
  }
}

export function decodeMsgpack(type: CtyType, bytes: Uint8Array): Value {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (e) {
    if (e instanceof CtyError) throw e;
    throw new CtyError(`invalid msgpack: ${(e as Error).message}`);
  }
  return read(type, raw);
}
