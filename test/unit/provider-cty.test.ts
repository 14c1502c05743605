// The cty codec against hand-computed msgpack bytes (Terraform's object wire format).
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BigNumber,
  CtyError,
  DynamicValue,
  Unknown,
  decodeJson,
  decodeMsgpack,
  encodeJson,
  encodeMsgpack,
  parseJsonLossless,
  t,
  typeFromJson,
  typeToJson,
  valueEquals,
} from '../../provider/cty/index.js';
import type { CtyType, Value } from '../../provider/cty/index.js';
import { attr, schemaType } from '../../provider/framework/schema.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const str = (s: string) => Buffer.from(s, 'utf8').toString('hex');

/** Encodes, compares with the expected bytes, decodes them back and compares the value. */
function roundTrip(type: CtyType, value: Value, bytes: string) {
  expect(toHex(encodeMsgpack(type, value))).toBe(bytes.replace(/\s+/g, ''));
  return decodeMsgpack(type, hex(bytes));
}

/** Numbers as JS numbers (BigNumber and bigint converted), -0 as 0: for comparing with generic decoders. */
function plainNumbers(x: unknown): unknown {
  if (x instanceof BigNumber) return Number(x.text);
  if (typeof x === 'bigint') return Number(x);
  if (Array.isArray(x)) return x.map(plainNumbers);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, plainNumbers(e)]));
  return Object.is(x, -0) ? 0 : x; // cty writes -0 as the integer 0
}

describe('primitives', () => {
  it('strings, bools, null', () => {
    expect(roundTrip(t.string, 'hi', 'a2 6869')).toBe('hi');
    expect(roundTrip(t.string, '', 'a0')).toBe('');
    expect(roundTrip(t.bool, true, 'c3')).toBe(true);
    expect(roundTrip(t.bool, false, 'c2')).toBe(false);
    expect(roundTrip(t.string, null, 'c0')).toBe(null);
    // a 40-byte string needs str8
    const long = 'x'.repeat(40);
    expect(roundTrip(t.string, long, 'd9 28' + str(long))).toBe(long);
    // multi-byte UTF-8 counts bytes, not characters
    expect(roundTrip(t.string, 'é', 'a2 c3a9')).toBe('é');
  });

  it('integers use the smallest msgpack int, as cty does', () => {
    expect(roundTrip(t.number, 3, '03')).toBe(3);
    expect(roundTrip(t.number, -1, 'ff')).toBe(-1);
    expect(roundTrip(t.number, 300, 'cd 012c')).toBe(300);
    expect(roundTrip(t.number, -200, 'd1 ff38')).toBe(-200);
    expect(roundTrip(t.number, 4294967296, 'cf 0000000100000000')).toBe(4294967296);
    expect(roundTrip(t.number, -(2 ** 40), 'd3 ffffff0000000000')).toBe(-(2 ** 40));
  });

  it('fractions are float64', () => {
    expect(roundTrip(t.number, 2.5, 'cb 4004000000000000')).toBe(2.5);
  });

  it('numbers beyond 2^53 stay exact', () => {
    // 2^53 + 1 as uint64
    const v = roundTrip(t.number, new BigNumber('9007199254740993'), 'cf 0020000000000001');
    expect(v).toBeInstanceOf(BigNumber);
    expect((v as BigNumber).text).toBe('9007199254740993');
    // the largest uint64
    expect((roundTrip(t.number, new BigNumber('18446744073709551615'), 'cf ffffffffffffffff') as BigNumber).text).toBe('18446744073709551615');
    // the smallest int64
    expect((roundTrip(t.number, new BigNumber('-9223372036854775808'), 'd3 8000000000000000') as BigNumber).text).toBe('-9223372036854775808');
  });

  it('numbers neither int64 nor float64 can hold travel as decimal text', () => {
    const big = '100000000000000000001';
    expect((roundTrip(t.number, new BigNumber(big), 'b5' + str(big)) as BigNumber).text).toBe(big);
    // 0.1 is not a binary fraction: cty keeps the decimal
    expect((roundTrip(t.number, new BigNumber('0.1'), 'a3 302e31') as BigNumber).text).toBe('0.1');
    // 1e20 is an exact float64 (beyond uint64): cty would send a float64
    expect(toHex(encodeMsgpack(t.number, new BigNumber('100000000000000000000')))).toBe('cb' + '4415af1d78b58c40');
    // a BigNumber that is an exact binary fraction goes as float64
    expect(toHex(encodeMsgpack(t.number, new BigNumber('2.5')))).toBe('cb4004000000000000');
  });

  it('numbers compare exactly across representations', () => {
    expect(valueEquals(t.number, 3, new BigNumber('3.000'))).toBe(true);
    expect(valueEquals(t.number, 0.1, new BigNumber('0.1'))).toBe(false);
    expect(valueEquals(t.number, new BigNumber('9007199254740993'), new BigNumber('9007199254740992'))).toBe(false);
  });
});

