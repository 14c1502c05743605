import type { Generated } from 'kysely';

/**
 * Table types for Kysely. The engine adds its tables here (one interface per table) together with the
 * migration that creates them in ./migrations/.
 */

/** Columns shared by the resource tables (clusters, storages, policies). */
export interface ResourceRow {
  name: string;
  version: number;
  /** The declared non-secret fields as JSON, defaults applied, without `name` and `version`. */
  spec: string;
  /** JSON `{field: {ciphertext, fingerprint}}` of the write-only fields, or null when there are none. */
  secrets: string | null;
  /** ISO 8601 UTC with milliseconds: fixed width, so text order is time order on both stores. */
  created_at: string;
  updated_at: string;
}

/** Policies also expose what they reference, so the store enforces the references and one policy per cluster. */
export interface PolicyRow extends ResourceRow {
  cluster: string;
  storage: string;
  secondary_storage: string | null;
}

export interface SettingRow {
  name: string;
  value: string;
}

/** One run (see migrations/0002_runs.ts); times are ISO text like the resource rows. */
export interface RunRow {
  id: Generated<number>;
  policy: string | null;
  cluster: string;
  kind: string;
  type: string | null;
  trigger: string;
  scheduled_at: string;
  state: string;
  reason: string | null;
  progress: number | null;
  ob_version: string | null;
  /** JSON array of the OceanBase jobs behind the run (one per tenant on 4.x). */
  jobs: string | null;
  backup_set_id: number | null;
  input_bytes: number | null;
  output_bytes: number | null;
  error: string | null;
  error_code: number | null;
  /** JSON object of kind-specific facts (cleanup and secondary runs keep theirs here). */
  details: string | null;
  submitted_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  timed_out_at: string | null;
  created_at: string;
  updated_at: string;
  /** holder id of the daemon executing the run (migrations/0006_scheduling_lease.ts) */
  owner: string | null;
}

export interface RunStepRow {
  id: Generated<number>;
  run_id: number;
  name: string;
  state: string;
  message: string | null;
  started_at: string;
  finished_at: string | null;
}

/** One alarm occurrence (see migrations/0005_ops.ts). */
export interface AlarmRow {
  id: Generated<number>;
  name: string;
  alarm_key: string;
  active_key: string | null;
  severity: string;
  cluster: string | null;
  policy: string | null;
  storage: string | null;
  state: string;
  message: string;
  details: string | null;
  raised_at: string;
  resolved_at: string | null;
  updated_at: string;
}

/** A backup set or archive piece the daemon copied to a secondary storage (4.x). */
export interface SecondaryCopyRow {
  id: Generated<number>;
  policy: string;
  cluster: string;
  target_storage: string;
  tenant: string;
  object: string;
  object_id: string;
  backup_type: string | null;
  prev_full_id: number | null;
  prev_inc_id: number | null;
  object_started_at: string | null;
  object_ended_at: string | null;
  prefixes: string;
  bytes: number;
  run_id: number;
  copied_at: string;
  deleted_at: string | null;
  deleted_run_id: number | null;
}

/** The last reachability check of a cluster (migrations/0003_engine_state.ts). */
export interface ClusterObservationRow {
  cluster: string;
  /** 1 or 0 */
  reachable: number;
  ob_version: string | null;
  major: number | null;
  error: string | null;
  checked_at: string;
}

/** Per policy: when its schedule took effect, and how far applying it to its cluster got. */
export interface PolicyStateRow {
  policy: string;
  cluster: string;
  effective_from: string;
  /** JSON of the schedule (and pause) the effective_from belongs to; a change resets effective_from. */
  schedule_key: string;
  /** pending | applying | applied | failed | refused */
  apply_state: string;
  apply_error: string | null;
  applied_version: number | null;
  /** JSON of what was configured on the cluster (destinations, tenants), to undo it on delete. */
  applied: string | null;
  applied_at: string | null;
  updated_at: string;
}

/** The scheduling lease (`scheduler`) and each daemon's presence (`daemon:<id>`), see migrations/0006. */
export interface LeaseRow {
  name: string;
  holder: string;
  machine: string | null;
  pid: number | null;
  expires_at: string;
  epoch: number;
  acquired_at: string;
  updated_at: string;
}

/** An alarm event for the webhook (migrations/0007_webhook_outbox.ts). */
export interface WebhookOutboxRow {
  id: Generated<number>;
  body: string;
  alarm_id: number;
  event: string;
  created_at: string;
  attempts: number;
  done_at: string | null;
  /** delivered, refused (4xx), gave_up (attempts spent), dropped (queue over its limit) */
  outcome: string | null;
  error: string | null;
}

export interface Database {
  clusters: ResourceRow;
  storages: ResourceRow;
  policies: PolicyRow;
  settings: SettingRow;
  runs: RunRow;
  run_steps: RunStepRow;
  alarms: AlarmRow;
  secondary_copies: SecondaryCopyRow;
  cluster_observations: ClusterObservationRow;
  policy_states: PolicyStateRow;
  leases: LeaseRow;
  webhook_outbox: WebhookOutboxRow;
}

export type ResourceTable = 'clusters' | 'storages' | 'policies';
