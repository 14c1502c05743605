// Planning rules shared by every resource: computed values, defaults, write-only, requires_replace.
import type { CtyType } from '../cty/types.js';
import { Unknown, isObjectValue, valueEquals } from '../cty/values.js';
import type { ObjectValue, Value } from '../cty/values.js';
import type { AttributePath } from './diagnostics.js';
import type { AttributeSpec, BlockSpec, SchemaSpec } from './schema.js';
import { attributeType, objectTypeOf, schemaType } from './schema.js';

interface Level {
  attributes: Record<string, AttributeSpec>;
  blocks: Record<string, BlockSpec>;
}

/**
 * The planned object from Terraform's proposed new state (config merged with prior computed values):
 * on create, computed attributes the configuration leaves unset become unknown (or their default);
 * on update they keep the prior value, except those declared `stableOnUpdate: false`, which become
 * unknown when anything else changes. Write-only attributes are always null.
 */
export function planObject(schema: SchemaSpec, prior: ObjectValue | null, proposed: ObjectValue, config: ObjectValue | null): ObjectValue {
  const level: Level = { attributes: schema.attributes, blocks: schema.blocks ?? {} };
  const planned = planLevel(level, prior, proposed, config, prior === null);
  if (prior !== null) {
    const type = schemaType(schema);
    if (!valueEquals(type, prior, planned)) markChanging(level, planned, config);
  }
  return planned;
}

function planLevel(level: Level, prior: ObjectValue | null, proposed: ObjectValue, config: ObjectValue | null, creating: boolean): ObjectValue {
  const out: ObjectValue = { ...proposed };
  for (const [name, spec] of Object.entries(level.attributes)) {
    const configValue = config ? (config[name] ?? null) : null;
    const proposedValue = proposed[name] ?? null;
    const priorValue = prior ? (prior[name] ?? null) : null;
    if (spec.writeOnly) {
      out[name] = null;
      continue;
    }
    if (spec.computed && configValue === null) {
      if (spec.default !== undefined) out[name] = spec.default;
      else out[name] = creating ? new Unknown() : proposedValue;
      continue;
    }
    if (spec.nested) out[name] = planNested(spec, priorValue, proposedValue, configValue, creating);
  }
  for (const [name, block] of Object.entries(level.blocks)) {
    const inner: Level = { attributes: block.attributes, blocks: block.blocks ?? {} };
    out[name] = planCollection(block.nesting, inner, prior ? (prior[name] ?? null) : null, proposed[name] ?? null, config ? (config[name] ?? null) : null, creating);
  }
  return out;
}

function planNested(spec: AttributeSpec, prior: Value, proposed: Value, config: Value, creating: boolean): Value {
  const nested = spec.nested!;
  return planCollection(nested.nesting, { attributes: nested.attributes, blocks: {} }, prior, proposed, config, creating);
}

function planCollection(nesting: string, inner: Level, prior: Value, proposed: Value, config: Value, creating: boolean): Value {
  if (proposed === null || proposed instanceof Unknown) return proposed;
  const one = (p: Value, pr: Value, c: Value): Value =>
    isObjectValue(p) ? planLevel(inner, isObjectValue(pr) ? pr : null, p, isObjectValue(c) ? c : null, creating || !isObjectValue(pr)) : p;
  switch (nesting) {
    case 'single':
    case 'group':
      return one(proposed, prior, config);
    case 'list':
      if (!Array.isArray(proposed)) return proposed;
      return proposed.map((p, i) => one(p, Array.isArray(prior) ? (prior[i] ?? null) : null, Array.isArray(config) ? (config[i] ?? null) : null));
    case 'map': {
      if (!isObjectValue(proposed)) return proposed;
      const out: ObjectValue = {};
      for (const [k, p] of Object.entries(proposed))
        out[k] = one(p, isObjectValue(prior) ? (prior[k] ?? null) : null, isObjectValue(config) ? (config[k] ?? null) : null);
      return out;
    }
    default:
      // Set elements are identified by value: Terraform has already matched them with prior elements.
      return proposed;
  }
}

function markChanging(level: Level, planned: ObjectValue, config: ObjectValue | null): void {
  for (const [name, spec] of Object.entries(level.attributes)) {
    const configValue = config ? (config[name] ?? null) : null;
    if (spec.computed && spec.stableOnUpdate === false && configValue === null) planned[name] = new Unknown();
  }
}

