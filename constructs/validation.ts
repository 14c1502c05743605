// Synth-time validation through model/: the same rules and messages as the API and the provider,
// reported by `cdktf synth` (and Testing.synth(stack, true)) as "[<construct path>] <field>: <message>".
import { Token } from 'cdktf';
import type { IConstruct } from 'constructs';
import { summarize, validateSpec, type Issue, type ResourceKind } from '../model/index.js';

type Step = string | number;

interface TokenSite {
  path: Step[];
  kind: 'string' | 'number' | 'list' | 'any';
}

/** Where the unresolved tokens (values known only at deploy time) sit in a spec. */
function tokenSites(value: unknown, path: Step[] = [], out: TokenSite[] = []): TokenSite[] {
  if (value === undefined || value === null) return out;
  if (Token.isUnresolved(value)) {
    const kind = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : Array.isArray(value) ? 'list' : 'any';
    out.push({ path, kind });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => tokenSites(v, [...path, i], out));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) tokenSites(v, [...path, k], out);
  }
  return out;
}

function render(path: Step[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** True when `issuePath` is `tokenPath` or lies inside it. */
function within(issuePath: string, tokenPath: string): boolean {
  return issuePath === tokenPath || issuePath.startsWith(`${tokenPath}.`) || issuePath.startsWith(`${tokenPath}[`);
}

function setAt(root: Record<string, unknown>, path: Step[], value: unknown): void {
  let node = root as Record<Step, unknown>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<Step, unknown>;
  node[path[path.length - 1]!] = value;
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (value !== null && typeof value === 'object' && !Token.isUnresolved(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  }
  return value;
}

// Stand-ins for deploy-time values: one set leans low / first, the other high / last, so a rule that
// compares a token with another field fires under one set and not the other.
const STRINGS = {
  low: ['tokena', '/tokena', 'tokena/x', '00:00', 'UTC', '1d', 'full', 'physical', 'once'],
  high: ['tokenb', '/tokenb', 'tokenb/x', '23:59', 'Asia/Shanghai', '7d', 'incremental', 'logical', 'skip'],
};
const NUMBERS = { low: [1, 7, 30], high: [604800, 65535, 10080, 3650, 365, 99, 31, 7] };

function candidates(kind: TokenSite['kind'], side: 'low' | 'high'): unknown[] {
  switch (kind) {
    case 'string':
      return STRINGS[side];
    case 'number':
      return NUMBERS[side];
    case 'list':
      return side === 'low' ? [[]] : [['tokenb']];
    case 'any':
      return [side === 'low', ...STRINGS[side], ...NUMBERS[side]];
  }
}

/**
 * Validates a spec whose tokens were replaced by stand-ins: for each token, the first stand-in its own
 * field accepts (so the token's field does not hide the cross-field rules that follow it).
 */
function issuesWithStandIns(kind: ResourceKind, spec: Record<string, unknown>, sites: TokenSite[], side: 'low' | 'high'): Issue[] {
  const copy = clone(spec) as Record<string, unknown>;
  for (const site of sites) {
    const at = render(site.path);
    for (const value of candidates(site.kind, side)) {
      setAt(copy, site.path, value);
      const result = validateSpec(kind, copy);
      if (result.ok || !result.issues.some((i) => within(i.path, at))) break;
    }
  }
  const result = validateSpec(kind, copy);
  return result.ok ? [] : result.issues;
}

/**
 * The issues `validateSpec` reports for `spec`, leaving out whatever depends on a value that is an
 * unresolved token: issues on the token's own field, and issues that do not hold for every stand-in.
 */
export function specIssues(kind: ResourceKind, spec: Record<string, unknown>): Issue[] {
  const sites = tokenSites(spec);
  if (sites.length === 0) {
    const result = validateSpec(kind, spec);
    return result.ok ? [] : result.issues;
  }
  const tokenPaths = sites.map((s) => render(s.path));
  const high = new Set(issuesWithStandIns(kind, spec, sites, 'high').map((i) => summarize([i])));
  return issuesWithStandIns(kind, spec, sites, 'low').filter(
    (i) => high.has(summarize([i])) && !tokenPaths.some((p) => within(i.path, p)),
  );
}

/** Registers the model's validation of `spec()` on `construct`; each issue becomes one synth error. */
export function validateWithModel(construct: IConstruct, kind: ResourceKind, spec: () => Record<string, unknown>): void {
  construct.node.addValidation({ validate: () => specIssues(kind, spec()).map((i) => summarize([i])) });
}
