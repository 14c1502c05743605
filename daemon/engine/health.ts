// What the daemon last saw of each cluster (archive state and lag, backup sets) and storage (usage),
// read on the alarm cadence and kept in memory for alarms, status and metrics. A cluster that cannot be
// read is recorded as unreachable with the reason; nothing here throws.
import { openStorage } from '../storage/index.js';
import { toIso } from './clock.js';
import { errorText, type OpsContext } from './ops-context.js';

export interface ArchiveHealth {
  /** 4.x tenant; null for the 3.x cluster-level record */
  tenant: string | null;
  state: string;
  lag_seconds: number | null;
  checkpoint_at: string | null;
  comment: string | null;
}

export interface ClusterHealth {
  cluster: string;
  observed_at: string;
  reachable: boolean;
  error: string | null;
  ob_version: string | null;
  archive: ArchiveHealth[];
  /** the largest lag among the archive records, seconds */
  log_backup_delay_seconds: number | null;
  /** newest archive checkpoint among the records (the oldest of them, as OCP's latestLogBackupCheckpoint) */
  log_backup_checkpoint_at: string | null;
  /** bytes of the successful backup sets still available at the primary destination */
  backup_size_bytes: number | null;
  /** end of the newest successful backup set the database lists */
  last_backup_set_at: string | null;
}

export interface StorageHealth {
  storage: string;
  observed_at: string;
  used_percent: number | null;
  used_bytes: number | null;
  capacity_bytes: number | null;
  threshold_percent: number;
  error: string | null;
}

export interface HealthOptions {
  /** how long a cluster may take to answer before it counts as unreachable (default 20 s) */
  clusterTimeoutMs?: number;
  /** clusters read at once (default 8) */
  concurrency?: number;
  /** storage usage is read at most this often (default 30 min, as OCP) */
  storageIntervalMs?: number;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class HealthMonitor {
  readonly clusters = new Map<string, ClusterHealth>();
  readonly storages = new Map<string, StorageHealth>();
  private readonly options: Required<HealthOptions>;

  constructor(
    private readonly ctx: OpsContext,
    options: HealthOptions = {},
  ) {
    this.options = { clusterTimeoutMs: 20_000, concurrency: 8, storageIntervalMs: 30 * 60_000, ...options };
  }

  async observeCluster(name: string): Promise<ClusterHealth> {
    const observedAt = toIso(this.ctx.clock.now());
    let health: ClusterHealth;
    try {
      health = await withTimeout(this.readCluster(name, observedAt), this.options.clusterTimeoutMs, `cluster "${name}"`);
    } catch (err) {
      const previous = this.clusters.get(name);
      health = {
        ...(previous ?? { archive: [], log_backup_delay_seconds: null, log_backup_checkpoint_at: null, backup_size_bytes: null, last_backup_set_at: null, ob_version: null }),
        cluster: name,
        observed_at: observedAt,
        reachable: false,
        error: errorText(err),
      };
    }
    this.clusters.set(name, health);
    return health;
  }

  private async readCluster(name: string, observedAt: string): Promise<ClusterHealth> {
    const driver = await this.ctx.driver(name);
    const [archive, sets] = await Promise.all([driver.getArchiveStatus(), driver.listBackupSets()]);
    // 3.x archives for the whole cluster: its record speaks for every tenant
    const records = driver.major === 3 ? archive.filter((a) => a.tenant === null) : archive;
    const lags = records.map((a) => a.lagSeconds).filter((l): l is number => l !== null);
    const checkpoints = records.map((a) => a.checkpointAt).filter((d): d is Date => d !== null);
    const live = sets.filter((s) => s.copyId === 0 && s.status === 'success' && (s.fileStatus ?? 'AVAILABLE') === 'AVAILABLE');
    const ends = live.map((s) => s.endedAt?.getTime()).filter((t): t is number => t !== undefined);
    return {
      cluster: name,
      observed_at: observedAt,
      reachable: true,
      error: null,
      ob_version: driver.identity.version,
      archive: records.map((a) => ({
        tenant: a.tenant,
        state: a.state,
        lag_seconds: a.lagSeconds === null ? null : Math.round(a.lagSeconds * 10) / 10,
        checkpoint_at: a.checkpointAt?.toISOString() ?? null,
        comment: a.comment,
      })),
      log_backup_delay_seconds: lags.length > 0 ? Math.round(Math.max(...lags) * 10) / 10 : null,
      log_backup_checkpoint_at: checkpoints.length > 0 ? new Date(Math.min(...checkpoints.map((d) => d.getTime()))).toISOString() : null,
      backup_size_bytes: live.reduce((sum, s) => sum + (s.sizeBytes ?? 0), 0),
      last_backup_set_at: ends.length > 0 ? new Date(Math.max(...ends)).toISOString() : null,
    };
  }

  async observeClusters(names: string[]): Promise<void> {
    await eachLimited([...new Set(names)], this.options.concurrency, async (n) => {
      await this.observeCluster(n);
    });
  }

  /** Reads the usage of each storage not read within storageIntervalMs (or every one with `force`). */
  async observeStorages(names: string[], force = false): Promise<void> {
    const now = this.ctx.clock.now().getTime();
    const due = [...new Set(names)].filter((n) => {
      const last = this.storages.get(n);
      return force || !last || now - new Date(last.observed_at).getTime() >= this.options.storageIntervalMs;
    });
    await eachLimited(due, this.options.concurrency, async (name) => {
      const observedAt = toIso(this.ctx.clock.now());
      let threshold = this.storages.get(name)?.threshold_percent ?? 80;
      try {
        const target = await this.ctx.storage(name);
        threshold = target.capacityAlarmThreshold;
        const storage = openStorage(target.config);
        try {
          const usage = await storage.usage();
          this.storages.set(name, {
            storage: name,
            observed_at: observedAt,
            used_percent: usage.used_percent,
            used_bytes: usage.used_bytes,
            capacity_bytes: usage.capacity_bytes,
            threshold_percent: threshold,
            error: null,
          });
        } finally {
          await storage.close();
        }
      } catch (err) {
        this.storages.set(name, { storage: name, observed_at: observedAt, used_percent: null, used_bytes: null, capacity_bytes: null, threshold_percent: threshold, error: errorText(err) });
      }
    });
  }

  forget(names: { clusters?: string[]; storages?: string[] }): void {
    for (const n of names.clusters ?? []) this.clusters.delete(n);
    for (const n of names.storages ?? []) this.storages.delete(n);
  }
}
