// JavaScript shapes of cty values, typed by a CtyType held alongside:
//   null                      null of any type
//   Unknown                   a not-yet-known value (optionally refined)
//   string | boolean          string, bool
//   number | BigNumber        number: a JS number when exact, else the decimal text
//   Value[]                   list, set (order is not significant), tuple
//   { [k]: Value }            object, map
//   DynamicValue              a value of type "dynamic" carrying its concrete type
import type { CtyType } from './types.js';
import { typeEquals } from './types.js';

/** What Terraform knows about a value that is not known yet (cty "refinements"). */
export interface Refinements {
  notNull?: boolean;
  stringPrefix?: string;
  numberMin?: { value: number | BigNumber; inclusive: boolean };
  numberMax?: { value: number | BigNumber; inclusive: boolean };
  lengthMin?: number;
  lengthMax?: number;
}

export class Unknown {
  constructor(readonly refinements: Refinements = {}) {}
  get hasRefinements(): boolean {
    return Object.keys(this.refinements).length > 0;
  }
}

export const unknown = new Unknown();

/** A number that a float64 cannot hold exactly (big integers, long decimals): kept as decimal text. */
export class BigNumber {
  constructor(readonly text: string) {
    if (!/^-?(\d+)(\.\d+)?([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a number: ${JSON.stringify(text)}`);
  }
  /** The nearest JS number (may lose precision). */
  toNumber(): number {
    return Number(this.text);
  }
  /** The value as a bigint when it is an integer in plain decimal notation. */
  toBigInt(): bigint | undefined {
    return /^-?\d+$/.test(this.text) ? BigInt(this.text) : undefined;
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

export class DynamicValue {
  constructor(
    readonly type: CtyType,
    readonly value: Value,
  ) {}
}

export type Value =
  | null
  | Unknown
  | string
  | boolean
  | number
  | BigNumber
  | DynamicValue
  | Value[]
  | { [key: string]: Value };

export type ObjectValue = { [key: string]: Value };

export function isUnknown(v: unknown): v is Unknown {
  return v instanceof Unknown;
}

export function isObjectValue(v: unknown): v is ObjectValue {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Unknown) &&
    !(v instanceof BigNumber) &&
    !(v instanceof DynamicValue)
  );
}

/** Canonical text of a number for comparisons: exact for both representations. */
export function numberKey(n: number | BigNumber): string {
  if (typeof n === 'number') return Number.isFinite(n) ? exactDecimal(n) : String(n);
  return plainDecimal(n.text);
}

/** The exact decimal expansion of a finite float64 (every binary fraction has one). */
export function exactDecimal(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString();
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent: number;
  if (exponentBits === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  // value = mantissa * 2^exponent, exponent < 0 here: = mantissa * 5^-e / 10^-e
  const scale = -exponent;
  const digits = (mantissa * 5n ** BigInt(scale)).toString().padStart(scale + 1, '0');
  const intPart = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${intPart}${frac ? '.' + frac : ''}`;
}

export function plainDecimal(text: string): string {
  // Expands exponent notation and trims zeros so decimal texts compare exactly with exactDecimal().
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (!m) return text;
  const [, sign, intPart, frac = '', expText = '0'] = m;
  const exp = Number(expText);
  let digits = intPart + frac;
  let point = intPart.length + exp;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits = digits + '0'.repeat(point - digits.length);
  const i = digits.slice(0, point).replace(/^0+(?=\d)/, '') || '0';
  const f = digits.slice(point).replace(/0+$/, '');
  const body = f ? `${i}.${f}` : i;
  return body === '0' ? '0' : sign + body;
}

/** True when every part of the value is known (nested unknowns included). */
export function isWhollyKnown(v: Value): boolean {
  if (v instanceof Unknown) return false;
  if (Array.isArray(v)) return v.every(isWhollyKnown);
  if (v instanceof DynamicValue) return isWhollyKnown(v.value);
  if (isObjectValue(v)) return Object.values(v).every(isWhollyKnown);
  return true;
}

/**
 * Value equality under a type. Sets compare without regard to order. Unknowns equal nothing, not even
 * themselves (as in cty: an unknown value is never known to be equal).
 */
export function valueEquals(type: CtyType, a: Value, b: Value): boolean {
  if (a instanceof Unknown || b instanceof Unknown) return false;
  if (a === null || b === null) return a === null && b === null;
  switch (type.kind) {
    case 'string':
    case 'bool':
      return a === b;
    case 'number':
      // two doubles are equal exactly when their decimal expansions are (NaN aside, which cty never has)
      if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
      return numberKey(a as number | BigNumber) === numberKey(b as number | BigNumber);
    case 'dynamic': {
      if (!(a instanceof DynamicValue) || !(b instanceof DynamicValue)) return false;
      return typeEquals(a.type, b.type) && valueEquals(a.type, a.value, b.value);
    }
    case 'list': {
      const la = a as Value[];
      const lb = b as Value[];
      return la.length === lb.length && la.every((e, i) => valueEquals(type.element, e, lb[i]));
    }
    case 'tuple': {
      const la = a as Value[];
      const lb = b as Value[];
      return la.length === lb.length && la.every((e, i) => valueEquals(type.elements[i], e, lb[i]));
    }
    case 'set': {
      const la = a as Value[];
      const lb = b as Value[];
      if (la.length !== lb.length) return false;
      const used = new Array<boolean>(lb.length).fill(false);
      return la.every((e) => {
        const idx = lb.findIndex((f, i) => !used[i] && valueEquals(type.element, e, f));
        if (idx < 0) return false;
        used[idx] = true;
        return true;
      });
    }
    case 'map': {
      const ma = a as ObjectValue;
      const mb = b as ObjectValue;
      const ka = Object.keys(ma);
      if (ka.length !== Object.keys(mb).length) return false;
      return ka.every((k) => Object.hasOwn(mb, k) && valueEquals(type.element, ma[k], mb[k]));
    }
    case 'object': {
      const oa = a as ObjectValue;
      const ob = b as ObjectValue;
      return Object.entries(type.attributes).every(([k, at]) => valueEquals(at, oa[k] ?? null, ob[k] ?? null));
    }
  }
}

/** A null value for each attribute of an object type. */
export function nullObject(type: CtyType & { kind: 'object' }): ObjectValue {
  const out: ObjectValue = {};
  for (const name of Object.keys(type.attributes)) out[name] = null;
  return out;
}