describe('unknown values', () => {
  it('a plain unknown is ext 0', () => {
    const v = roundTrip(t.string, new Unknown(), 'd4 00 00');
    expect(v).toBeInstanceOf(Unknown);
    expect((v as Unknown).hasRefinements).toBe(false);
  });

  it('refined unknowns (ext 12) keep their refinements', () => {
    // {1: false}: not null
    const notNull = roundTrip(t.string, new Unknown({ notNull: true }), 'c7 03 0c 81 01 c2') as Unknown;
    expect(notNull.refinements).toEqual({ notNull: true });
    // {1: false, 2: "child-of-"}
    const prefixed = roundTrip(t.string, new Unknown({ notNull: true, stringPrefix: 'child-of-' }), 'c7 0e 0c 82 01 c2 02 a9' + str('child-of-')) as Unknown;
    expect(prefixed.refinements).toEqual({ notNull: true, stringPrefix: 'child-of-' });
    // {1: false, 3: [0, true]}: number >= 0
    const bounded = roundTrip(t.number, new Unknown({ notNull: true, numberMin: { value: 0, inclusive: true } }), 'c7 07 0c 82 01 c2 03 92 00 c3') as Unknown;
    expect(bounded.refinements).toEqual({ notNull: true, numberMin: { value: 0, inclusive: true } });
    // collection length bounds {5: 1, 6: 3}
    const sized = roundTrip(t.list(t.string), new Unknown({ lengthMin: 1, lengthMax: 3 }), 'c7 05 0c 82 05 01 06 03') as Unknown;
    expect(sized.refinements).toEqual({ lengthMin: 1, lengthMax: 3 });
  });

  it('any extension type reads as unknown, wherever it appears', () => {
    // ext type 5 with 2 data bytes
    expect(decodeMsgpack(t.string, hex('d5 05 0102'))).toBeInstanceOf(Unknown);
    // ext -1 (timestamp) in a list
    const list = decodeMsgpack(t.list(t.number), hex('92 01 d6 ff 00000000')) as Value[];
    expect(list[0]).toBe(1);
    expect(list[1]).toBeInstanceOf(Unknown);
    // unknown object attribute
    const obj = decodeMsgpack(t.object({ id: t.string }), hex('81 a2 6964 d4 00 00')) as Record<string, Value>;
    expect(obj.id).toBeInstanceOf(Unknown);
  });

  it('unknowns are never equal', () => {
    expect(valueEquals(t.string, new Unknown(), new Unknown())).toBe(false);
  });
});

