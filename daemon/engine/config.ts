/**
 * The declared resources as the engine uses them: a policy with its cluster endpoint and storages, secrets
 * opened. Read fresh from the store each time (a PUT may have changed anything).
 */
import { createHash } from 'node:crypto';
import type { ClusterSpec, Policy, StorageSpec } from '../../model/index.js';
import type { ObClusterConfig } from '../oceanbase/index.js';
import { secretContext, type SecretBox } from '../secrets/index.js';
import type { Store, StoredResource } from '../store/index.js';
import type { StorageConfig } from '../storage/index.js';

export interface StorageTarget {
  name: string;
  config: StorageConfig;
  /** percent; usage at or over it fails the storage pre-check */
  capacityThreshold: number;
}

export interface LoadedPolicy {
  name: string;
  version: number;
  spec: Policy;
  cluster: LoadedCluster;
  storage: StorageTarget;
  secondary: StorageTarget | null;
}

export interface LoadedCluster {
  name: string;
  version: number;
  endpoint: ObClusterConfig;
  /** changes whenever anything that reaches the cluster changes (host, port, user, password, tenants) */
  fingerprint: string;
}

function openSecret(secrets: SecretBox, kind: string, record: StoredResource, field: string): string | undefined {
  const sealed = record.secrets[field];
  return sealed ? secrets.open(sealed.ciphertext, secretContext(kind, record.name, field)) : undefined;
}

export function clusterFromRecord(secrets: SecretBox, record: StoredResource): LoadedCluster {
  const spec = record.spec as unknown as ClusterSpec;
  const password = openSecret(secrets, 'cluster', record, 'password') ?? '';
  return clusterFromSpec(record.name, record.version, { ...spec, password });
}

export function clusterFromSpec(name: string, version: number, spec: ClusterSpec): LoadedCluster {
  const endpoint: ObClusterConfig = {
    name,
    host: spec.host,
    port: spec.port,
    user: spec.user,
    password: spec.password,
    tenants: spec.tenants && spec.tenants.length > 0 ? [...spec.tenants] : undefined,
  };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([endpoint.host, endpoint.port, endpoint.user, endpoint.password, endpoint.tenants ?? null]))
    .digest('base64url');
  return { name, version, endpoint, fingerprint };
}

export function storageFromRecord(secrets: SecretBox, record: StoredResource): StorageTarget {
  const spec = record.spec as unknown as StorageSpec;
  const config: StorageConfig =
    spec.type === 'file'
      ? { type: 'file', path: spec.path }
      : {
          type: 'oss',
          path: spec.path,
          endpoint: spec.endpoint!,
          access_key_id: spec.access_key_id!,
          access_key_secret: openSecret(secrets, 'storage', record, 'access_key_secret') ?? '',
        };
  return { name: record.name, config, capacityThreshold: spec.capacity_alarm_threshold ?? 80 };
}

export class ConfigReader {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
  ) {}

  async cluster(name: string): Promise<LoadedCluster | undefined> {
    const record = await this.store.resources.get('clusters', name);
    return record ? clusterFromRecord(this.secrets, record) : undefined;
  }

  async storage(name: string): Promise<StorageTarget | undefined> {
    const record = await this.store.resources.get('storages', name);
    return record ? storageFromRecord(this.secrets, record) : undefined;
  }

  async policySpec(name: string): Promise<{ version: number; spec: Policy } | undefined> {
    const record = await this.store.resources.get('policies', name);
    return record ? { version: record.version, spec: record.spec as unknown as Policy } : undefined;
  }

  /** The policy with everything it refers to; undefined when the policy is gone. */
  async policy(name: string): Promise<LoadedPolicy | undefined> {
    const record = await this.store.resources.get('policies', name);
    if (!record) return undefined;
    const spec = record.spec as unknown as Policy;
    const [cluster, storage, secondary] = await Promise.all([
      this.cluster(spec.cluster),
      this.storage(spec.storage),
      spec.secondary.enabled && spec.secondary.storage ? this.storage(spec.secondary.storage) : Promise.resolve(undefined),
    ]);
    if (!cluster) throw new Error(`policy "${name}" refers to cluster "${spec.cluster}", which does not exist`);
    if (!storage) throw new Error(`policy "${name}" refers to storage "${spec.storage}", which does not exist`);
    return { name, version: record.version, spec, cluster, storage, secondary: secondary ?? null };
  }

  /** The policy of a cluster (one at most). */
  async policyOfCluster(cluster: string): Promise<string | undefined> {
    const row = await this.store.db.selectFrom('policies').select('name').where('cluster', '=', cluster).executeTakeFirst();
    return row?.name;
  }

  async policyNames(): Promise<string[]> {
    const rows = await this.store.db.selectFrom('policies').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }
}