/** Paths of `requiresReplace` attributes whose planned value differs from the prior one. */
export function replacePaths(schema: SchemaSpec, prior: ObjectValue, planned: ObjectValue): AttributePath[] {
  const out: AttributePath[] = [];
  const visit = (attributes: Record<string, AttributeSpec>, blocks: Record<string, BlockSpec>, before: ObjectValue, after: ObjectValue, at: AttributePath) => {
    for (const [name, spec] of Object.entries(attributes)) {
      if (!spec.requiresReplace && !spec.nested) continue;
      const b = before[name] ?? null;
      const a = after[name] ?? null;
      if (spec.requiresReplace) {
        if (!valueEquals(attributeType(spec), b, a)) out.push([...at, { attr: name }]);
        continue;
      }
      visitCollection(spec.nested!.nesting, spec.nested!.attributes, {}, b, a, [...at, { attr: name }]);
    }
    for (const [name, block] of Object.entries(blocks))
      visitCollection(block.nesting, block.attributes, block.blocks ?? {}, before[name] ?? null, after[name] ?? null, [...at, { attr: name }]);
  };
  const visitCollection = (nesting: string, attributes: Record<string, AttributeSpec>, blocks: Record<string, BlockSpec>, b: Value, a: Value, at: AttributePath) => {
    const objType: CtyType = objectTypeOf(attributes, blocks);
    if (nesting === 'single' || nesting === 'group') {
      if (isObjectValue(b) && isObjectValue(a)) visit(attributes, blocks, b, a, at);
      else if (hasReplaceAttribute(attributes) && !valueEquals(objType, b, a) && (b !== null || a !== null)) out.push(at);
      return;
    }
    if (nesting === 'list' && Array.isArray(b) && Array.isArray(a)) {
      a.forEach((e, i) => {
        if (i < b.length && isObjectValue(e) && isObjectValue(b[i])) visit(attributes, blocks, b[i] as ObjectValue, e, [...at, { index: i }]);
        else if (hasReplaceAttribute(attributes)) out.push([...at, { index: i }]);
      });
      if (b.length > a.length && hasReplaceAttribute(attributes)) out.push(at);
      return;
    }
    if (nesting === 'map' && isObjectValue(b) && isObjectValue(a)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        const ea = a[k] ?? null;
        const eb = b[k] ?? null;
        if (isObjectValue(ea) && isObjectValue(eb)) visit(attributes, blocks, eb, ea, [...at, { key: k }]);
        else if (hasReplaceAttribute(attributes)) out.push([...at, { key: k }]);
      }
      return;
    }
    // Sets, or a collection appearing/disappearing/unknown: replace if it holds a replacing attribute.
    const collectionType: CtyType = nesting === 'set' ? { kind: 'set', element: objType } : nesting === 'map' ? { kind: 'map', element: objType } : { kind: 'list', element: objType };
    if (hasReplaceAttribute(attributes) && !valueEquals(collectionType, b, a)) out.push(at);
  };
  visit(schema.attributes, schema.blocks ?? {}, prior, planned, []);
  return out;
}

function hasReplaceAttribute(attributes: Record<string, AttributeSpec>): boolean {
  return Object.values(attributes).some((a) => a.requiresReplace || (a.nested ? hasReplaceAttribute(a.nested.attributes) : false));
}

function hasUnknown(value: Value): boolean {
  if (value instanceof Unknown) return true;
  if (Array.isArray(value)) return value.some(hasUnknown);
  if (isObjectValue(value)) {
    for (const k in value) if (hasUnknown(value[k])) return true;
  }
  return false;
}

/** Unknown values left in an apply result become null: Terraform rejects unknowns after apply. */
export function resolveUnknowns(value: Value): Value {
  // Reads return known values: no copy then.
  return hasUnknown(value) ? resolveDeep(value) : value;
}

function resolveDeep(value: Value): Value {
  if (value instanceof Unknown) return null;
  if (Array.isArray(value)) return value.map(resolveDeep);
  if (isObjectValue(value)) {
    const out: ObjectValue = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveDeep(v);
    return out;
  }
  return value;
}

/** Write-only attributes are nulled in anything stored (plan, state). */
export function nullWriteOnly(schema: SchemaSpec, value: ObjectValue): ObjectValue {
  const visit = (attributes: Record<string, AttributeSpec>, v: ObjectValue): ObjectValue => {
    const out: ObjectValue = { ...v };
    for (const [name, spec] of Object.entries(attributes)) {
      if (spec.writeOnly) out[name] = null;
      else if (spec.nested) {
        const inner = out[name];
        const fix = (e: Value): Value => (isObjectValue(e) ? visit(spec.nested!.attributes, e) : e);
        if (Array.isArray(inner)) out[name] = inner.map(fix);
        else if (spec.nested.nesting === 'map' && isObjectValue(inner)) out[name] = Object.fromEntries(Object.entries(inner).map(([k, e]) => [k, fix(e)]));
        else out[name] = fix(inner ?? null);
      }
    }
    return out;
  };
  return visit(schema.attributes, value);
}