describe('collections and structures', () => {
  it('list and set are arrays; sets compare without order', () => {
    expect(roundTrip(t.list(t.string), ['a', 'b'], '92 a1 61 a1 62')).toEqual(['a', 'b']);
    expect(roundTrip(t.set(t.number), [1, 2], '92 01 02')).toEqual([1, 2]);
    expect(valueEquals(t.set(t.number), [1, 2], [2, 1])).toBe(true);
    expect(valueEquals(t.list(t.number), [1, 2], [2, 1])).toBe(false);
    expect(roundTrip(t.list(t.string), [], '90')).toEqual([]);
  });

  it('maps are sorted by key', () => {
    expect(roundTrip(t.map(t.string), { b: '2', a: '1' }, '82 a1 61 a1 31 a1 62 a1 32')).toEqual({ a: '1', b: '2' });
    // numeric-looking keys sort as strings, as Go does ("10" < "9")
    expect(toHex(encodeMsgpack(t.map(t.bool), { '9': true, '10': false }))).toBe('82 a2 3130 c2 a1 39 c3'.replace(/\s/g, ''));
  });

  it('a map key "__proto__" is refused with a clear error, never assigned to the prototype', () => {
    expect(() => decodeMsgpack(t.map(t.string), hex('81 a9' + str('__proto__') + 'a1 78'))).toThrow(/invalid msgpack: The key __proto__ is not allowed/);
  });

  it('other keys that name Object members are ordinary keys', () => {
    const v = decodeMsgpack(t.map(t.string), hex('81 ab' + str('constructor') + 'a1 78')) as Record<string, Value>;
    expect(Object.keys(v)).toEqual(['constructor']);
    expect(v.constructor).toBe('x');
  });

  it('objects carry every attribute, sorted by name', () => {
    const type = t.object({ size: t.number, name: t.string });
    expect(roundTrip(type, { name: 'x', size: null }, '82 a4 6e616d65 a1 78 a4 73697a65 c0')).toEqual({ name: 'x', size: null });
    // attributes missing from the bytes read as null
    expect(decodeMsgpack(type, hex('81 a4 6e616d65 a1 78'))).toEqual({ name: 'x', size: null });
    // a whole null object is one nil byte
    expect(roundTrip(type, null, 'c0')).toBe(null);
  });

  it('an attribute the type does not have is an error with its path', () => {
    const type = t.object({ inner: t.object({ a: t.string }) });
    expect(() => decodeMsgpack(type, hex('81 a5 696e6e6572 81 a1 62 a1 78'))).toThrow(CtyError);
    expect(() => decodeMsgpack(type, hex('81 a5 696e6e6572 81 a1 62 a1 78'))).toThrow(/inner: unsupported attribute "b"/);
    expect(() => encodeMsgpack(type, { inner: { a: 'x', b: 'y' } })).toThrow(/unsupported attribute "b"/);
  });

  it('tuples have positional types', () => {
    expect(roundTrip(t.tuple([t.string, t.bool]), ['a', true], '92 a1 61 c3')).toEqual(['a', true]);
    expect(() => decodeMsgpack(t.tuple([t.string]), hex('92 a1 61 c3'))).toThrow(/tuple of 1/);
  });

  it('wrong types are errors, not silent conversions', () => {
    expect(() => decodeMsgpack(t.string, hex('03'))).toThrow(/expected a string/);
    expect(() => encodeMsgpack(t.number, 'x' as Value)).toThrow(/expected a number/);
  });
});

describe('dynamic values', () => {
  it('carry their type JSON as msgpack bin, then the value', () => {
    const v = roundTrip(t.dynamic, new DynamicValue(t.string, 'hi'), '92 c4 08' + str('"string"') + 'a2 6869') as DynamicValue;
    expect(v).toBeInstanceOf(DynamicValue);
    expect(typeToJson(v.type)).toBe('string');
    expect(v.value).toBe('hi');
    const typeText = '["list","number"]';
    const list = roundTrip(t.dynamic, new DynamicValue(t.list(t.number), [1]), '92 c4 11' + str(typeText) + '91 01') as DynamicValue;
    expect(list.value).toEqual([1]);
  });

  it('null and unknown dynamic values are bare', () => {
    expect(roundTrip(t.dynamic, null, 'c0')).toBe(null);
    expect(roundTrip(t.dynamic, new Unknown(), 'd4 00 00')).toBeInstanceOf(Unknown);
  });

  it('the type may also arrive as a msgpack string', () => {
    const v = decodeMsgpack(t.dynamic, hex('92 a6' + str('"bool"') + 'c3')) as DynamicValue;
    expect(v.value).toBe(true);
  });
});

