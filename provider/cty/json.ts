// cty's JSON encoding (Terraform state files, UpgradeResourceState raw_state, DynamicValue.json).
// Numbers are parsed losslessly: JSON.parse would round integers beyond 2^53 and long decimals.
import type { CtyType } from './types.js';
import { typeFromJson, typeToJson } from './types.js';
import { BigNumber, DynamicValue, Unknown, exactDecimal, isObjectValue, plainDecimal } from './values.js';
import type { ObjectValue, Value } from './values.js';
import { CtyError, inferType } from './msgpack.js';

/** A parsed JSON document: like JSON.parse, but numbers that a float64 cannot hold stay BigNumber. */
export type JsonTree = null | boolean | string | number | BigNumber | JsonTree[] | { [key: string]: JsonTree };

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

export function parseJsonLossless(text: string): JsonTree {
  // Most documents (every state this provider writes) hold only short integers: JSON.parse reads those
  // exactly and is far faster. Anything else, malformed text included, takes the exact parser below.
  if (onlyShortIntegers(text)) {
    try {
      return JSON.parse(text) as JsonTree;
    } catch {
      // fall through: the parser below reports where the text is wrong
    }
  }
  return parseExact(text);
}

/**
 * True when every number outside strings is an integer of at most 15 digits, which a float64 holds
 * exactly (so JSON.parse and the exact parser agree). Digits, dots and exponents inside strings do not count.
 */
function onlyShortIntegers(text: string): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip the string, escapes included
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 15) return false;
    } else {
      // a fraction or an exponent follows a digit
      if (digits > 0 && (c === 0x2e || c === 0x65 || c === 0x45)) return false;
      digits = 0;
    }
  }
  return true;
}

function parseExact(text: string): JsonTree {
  let pos = 0;
  const fail = (what: string): never => {
    throw new CtyError(`invalid JSON at offset ${pos}: ${what}`);
  };
  const skip = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos])) pos++;
  };
  const parseValue = (): JsonTree => {
    skip();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const out: { [key: string]: JsonTree } = {};
      skip();
      if (text[pos] === '}') return pos++, out;
      for (;;) {
        skip();
        if (text[pos] !== '"') fail('expected a key');
        const key = parseString();
        skip();
        if (text[pos++] !== ':') fail('expected ":"');
        Object.defineProperty(out, key, { value: parseValue(), enumerable: true, writable: true, configurable: true });
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') return pos++, out;
        else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      pos++;
      const out: JsonTree[] = [];
      skip();
      if (text[pos] === ']') return pos++, out;
      for (;;) {
        out.push(parseValue());
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] === ']') return pos++, out;
        else fail('expected "," or "]"');
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', pos)) return (pos += 4), true;
    if (text.startsWith('false', pos)) return (pos += 5), false;
    if (text.startsWith('null', pos)) return (pos += 4), null;
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    pos += m[0].length;
    return jsonNumber(m[0]);
  };
  const parseString = (): string => {
    const start = pos;
    let escaped = false;
    pos++;
    while (pos < text.length && text.charCodeAt(pos) !== 0x22) {
      if (text.charCodeAt(pos) === 0x5c) {
        escaped = true;
        pos += 2;
      } else pos++;
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    return escaped ? (JSON.parse(text.slice(start, pos)) as string) : text.slice(start + 1, pos - 1);
  };
  const value = parseValue();
  skip();
  if (pos !== text.length) fail('trailing characters');
  return value;
}

/** A JSON number token as a JS number when that is exact, else as decimal text. */
export function jsonNumber(token: string): number | BigNumber {
  const n = Number(token);
  if (Number.isFinite(n)) {
    if (Number.isSafeInteger(n) && /^-?\d+$/.test(token)) return n;
    const big = new BigNumber(token);
    if (exactDecimal(n) === plainDecimal(big.text)) return n;
    return big;
  }
  return new BigNumber(token);
}

export interface FromJsonOptions {
  /** Drop object attributes the type does not have (state written by an older schema) instead of failing. */
  dropUnknownAttributes?: boolean;
}

