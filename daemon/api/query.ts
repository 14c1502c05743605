// Query-string parameters shared by the list routes: unknown names refused, whole numbers checked.
import { badRequest } from './errors.js';

/** Refuses a query parameter the route does not know, naming those it does. */
export function onlyKnownParameters(query: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(query)) if (!known.includes(key)) throw badRequest(`unknown query parameter ${key} (known: ${known.join(', ')})`);
}

/** A whole number from 1 (to `max`), or undefined when the parameter is absent. */
export function positiveInt(value: unknown, field: string, max?: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > (max ?? Number.MAX_SAFE_INTEGER)) {
    throw badRequest(`query parameter ${field} must be an integer from 1${max ? ` to ${max}` : ''}, got "${String(value)}"`);
  }
  return n;
}
