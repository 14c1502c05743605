// cty's msgpack encoding of DynamicValue (Terraform's object wire format), both directions.
//
// Both directions work on the bytes directly, guided by the type: cty needs ordered maps (sorted attribute
// names), integer map keys in refinements, and "bin" for the type of a dynamic value, none of which a
// plain-object encoder can express; and decoding straight into typed values skips the generic tree a
// msgpack library builds first (Terraform sends several DynamicValues with every call). @msgpack/msgpack
// only reads the small refinement maps inside unknowns.
import { Decoder } from '@msgpack/msgpack';
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
  /** An integer in [-2^31, 2^32): the same bytes as int(), in plain number arithmetic. */
  smallInt(v: number): void {
    if (v >= 0) {
      if (v < 0x80) this.u8(v);
      else if (v <= 0xff) (this.u8(0xcc), this.u8(v));
      else if (v <= 0xffff) (this.u8(0xcd), this.u16(v));
      else (this.u8(0xce), this.u32(v));
    } else if (v >= -32) this.u8(v & 0xff);
    else if (v >= -128) (this.u8(0xd0), this.u8(v & 0xff));
    else if (v >= -32768) (this.u8(0xd1), this.u16(v & 0xffff));
    else (this.u8(0xd2), this.u32(v >>> 0));
  }
  float64(v: number): void {
    this.u8(0xcb);
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    // Short ASCII strings (attribute names, most values) are copied byte by byte: no native calls.
    const len = s.length;
    if (len < 32) {
      this.ensure(len + 1);
      const buf = this.buf;
      const start = this.pos;
      let i = 0;
      while (i < len) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
        i++;
      }
      if (i === len) {
        buf[start] = 0xa0 | len;
        this.pos = start + 1 + len;
        return;
      }
    }
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
    // Integers up to 32 bits (counts, ports, versions) without BigInt arithmetic.
    if (Number.isInteger(n) && n >= -0x80000000 && n <= 0xffffffff) return w.smallInt(n);
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

// Only the refinement maps inside unknowns (integer keys) go through the library.
const refinementDecoder = new Decoder({ useBigInt64: true });

function invalid(message: string): CtyError {
  return new CtyError(`invalid msgpack: ${message}`);
}

/** What a msgpack head byte holds, for error messages. */
function describeHead(b: number): string {
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xca && b <= 0xd3)) return 'a number';
  if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) return 'a string';
  if ((b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd) return 'an array';
  if ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf) return 'a map';
  if (b >= 0xc4 && b <= 0xc6) return 'bytes';
  if (b === 0xc2 || b === 0xc3) return 'a boolean';
  return `byte 0x${b.toString(16)}`;
}

function isExtHead(b: number): boolean {
  return (b >= 0xd4 && b <= 0xd8) || (b >= 0xc7 && b <= 0xc9);
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  private readonly buf: Buffer;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw invalid(`unexpected end of data at byte ${this.pos}`);
  }
  peek(): number {
    this.need(1);
    return this.bytes[this.pos];
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  utf8(n: number): string {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return this.buf.toString('utf8', start, this.pos);
  }
  /** The string at the head byte b (already consumed), or undefined when it is not a string. */
  stringAfter(b: number): string | undefined {
    if (b >= 0xa0 && b <= 0xbf) return this.utf8(b & 0x1f);
    if (b === 0xd9) return this.utf8(this.u8());
    if (b === 0xda) return this.utf8(this.u16());
    if (b === 0xdb) return this.utf8(this.u32());
    return undefined;
  }
  arrayLengthAfter(b: number): number | undefined {
    if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
    if (b === 0xdc) return this.u16();
    if (b === 0xdd) return this.u32();
    return undefined;
  }
  mapLengthAfter(b: number): number | undefined {
    if (b >= 0x80 && b <= 0x8f) return b & 0x0f;
    if (b === 0xde) return this.u16();
    if (b === 0xdf) return this.u32();
    return undefined;
  }
  binLengthAfter(b: number): number | undefined {
    if (b === 0xc4) return this.u8();
    if (b === 0xc5) return this.u16();
    if (b === 0xc6) return this.u32();
    return undefined;
  }
  /** A number (int, uint, float) or a decimal string at head byte b, as cty sends numbers. */
  numberAfter(b: number): number | BigNumber | undefined {
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return readNumber(v);
      }
      case 0xd0: {
        this.need(1);
        return this.view.getInt8(this.pos++);
      }
      case 0xd1: {
        this.need(2);
        const v = this.view.getInt16(this.pos);
        this.pos += 2;
        return v;
      }
      case 0xd2: {
        this.need(4);
        const v = this.view.getInt32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xd3: {
        this.need(8);
        const v = this.view.getBigInt64(this.pos);
        this.pos += 8;
        return readNumber(v);
      }
      case 0xca: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xcb: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
    }
    const s = this.stringAfter(b);
    return s === undefined ? undefined : readNumber(s);
  }
  /** A map key: cty writes strings; the library's rule (string or number keys, never "__proto__") applies. */
  key(): string {
    const b = this.u8();
    const s = this.stringAfter(b);
    let key: string;
    if (s !== undefined) key = s;
    else {
      const n = b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3) || b === 0xca || b === 0xcb ? this.numberAfter(b) : undefined;
      if (typeof n !== 'number') throw invalid(`The type of key must be string or number but ${describeHead(b).replace(/^an? /, '')}`);
      key = String(n);
    }
    if (key === '__proto__') throw invalid('The key __proto__ is not allowed');
    return key;
  }
  /** An extension at head byte b (already consumed): its type and payload. */
  ext(b: number): { type: number; data: Uint8Array } {
    let n: number;
    switch (b) {
      case 0xd4:
        n = 1;
        break;
      case 0xd5:
        n = 2;
        break;
      case 0xd6:
        n = 4;
        break;
      case 0xd7:
        n = 8;
        break;
      case 0xd8:
        n = 16;
        break;
      case 0xc7:
        n = this.u8();
        break;
      case 0xc8:
        n = this.u16();
        break;
      default:
        n = this.u32();
    }
    const type = this.u8();
    return { type: type > 0x7f ? type - 0x100 : type, data: this.take(n) };
  }
}

