// The daemon's answers as Terraform diagnostics: its message, and each detail at its attribute.
import { ApiError, UnreachableError } from '../client.js';
import { Diagnostics, DiagnosticsReported, schemaPath } from '../framework/diagnostics.js';
import type { SchemaSpec } from '../framework/schema.js';

/** Records a failed daemon call as diagnostics; rethrows anything that is not a daemon answer. */
export function reportApiError(diagnostics: Diagnostics, schema: SchemaSpec, summary: string, e: unknown): void {
  if (e instanceof UnreachableError) {
    diagnostics.error('Cannot reach obbackupd', e.message);
    return;
  }
  if (e instanceof ApiError) {
    if (e.details.length === 0) {
      diagnostics.error(summary, e.message);
      return;
    }
    for (const d of e.details) {
      diagnostics.error(summary, d.path ? `${d.path}: ${d.message}` : d.message, d.path ? schemaPath(schema, d.path) : undefined);
    }
    return;
  }
  throw e;
}

/** Runs a daemon call; on a daemon error, ends the RPC with the daemon's diagnostics. */
export async function callApi<T>(diagnostics: Diagnostics, schema: SchemaSpec, summary: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ApiError || e instanceof UnreachableError) {
      reportApiError(diagnostics, schema, summary, e);
      throw new DiagnosticsReported();
    }
    throw e;
  }
}