describe('schemas with nested attributes and blocks', () => {
  const schema = {
    attributes: {
      name: attr.string({ required: true }),
      schedule: attr.nested('single', { period: attr.string({ required: true }), days: attr.nested('list', { day: attr.number({ required: true }) }, { required: true }) }, { optional: true }),
      tags: attr.nested('map', { v: attr.string({ optional: true }) }, { optional: true }),
      ids: attr.nested('set', { id: attr.string({ optional: true }) }, { optional: true }),
    },
    blocks: { rule: { nesting: 'list' as const, attributes: { x: attr.bool({ optional: true }) } } },
  };
  const type = schemaType(schema);

  it('derives the object type from the declaration', () => {
    expect(typeToJson(type)).toEqual([
      'object',
      {
        ids: ['set', ['object', { id: 'string' }]],
        name: 'string',
        rule: ['list', ['object', { x: 'bool' }]],
        schedule: ['object', { days: ['list', ['object', { day: 'number' }]], period: 'string' }],
        tags: ['map', ['object', { v: 'string' }]],
      },
    ]);
  });

  it('encodes nested values in protocol byte order', () => {
    const value = {
      name: 'p',
      schedule: { period: 'weekly', days: [{ day: 1 }] },
      tags: { a: { v: 'x' } },
      ids: [],
      rule: [{ x: true }],
    };
    const bytes =
      '85' +
      'a3 696473 90' + // ids: []
      'a4 6e616d65 a1 70' + // name: "p"
      'a4 72756c65 91 81 a1 78 c3' + // rule: [{x:true}]
      'a8 7363686564756c65 82 a4 64617973 91 81 a3 646179 01 a6 706572696f64 a6 7765656b6c79' + // schedule
      'a4 74616773 81 a1 61 81 a1 76 a1 78'; // tags
    expect(roundTrip(type, value, bytes)).toEqual(value);
  });
});

describe('JSON form (state files, raw_state)', () => {
  it('parses numbers losslessly', () => {
    const tree = parseJsonLossless('{"big": 12345678901234567890, "dec": 0.1, "half": 2.5, "i": 3, "e": 1e2}') as Record<string, unknown>;
    expect((tree.big as BigNumber).text).toBe('12345678901234567890');
    expect((tree.dec as BigNumber).text).toBe('0.1');
    expect(tree.half).toBe(2.5);
    expect(tree.i).toBe(3);
    expect(tree.e).toBe(100);
  });

  it('digits, dots and exponents inside strings do not change how numbers outside are read', () => {
    const tree = parseJsonLossless('{"host":"10.0.0.1","at":"2026-01-05T02:00:00.000Z","id":"123456789012345678","big":12345678901234567890,"n":7}') as Record<string, unknown>;
    expect(tree.host).toBe('10.0.0.1');
    expect(tree.id).toBe('123456789012345678');
    expect((tree.big as BigNumber).text).toBe('12345678901234567890');
    expect(tree.n).toBe(7);
    // escaped quotes do not end a string early
    expect(parseJsonLossless('{"s":"a\\"1.5","d":0.1}')).toEqual({ s: 'a"1.5', d: new BigNumber('0.1') });
    expect(parseJsonLossless('{"s":"a\\"","big":12345678901234567890}')).toEqual({ s: 'a"', big: new BigNumber('12345678901234567890') });
    expect(parseJsonLossless('{"s":"x\\\\","n":123456789012345}')).toEqual({ s: 'x\\', n: 123456789012345 });
  });

  it('any JSON document reads as JSON.parse reads it when its numbers are exact doubles', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const text = JSON.stringify(v);
        const parsed = parseJsonLossless(text);
        expect(plainNumbers(parsed)).toEqual(plainNumbers(JSON.parse(text)));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes with a type, including dynamic', () => {
    const type = t.object({ n: t.number, d: t.dynamic, l: t.set(t.string) });
    const v = decodeJson(type, '{"n": 9007199254740993, "d": {"value": ["a"], "type": ["list","string"]}, "l": ["x"]}') as Record<string, Value>;
    expect((v.n as BigNumber).text).toBe('9007199254740993');
    expect((v.d as DynamicValue).value).toEqual(['a']);
    expect(v.l).toEqual(['x']);
    expect(encodeJson(type, v)).toBe('{"d":{"value":["a"],"type":["list","string"]},"l":["x"],"n":9007199254740993}');
  });

  it('drops attributes the schema no longer has only when asked', () => {
    const type = t.object({ a: t.string });
    expect(() => decodeJson(type, '{"a":"x","gone":1}')).toThrow(/unsupported attribute "gone"/);
    expect(decodeJson(type, '{"a":"x","gone":1}', { dropUnknownAttributes: true })).toEqual({ a: 'x' });
  });

  it('rejects malformed JSON with a position', () => {
    expect(() => parseJsonLossless('{"a": }')).toThrow(/offset/);
  });

  it('type JSON round-trips', () => {
    const json = ['object', { a: ['map', 'bool'], b: ['tuple', ['string', 'dynamic']] }, ['a']];
    expect(typeToJson(typeFromJson(json))).toEqual(json);
  });
});