function readUnknown(ext: { type: number; data: Uint8Array }): Unknown {
  if (ext.type !== REFINED_UNKNOWN_EXT || ext.data.length === 0) return new Unknown();
  let decoded: unknown;
  try {
    decoded = refinementDecoder.decode(ext.data);
  } catch {
    return new Unknown(); // malformed refinements only lose precision, never the unknown-ness
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) return new Unknown();
  const r: Refinements = {};
  for (const [key, v] of Object.entries(decoded as Record<string, unknown>)) {
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
  throw new CtyError(`expected a number, got ${typeof raw}`);
}

const attributeNames = new WeakMap<CtyType, string[]>();

function namesOf(type: CtyType & { kind: 'object' }): string[] {
  let names = attributeNames.get(type);
  if (!names) attributeNames.set(type, (names = Object.keys(type.attributes)));
  return names;
}

function read(r: Reader, type: CtyType): Value {
  const b = r.u8();
  if (b === 0xc0) return null;
  if (isExtHead(b)) return readUnknown(r.ext(b)); // any extension is an unknown (ext -1, a timestamp, too)
  const fail = (what: string): never => {
    throw new CtyError(`expected ${what}, got ${describeHead(b)}`);
  };
  switch (type.kind) {
    case 'dynamic': {
      if (r.arrayLengthAfter(b) !== 2) return fail('a [type, value] pair for a dynamic value');
      const tb = r.u8();
      const binLength = r.binLengthAfter(tb);
      const typeText = binLength !== undefined ? Buffer.from(r.take(binLength)).toString('utf8') : r.stringAfter(tb);
      if (typeText === undefined) throw new CtyError(`expected a type, got ${describeHead(tb)}`);
      let concrete: CtyType;
      try {
        concrete = typeFromJson(JSON.parse(typeText));
      } catch (e) {
        throw new CtyError(`invalid dynamic type: ${(e as Error).message}`);
      }
      return new DynamicValue(concrete, read(r, concrete));
    }
    case 'string': {
      const s = r.stringAfter(b);
      return s !== undefined ? s : fail('a string');
    }
    case 'bool':
      return b === 0xc3 ? true : b === 0xc2 ? false : fail('a bool');
    case 'number': {
      const n = r.numberAfter(b);
      return n !== undefined ? n : fail('a number');
    }
    case 'list':
    case 'set': {
      const n = r.arrayLengthAfter(b);
      if (n === undefined) return fail(`a ${type.kind}`);
      const out: Value[] = new Array(n);
      for (let i = 0; i < n; i++) {
        try {
          out[i] = read(r, type.element);
        } catch (e) {
          throw within(e, i);
        }
      }
      return out;
    }
    case 'tuple': {
      const n = r.arrayLengthAfter(b);
      if (n !== type.elements.length) return fail(`a tuple of ${type.elements.length} elements`);
      const out: Value[] = new Array(n);
      for (let i = 0; i < n; i++) {
        try {
          out[i] = read(r, type.elements[i]);
        } catch (e) {
          throw within(e, i);
        }
      }
      return out;
    }
    case 'map': {
      const n = r.mapLengthAfter(b);
      if (n === undefined) return fail('a map');
      const out: ObjectValue = {};
      for (let i = 0; i < n; i++) {
        const k = r.key();
        try {
          out[k] = read(r, type.element);
        } catch (e) {
          throw within(e, k);
        }
      }
      return out;
    }
    case 'object': {
      const n = r.mapLengthAfter(b);
      if (n === undefined) return fail('an object');
      const out: ObjectValue = {};
      for (const name of namesOf(type)) out[name] = null;
      for (let i = 0; i < n; i++) {
        const k = r.key();
        if (!Object.hasOwn(type.attributes, k)) throw new CtyError(`unsupported attribute "${k}"`);
        try {
          out[k] = read(r, type.attributes[k]);
        } catch (e) {
          throw within(e, k);
        }
      }
      return out;
    }
  }
}

export function decodeMsgpack(type: CtyType, bytes: Uint8Array): Value {
  const r = new Reader(bytes);
  const value = read(r, type);
  if (r.remaining > 0) throw invalid(`${r.remaining} extra byte(s) after the value`);
  return value;
}
