// Between cty values and plain JSON (what the REST API and the model speak).
import type { CtyType } from '../cty/types.js';
import { BigNumber, DynamicValue, Unknown, isObjectValue } from '../cty/values.js';
import type { ObjectValue, Value } from '../cty/values.js';
import { inferType } from '../cty/msgpack.js';

export type Plain = null | undefined | string | number | boolean | Plain[] | { [key: string]: Plain };

/**
 * Plain JSON of a value. Null attributes are left out of objects (so API defaults apply); unknown
 * values are left out too and their paths collected, so validation can ignore what is not known yet.
 */
export function toPlain(value: Value, unknownPaths: (string | number)[][] = [], at: (string | number)[] = []): Plain {
  // `at` is one stack, pushed and popped on the way down; only an unknown takes a copy of it.
  if (value instanceof Unknown) {
    unknownPaths.push([...at]);
    return undefined;
  }
  if (value === null) return null;
  if (value instanceof BigNumber) return value.toNumber();
  if (value instanceof DynamicValue) return toPlain(value.value, unknownPaths, at);
  if (Array.isArray(value)) {
    const out: Plain[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      at.push(i);
      out[i] = toPlain(value[i], unknownPaths, at) ?? null;
      at.pop();
    }
    return out;
  }
  if (isObjectValue(value)) {
    const out: { [key: string]: Plain } = {};
    for (const k in value) {
      at.push(k);
      const p = toPlain(value[k], unknownPaths, at);
      at.pop();
      if (p !== null && p !== undefined) out[k] = p;
    }
    return out;
  }
  return value;
}

/** A value of the given type from plain JSON: missing attributes become null, unknown keys are dropped. */
export function fromPlain(type: CtyType, plain: unknown): Value {
  if (plain === null || plain === undefined) return null;
  switch (type.kind) {
    case 'string':
      return typeof plain === 'string' ? plain : typeof plain === 'number' || typeof plain === 'boolean' ? String(plain) : JSON.stringify(plain);
    case 'number':
      if (typeof plain === 'number') return plain;
      if (typeof plain === 'bigint') return Number.isSafeInteger(Number(plain)) ? Number(plain) : new BigNumber(plain.toString());
      if (typeof plain === 'string' && plain.trim() !== '' && !Number.isNaN(Number(plain))) return new BigNumber(plain.trim());
      throw new TypeError(`expected a number, got ${JSON.stringify(plain)}`);
    case 'bool':
      return Boolean(plain);
    case 'dynamic': {
      const v = plainToValue(plain);
      return new DynamicValue(inferType(v), v);
    }
    case 'list':
    case 'set':
      return Array.isArray(plain) ? plain.map((e) => fromPlain(type.element, e)) : null;
    case 'tuple':
      return Array.isArray(plain) ? type.elements.map((t, i) => fromPlain(t, plain[i])) : null;
    case 'map': {
      if (typeof plain !== 'object' || Array.isArray(plain)) return null;
      const out: ObjectValue = {};
      for (const [k, v] of Object.entries(plain)) out[k] = fromPlain(type.element, v);
      return out;
    }
    case 'object': {
      if (typeof plain !== 'object' || Array.isArray(plain)) return null;
      const src = plain as Record<string, unknown>;
      const out: ObjectValue = {};
      for (const [k, t] of Object.entries(type.attributes)) out[k] = fromPlain(t, src[k]);
      return out;
    }
  }
}

function plainToValue(plain: unknown): Value {
  if (plain === null || plain === undefined) return null;
  if (Array.isArray(plain)) return plain.map(plainToValue);
  if (typeof plain === 'object') return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, plainToValue(v)]));
  return plain as Value;
}

/** Reads one attribute of an object value as plain JSON (undefined when null or unknown). */
export function plainAttr(obj: ObjectValue | null, name: string): Plain {
  if (!obj) return undefined;
  const v = obj[name];
  if (v === null || v === undefined || v instanceof Unknown) return undefined;
  return toPlain(v);
}
