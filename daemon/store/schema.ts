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

export interface Database {
  clusters: ResourceRow;
  storages: ResourceRow;
  policies: PolicyRow;
  settings: SettingRow;
}

export type ResourceTable = 'clusters' | 'storages' | 'policies';