describe('typed msgpack reading agrees with a generic msgpack decoder', () => {
  // A shape like the resources': nested objects, lists, maps, sets, numbers of every size, unicode.
  const type = t.object({
    name: t.string,
    port: t.number,
    ratio: t.number,
    enabled: t.bool,
    tags: t.map(t.string),
    days: t.list(t.object({ day: t.number, type: t.string })),
    tenants: t.set(t.string),
  });
  const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ minLength: 30, maxLength: 300 }));
  const number = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const orNull = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
  const value = fc.record({
    name: orNull(text),
    port: orNull(number),
    ratio: orNull(number),
    enabled: orNull(fc.boolean()),
    tags: orNull(fc.dictionary(text.filter((k) => k !== '__proto__'), text)),
    days: orNull(fc.array(fc.record({ day: orNull(number), type: orNull(text) }), { maxLength: 20 })),
    tenants: orNull(fc.uniqueArray(text, { maxLength: 20 })),
  });

  it('reads back what it writes, and the bytes mean the same to @msgpack/msgpack', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeMsgpack(type, v as Value);
        const decoded = decodeMsgpack(type, bytes);
        // equal under the type (an integer beyond 2^53 comes back exact, as a BigNumber)
        expect(valueEquals(type, decoded, v as Value)).toBe(true);
        expect(plainNumbers(msgpackDecode(bytes))).toEqual(plainNumbers(decoded));
      }),
      { numRuns: 300 },
    );
  });

  it('integers take the smallest form, byte for byte as the msgpack library writes them', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.integer({ min: -70000, max: 70000 })), (n) => {
        expect(toHex(encodeMsgpack(t.number, n))).toBe(toHex(msgpackEncode(n)));
        expect(decodeMsgpack(t.number, msgpackEncode(n))).toBe(n);
      }),
    );
    // each size boundary and its neighbours
    for (const edge of [-(2 ** 31), -32768, -128, -32, 0, 0x7f, 0xff, 0xffff, 2 ** 32 - 1])
      for (const n of [edge - 1, edge, edge + 1]) expect(toHex(encodeMsgpack(t.number, n))).toBe(toHex(msgpackEncode(n)));
  });

  it('truncated or trailing bytes are invalid msgpack, not a wrong value', () => {
    const bytes = encodeMsgpack(type, { name: 'policy-1', port: 2881, ratio: 0.5, enabled: true, tags: { a: 'b' }, days: [{ day: 1, type: 'full' }], tenants: ['t1'] });
    for (let cut = 1; cut < bytes.length; cut++) expect(() => decodeMsgpack(type, bytes.subarray(0, cut))).toThrow(/invalid msgpack/);
    expect(() => decodeMsgpack(type, Uint8Array.from([...bytes, 0xc0]))).toThrow(/invalid msgpack: 1 extra byte/);
  });
});