/** Converts a parsed JSON tree to a value of the given type, as cty's JSON unmarshaller does. */
export function fromJsonTree(type: CtyType, tree: JsonTree, options: FromJsonOptions = {}, path: (string | number)[] = []): Value {
  if (tree === null) return null;
  const fail = (what: string): never => {
    throw new CtyError(`expected ${what}`, path);
  };
  switch (type.kind) {
    case 'string':
      // cty's JSON decoder converts primitives to string where it can.
      if (typeof tree === 'string') return tree;
      if (typeof tree === 'number' || typeof tree === 'boolean') return String(tree);
      if (tree instanceof BigNumber) return tree.text;
      return fail('a string');
    case 'number':
      if (typeof tree === 'number' || tree instanceof BigNumber) return tree;
      if (typeof tree === 'string') {
        try {
          return jsonNumber(tree.trim());
        } catch {
          return fail('a number');
        }
      }
      return fail('a number');
    case 'bool':
      if (typeof tree === 'boolean') return tree;
      if (tree === 'true' || tree === 'false') return tree === 'true';
      return fail('a bool');
    case 'dynamic': {
      if (!isPlainObject(tree) || !('type' in tree) || !('value' in tree)) return fail('{"value":…, "type":…} for a dynamic value');
      const concrete = typeFromJson(toPlainJson(tree.type));
      return new DynamicValue(concrete, fromJsonTree(concrete, tree.value, options, path));
    }
    case 'list':
    case 'set':
      if (!Array.isArray(tree)) return fail(`a ${type.kind}`);
      return tree.map((e, i) => fromJsonTree(type.element, e, options, [...path, i]));
    case 'tuple':
      if (!Array.isArray(tree) || tree.length !== type.elements.length) return fail(`a tuple of ${type.elements.length} elements`);
      return tree.map((e, i) => fromJsonTree(type.elements[i], e, options, [...path, i]));
    case 'map': {
      if (!isPlainObject(tree)) return fail('a map');
      const out: ObjectValue = {};
      for (const [k, v] of Object.entries(tree)) setOwn(out, k, fromJsonTree(type.element, v, options, [...path, k]));
      return out;
    }
    case 'object': {
      if (!isPlainObject(tree)) return fail('an object');
      const out: ObjectValue = {};
      for (const name of Object.keys(type.attributes)) out[name] = null;
      for (const [k, v] of Object.entries(tree)) {
        if (!Object.hasOwn(type.attributes, k)) {
          if (options.dropUnknownAttributes) continue;
          throw new CtyError(`unsupported attribute "${k}"`, path);
        }
        out[k] = fromJsonTree(type.attributes[k], v, options, [...path, k]);
      }
      return out;
    }
  }
}

function setOwn(target: ObjectValue, key: string, value: Value): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(tree: JsonTree): tree is { [key: string]: JsonTree } {
  return tree !== null && typeof tree === 'object' && !Array.isArray(tree) && !(tree instanceof BigNumber);
}

function toPlainJson(tree: JsonTree): unknown {
  if (tree instanceof BigNumber) return tree.toNumber();
  if (Array.isArray(tree)) return tree.map(toPlainJson);
  if (isPlainObject(tree)) return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, toPlainJson(v)]));
  return tree;
}

export function decodeJson(type: CtyType, text: string, options: FromJsonOptions = {}): Value {
  return fromJsonTree(type, parseJsonLossless(text), options);
}

/** cty JSON text of a value; unknown values have no JSON form. */
export function encodeJson(type: CtyType, value: Value): string {
  return serialize(type, value, []);
}

function serialize(type: CtyType, value: Value, path: (string | number)[]): string {
  if (value instanceof Unknown) throw new CtyError('unknown values cannot be encoded as JSON', path);
  if (type.kind === 'dynamic') {
    if (value === null) return 'null';
    const dyn = value instanceof DynamicValue ? value : new DynamicValue(inferType(value), value);
    return `{"value":${serialize(dyn.type, dyn.value, path)},"type":${JSON.stringify(typeToJson(dyn.type))}}`;
  }
  if (value === null) return 'null';
  switch (type.kind) {
    case 'string':
      return JSON.stringify(value);
    case 'bool':
      return value ? 'true' : 'false';
    case 'number':
      if (value instanceof BigNumber) return value.text;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new CtyError('expected a finite number', path);
      return Number.isInteger(value) ? BigInt(value).toString() : String(value);
    case 'list':
    case 'set':
      return `[${(value as Value[]).map((e, i) => serialize(type.element, e, [...path, i])).join(',')}]`;
    case 'tuple':
      return `[${(value as Value[]).map((e, i) => serialize(type.elements[i], e, [...path, i])).join(',')}]`;
    case 'map': {
      if (!isObjectValue(value)) throw new CtyError('expected a map', path);
      const keys = Object.keys(value).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${serialize(type.element, value[k], [...path, k])}`).join(',')}}`;
    }
    case 'object': {
      if (!isObjectValue(value)) throw new CtyError('expected an object', path);
      const names = Object.keys(type.attributes).sort();
      return `{${names.map((k) => `${JSON.stringify(k)}:${serialize(type.attributes[k], value[k] ?? null, [...path, k])}`).join(',')}}`;
    }
  }
}
