import type { z } from 'zod';

/** One problem with an input, located by a dotted path such as `schedule.days[2].day`. */
export interface Issue {
  path: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** Renders a zod path as `a.b[2].c`; the empty path (the whole object) renders as ``. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Parses a rendered path back into steps (numbers for list indexes); the provider uses it for attribute paths. */
export function parsePath(path: string): Array<string | number> {
  const steps: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) steps.push(Number(m[2]));
    else if (m[1] !== undefined) steps.push(m[1]);
  }
  return steps;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

const expectedNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'a list',
};

/**
 * Turns zod issues into messages a person reads: rule violations keep the message written next to the
 * rule; zod's generic ones (wrong type, unknown key, missing field) are reworded here once.
 */
export function issuesFromZod(error: z.ZodError): Issue[] {
  const issues: Issue[] = [];
  for (const issue of error.issues) {
    const path = formatPath(issue.path);
    switch (issue.code) {
      case 'invalid_type': {
        const expected = expectedNames[issue.expected] ?? issue.expected;
        const received = (issue as { input?: unknown }).input;
        // zod 4 reports a fraction given to .int() as a type error; "got a number" would confuse.
        const fraction = issue.expected === 'int' && typeof received === 'number';
        issues.push({
          path,
          message: received === undefined ? 'is required' : fraction ? 'must be an integer' : `must be ${expected}, got ${describeType(received)}`,
        });
        break;
      }
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          issues.push({ path: formatPath([...issue.path, key]), message: `unknown field "${key}"` });
        }
        break;
      case 'invalid_union':
      case 'invalid_value':
        issues.push({ path, message: issue.message });
        break;
      default:
        issues.push({ path, message: issue.message });
    }
  }
  return issues;
}

/** Parses `input` with `schema`, returning every issue rather than throwing. */
export function check<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>> {
  // reportInput lets a type error say what it got; the input itself never reaches a message.
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, issues: issuesFromZod(parsed.error) };
}

/** A one-line summary, for CLI output and construct errors. */
export function summarize(issues: Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}
