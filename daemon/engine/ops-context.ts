// What cleanup, secondary backup, alarms and status need from the rest of the daemon, as one object, so
// each of them can be driven by the daemon or by a test with simulated time.
import type { Policy } from '../../model/index.js';
import type { Logger } from '../log.js';
import type { ObDriver } from '../oceanbase/index.js';
import { secretContext, type SecretBox } from '../secrets/index.js';
import type { StorageConfig } from '../storage/index.js';
import type { Store, StoredResource } from '../store/index.js';
import type { Clock } from './clock.js';
import type { RunRepository } from './runs.js';

/** A storage as the engine uses it: how to open it and when its usage raises an alarm. */
export interface ResolvedStorage {
  name: string;
  config: StorageConfig;
  /** percent (1-99) */
  capacityAlarmThreshold: number;
}

export interface NamedPolicy extends Policy {
  name: string;
  /** when the policy was first stored (ISO): the start of "no successful backup for N days" */
  created_at: string;
  /** when it last changed (ISO): cadences start there */
  updated_at: string;
}

export interface OpsContext {
  store: Store;
  runs: RunRepository;
  clock: Clock;
  log: Logger;
  /** An open driver for a registered cluster; shared, callers do not close it. */
  driver(cluster: string): Promise<ObDriver>;
  /** A registered storage with its secret, for opening it. */
  storage(name: string): Promise<ResolvedStorage>;
}

export class MissingResourceError extends Error {}

export function policyFrom(record: StoredResource): NamedPolicy {
  return { ...(record.spec as unknown as Policy), name: record.name, created_at: record.created_at, updated_at: record.updated_at };
}

/** Every policy, read with only the columns needed and parsed once (thousands of policies stay cheap). */
export async function loadPolicies(store: Store): Promise<NamedPolicy[]> {
  const rows = await store.db.selectFrom('policies').select(['name', 'spec', 'created_at', 'updated_at']).orderBy('name').execute();
  return rows.map((r) => {
    const p = JSON.parse(r.spec) as NamedPolicy;
    p.name = r.name;
    p.created_at = r.created_at;
    p.updated_at = r.updated_at;
    return p;
  });
}

/** The storage resolver over the store: decrypts the OSS secret with the daemon's key. */
export function storageResolver(store: Store, secrets: SecretBox): (name: string) => Promise<ResolvedStorage> {
  return async (name) => {
    const record = await store.resources.get('storages', name);
    if (!record) throw new MissingResourceError(`storage "${name}" does not exist`);
    const spec = record.spec as { type: 'file' | 'oss'; path: string; capacity_alarm_threshold?: number; endpoint?: string; access_key_id?: string };
    const threshold = spec.capacity_alarm_threshold ?? 80;
    if (spec.type === 'file') return { name, config: { type: 'file', path: spec.path }, capacityAlarmThreshold: threshold };
    const sealed = record.secrets.access_key_secret;
    if (!sealed) throw new MissingResourceError(`storage "${name}" has no access_key_secret stored`);
    return {
      name,
      config: {
        type: 'oss',
        path: spec.path,
        endpoint: spec.endpoint ?? '',
        access_key_id: spec.access_key_id ?? '',
        access_key_secret: secrets.open(sealed.ciphertext, secretContext('storage', name, 'access_key_secret')),
      },
      capacityAlarmThreshold: threshold,
    };
  };
}

/** Calls `probe` every `intervalMs` of the clock until it answers something or `timeoutMs` has passed (then undefined). */
export async function pollUntil<T>(
  clock: Clock,
  intervalMs: number,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  signal?: AbortSignal,
): Promise<T | undefined> {
  const deadline = clock.now().getTime() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (clock.now().getTime() >= deadline) return undefined;
    await clock.sleep(Math.min(intervalMs, Math.max(1, deadline - clock.now().getTime())), signal);
  }
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The step of a run under way, so a failure is written onto the step it happened in. */
export class StepTracker {
  private current: number | undefined;

  constructor(
    private readonly runs: RunRepository,
    private readonly runId: number,
  ) {}

  async begin(name: string, message?: string): Promise<void> {
    this.current = await this.runs.addStep(this.runId, name, 'running', message);
  }

  async note(message: string): Promise<void> {
    if (this.current !== undefined) await this.runs.noteStep(this.current, message);
  }

  async end(state: 'succeeded' | 'skipped', message?: string): Promise<void> {
    if (this.current !== undefined) await this.runs.finishStep(this.current, state, message);
    this.current = undefined;
  }

  async fail(message: string): Promise<void> {
    if (this.current !== undefined) await this.runs.finishStep(this.current, 'failed', message);
    this.current = undefined;
  }
}

/** The OceanBase error number an error carries, if any. */
export function errorCodeOf(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}
