// Diagnostics with attribute paths: Terraform points at the configuration line of the attribute.
import type { BlockSpec, SchemaSpec, AttributeSpec } from './schema.js';

/** A step into a value: an attribute name, a list/tuple index, or a map key. */
export type PathStep = { attr: string } | { index: number } | { key: string };
export type AttributePath = PathStep[];

export interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  path?: AttributePath;
}

/** Shorthand: strings are attribute names, numbers are list indexes; use { key } for map keys. */
export function path(...steps: (string | number | PathStep)[]): AttributePath {
  return steps.map((s) => (typeof s === 'string' ? { attr: s } : typeof s === 'number' ? { index: s } : s));
}

export class Diagnostics {
  readonly items: Diagnostic[] = [];

  error(summary: string, detail = '', at?: AttributePath): void {
    this.items.push({ severity: 'ERROR', summary, detail, path: at });
  }
  warning(summary: string, detail = '', at?: AttributePath): void {
    this.items.push({ severity: 'WARNING', summary, detail, path: at });
  }
  append(other: Diagnostics | Diagnostic[]): void {
    this.items.push(...(Array.isArray(other) ? other : other.items));
  }
  hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'ERROR');
  }
  /** Protocol form; with a schema, paths are cut to what Terraform can locate in the configuration. */
  toProto(schema?: SchemaSpec): Record<string, unknown>[] {
    return this.items.map((d) => {
      const at = d.path && schema ? locatablePath(schema, d.path) : d.path;
      return {
        severity: d.severity,
        summary: d.summary,
        detail: d.detail,
        ...(at && at.length > 0 ? { attribute: { steps: at.map(protoStep) } } : {}),
      };
    });
  }
}

export function protoStep(step: PathStep): Record<string, unknown> {
  if ('attr' in step) return { attribute_name: step.attr };
  if ('index' in step) return { element_key_int: step.index };
  return { element_key_string: step.key };
}

/** An error a handler throws to end the call with one diagnostic (never a stack trace). */
export class DiagnosticError extends Error {
  constructor(
    readonly summary: string,
    readonly detail = '',
    readonly at?: AttributePath,
  ) {
    super(detail ? `${summary}: ${detail}` : summary);
  }
}

/**
 * Turns a dotted/array path as the model or the daemon reports it (e.g. ["schedule","days",2,"type"] or
 * "schedule.days[2].type") into protocol steps, telling attribute names from map keys by the schema.
 */
export function schemaPath(schema: SchemaSpec, raw: (string | number)[] | string): AttributePath {
  const parts = typeof raw === 'string' ? splitPath(raw) : raw;
  const out: AttributePath = [];
  type Level = { kind: 'object'; attributes: Record<string, AttributeSpec>; blocks: Record<string, BlockSpec> } | { kind: 'collection'; map: boolean; inner: Level | null } | null;
  const objectLevel = (attributes: Record<string, AttributeSpec>, blocks: Record<string, BlockSpec> = {}): Level => ({ kind: 'object', attributes, blocks });
  const attributeLevel = (a: AttributeSpec): Level => {
    if (a.nested) {
      const inner = objectLevel(a.nested.attributes);
      return a.nested.nesting === 'single' ? inner : { kind: 'collection', map: a.nested.nesting === 'map', inner };
    }
    const type = a.type;
    if (type && (type.kind === 'list' || type.kind === 'set' || type.kind === 'map')) return { kind: 'collection', map: type.kind === 'map', inner: null };
    return null;
  };
  let level: Level = objectLevel(schema.attributes, schema.blocks);
  for (const part of parts) {
    if (level?.kind === 'object' && typeof part === 'string') {
      out.push({ attr: part });
      const a = level.attributes[part];
      const b = level.blocks[part];
      if (a) level = attributeLevel(a);
      else if (b) {
        const inner = objectLevel(b.attributes, b.blocks);
        level = b.nesting === 'single' || b.nesting === 'group' ? inner : { kind: 'collection', map: b.nesting === 'map', inner };
      } else level = null;
    } else if (level?.kind === 'collection') {
      out.push(!level.map && /^\d+$/.test(String(part)) ? { index: Number(part) } : { key: String(part) });
      level = level.inner;
    } else {
      // Beyond what the schema describes (e.g. inside a plain object type): best effort.
      out.push(typeof part === 'number' ? { index: part } : { attr: part });
      level = null;
    }
  }
  return out;
}

function splitPath(text: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** Ends a handler whose errors are already in its diagnostics. */
export class DiagnosticsReported extends Error {
  constructor() {
    super('errors reported as diagnostics');
  }
}

/**
 * Terraform finds the configuration line of a path only through nested blocks, then one attribute and at
 * most one index into that attribute's value; a longer path into a nested attribute makes it point at the
 * whole resource instead. So the path is cut after that index: `schedule.days[2].type` points at the
 * `schedule = {…}` attribute (the summary still names the full path).
 */
export function locatablePath(schema: SchemaSpec, at: AttributePath): AttributePath {
  let blocks: Record<string, BlockSpec> = schema.blocks ?? {};
  let attributes: Record<string, AttributeSpec> = schema.attributes;
  for (let i = 0; i < at.length; i++) {
    const step = at[i];
    if (!('attr' in step)) return at.slice(0, i);
    const block = blocks[step.attr];
    if (block && !attributes[step.attr]) {
      const next = at[i + 1];
      // A block inside a list/set/map: the index selects one block; Terraform follows it.
      if (block.nesting !== 'single' && block.nesting !== 'group' && next && !('attr' in next)) i++;
      blocks = block.blocks ?? {};
      attributes = block.attributes;
      continue;
    }
    const next = at[i + 1];
    return next && !('attr' in next) ? at.slice(0, i + 2) : at.slice(0, i + 1);
  }
  return at;
}
