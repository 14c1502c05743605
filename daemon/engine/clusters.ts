/**
 * ClusterRegistry: one OceanBase driver per registered cluster, reopened when its endpoint changes, and
 * the last reachability check of each cluster (`cluster_observations`).
 *
 *   registry.driver(cluster: LoadedCluster): Promise<ObDriver>   // connected, version detected
 *   registry.probe(cluster): Promise<ClusterProbe>               // fresh connection; never throws
 *   registry.observation(name): Promise<ClusterObservation | undefined>
 *   registry.forget(name)                                         // closes its driver
 *
 * Drivers unused for idleMs (default 10 min) are closed, so a daemon with thousands of clusters keeps
 * connections only to those it works with. Long-running work asks for the driver again on each use.
 */
import type { Kysely } from 'kysely';
import type { Logger } from '../log.js';
import { ObDriver, ObError, type ClusterIdentity, type ObDriverOptions } from '../oceanbase/index.js';
import { classifyStoreError } from '../store/errors.js';
import type { Database } from '../store/schema.js';
import { toIso, type Clock } from './clock.js';
import type { LoadedCluster } from './config.js';
import { messageOf } from './tasks.js';

export interface ClusterProbe {
  reachable: boolean;
  identity?: ClusterIdentity;
  /** tenants of the cluster's scope that it does not have (4.x) */
  missingTenants?: string[];
  error?: string;
  errorKind?: string;
}

export interface ClusterObservation {
  cluster: string;
  reachable: boolean;
  ob_version: string | null;
  major: 3 | 4 | null;
  error: string | null;
  checked_at: string;
}

/** Called with every statement sent to a cluster (credentials masked); tests count writes with it. */
export type StatementObserver = (cluster: string, sql: string) => void;

export interface ClusterRegistryOptions {
  driver?: ObDriverOptions;
  observer?: StatementObserver;
  /** close a driver nobody asked for in this long (default 10 min) */
  idleMs?: number;
}

export class ClusterRegistry {
  private readonly drivers = new Map<string, { fingerprint: string; driver: Promise<ObDriver>; usedAt: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: ClusterRegistryOptions = {},
  ) {}

  private driverOptions(): ObDriverOptions {
    const observer = this.options.observer;
    const log = this.log;
    return {
      connectTimeoutMs: 5_000,
      ...this.options.driver,
      logger: {
        debug(obj: object, msg?: string) {
          const { cluster, sql } = obj as { cluster?: string; sql?: string };
          if (observer && sql !== undefined) observer(cluster ?? '', sql);
          log.trace(obj, msg);
        },
        warn(obj: object, msg?: string) {
          log.warn(obj, msg);
        },
      },
    };
  }

  /** A connected driver for the cluster; a changed endpoint or password opens a new one. */
  async driver(cluster: LoadedCluster): Promise<ObDriver> {
    this.closeIdle(cluster.name);
    const cached = this.drivers.get(cluster.name);
    if (cached && cached.fingerprint === cluster.fingerprint) {
      cached.usedAt = this.clock.now().getTime();
      try {
        return await cached.driver;
      } catch {
        // the earlier attempt failed: try again below
      }
    }
    if (cached) void cached.driver.then((d) => d.close()).catch(() => undefined);
    const driver = ObDriver.open(cluster.endpoint, this.driverOptions());
    this.drivers.set(cluster.name, { fingerprint: cluster.fingerprint, driver, usedAt: this.clock.now().getTime() });
    try {
      const opened = await driver;
      await this.record(cluster.name, { reachable: true, identity: opened.identity });
      return opened;
    } catch (err) {
      if (this.drivers.get(cluster.name)?.driver === driver) this.drivers.delete(cluster.name);
      await this.record(cluster.name, { reachable: false, error: messageOf(err) }).catch(() => undefined);
      throw err;
    }
  }

  private closeIdle(except: string): void {
    const limit = this.clock.now().getTime() - (this.options.idleMs ?? 10 * 60_000);
    for (const [name, entry] of this.drivers) {
      if (name === except || entry.usedAt >= limit) continue;
      this.drivers.delete(name);
      void entry.driver.then((d) => d.close()).catch(() => undefined);
    }
  }

  get openDrivers(): number {
    return this.drivers.size;
  }

  /** Connects afresh, detects the version and checks the tenant scope; records what it saw unless `record` is false. */
  async probe(cluster: LoadedCluster, opts: { record?: boolean } = {}): Promise<ClusterProbe> {
    let driver: ObDriver | undefined;
    let result: ClusterProbe;
    try {
      driver = await ObDriver.open(cluster.endpoint, this.driverOptions());
      const identity = driver.identity;
      let missingTenants: string[] | undefined;
      if (identity.major === 4 && cluster.endpoint.tenants) {
        const names = new Set((await driver.listTenants()).map((t) => t.name));
        missingTenants = cluster.endpoint.tenants.filter((t) => !names.has(t));
      }
      result = { reachable: true, identity, missingTenants };
    } catch (err) {
      result = { reachable: false, error: messageOf(err), errorKind: err instanceof ObError ? err.kind : undefined };
    } finally {
      await driver?.close().catch(() => undefined);
    }
    if (opts.record !== false) await this.record(cluster.name, result);
    return result;
  }

  async record(name: string, probe: ClusterProbe): Promise<void> {
    const row = {
      reachable: probe.reachable ? 1 : 0,
      ob_version: probe.identity?.version ?? null,
      major: probe.identity?.major ?? null,
      error: probe.error ?? null,
      checked_at: toIso(this.clock.now()),
    };
    // A failed check keeps the version seen last.
    const set = probe.reachable ? row : { reachable: 0, error: row.error, checked_at: row.checked_at };
    const updated = await this.db.updateTable('cluster_observations').set(set).where('cluster', '=', name).executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return;
    try {
      await this.db.insertInto('cluster_observations').values({ cluster: name, ...row }).execute();
    } catch (err) {
      if (classifyStoreError(err) !== 'unique') throw err;
      await this.db.updateTable('cluster_observations').set(set).where('cluster', '=', name).execute();
    }
  }

  async observation(name: string): Promise<ClusterObservation | undefined> {
    const row = await this.db.selectFrom('cluster_observations').selectAll().where('cluster', '=', name).executeTakeFirst();
    if (!row) return undefined;
    return {
      cluster: row.cluster,
      reachable: Number(row.reachable) === 1,
      ob_version: row.ob_version,
      major: row.major === null ? null : (Number(row.major) as 3 | 4),
      error: row.error,
      checked_at: row.checked_at,
    };
  }

  async forget(name: string): Promise<void> {
    const cached = this.drivers.get(name);
    this.drivers.delete(name);
    if (cached) await cached.driver.then((d) => d.close()).catch(() => undefined);
    await this.db.deleteFrom('cluster_observations').where('cluster', '=', name).execute();
  }

  async closeAll(): Promise<void> {
    const all = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.allSettled(all.map((c) => c.driver.then((d) => d.close())));
  }
}
