// obsim as a library: start an OceanBase simulator on a port (0 = any), drive its clock, inject faults, inspect state.
import { ObCluster, type ClusterOptions, type StatementFault } from './engine/cluster.js';
import { Ob3Engine } from './engine/ob3.js';
import { Ob4Engine } from './engine/ob4.js';
import type { Tunables } from './engine/types.js';
import { listenWire, type WireServer } from './wire.js';

export type { StatementFault, Tunables };

export interface ObSimOptions {
  /** any 3.x or 4.x version string, e.g. '4.2.1' or '3.2.4' */
  obVersion: string;
  /** password of root@sys (default: empty) */
  password?: string;
  /** user tenants to create (default: none) */
  tenants?: string[];
  /** keep state here across restarts; in memory when absent */
  dataDir?: string;
  /** simulated seconds per real second (default 1; 0 freezes time for tests that advance it by hand) */
  timeScale?: number;
  /** simulated start time in ms since the epoch (default: now) */
  startTimeMs?: number;
  port?: number;
  host?: string;
  tunables?: Partial<Tunables>;
  clusterName?: string;
}

export interface ObSim {
  readonly host: string;
  readonly port: number;
  readonly version: string;
  /** the model; read-only use in tests (views, tenants, parameters) */
  readonly cluster: ObCluster;
  stop(): Promise<void>;
  /** simulated time in ms since the epoch */
  now(): number;
  /** moves simulated time forward and fires everything that falls due */
  advance(ms: number): Promise<void>;
  setTimeScale(scale: number): void;
  faults: {
    /** the tenant's archive round goes INTERRUPTED (fix: NOARCHIVELOG then ARCHIVELOG) */
    interruptArchive(tenant: string, comment?: string): Promise<void>;
    /** running backup jobs (of one tenant, or all) fail now with `code` (e.g. 9070) */
    failRunningBackups(code: number, tenant?: string, comment?: string): Promise<number>;
    /** the next backup of the tenant fails with `code` after running `afterMs` of simulated time */
    failNextBackup(tenant: string, code: number, afterMs?: number, comment?: string): void;
    /** statement-level faults: 4012 timeouts, dropped connections, slow answers, arbitrary errors */
    addStatementFault(fault: StatementFault): void;
    clearStatementFaults(): void;
    /** cuts every open client connection now */
    dropConnections(): void;
    /** while on, BACKUP is refused with 9040 "cluster upgrading" */
    setUpgrading(on: boolean): void;
    /** tenant status other than NORMAL (e.g. 'RESTORE', 'DROPPING') makes backups refuse with 9040 */
    setTenantStatus(tenant: string, status: string): void;
  };
  /** runs a SELECT (or SHOW) as root@sys would and returns rows as objects; for assertions in tests */
  query(sql: string): Promise<Record<string, unknown>[]>;
}

export async function startObSim(options: ObSimOptions): Promise<ObSim> {
  const clusterOptions: ClusterOptions = {
    obVersion: options.obVersion,
    password: options.password ?? '',
    tenants: options.tenants ?? [],
    dataDir: options.dataDir,
    timeScale: options.timeScale ?? 1,
    startTimeMs: options.startTimeMs,
    tunables: options.tunables,
    clusterName: options.clusterName,
  };
  const cluster = new ObCluster(clusterOptions);
  cluster.engine = cluster.major === 4 ? new Ob4Engine(cluster) : new Ob3Engine(cluster);
  await cluster.load();
  await cluster.sync();
  const wire: WireServer = await listenWire(cluster, options.port ?? 0, options.host ?? '127.0.0.1');
  // with time running, transitions (and their files) happen without anyone querying
  const ticker = setInterval(() => {
    if (cluster.clock.timeScale > 0) cluster.sync().catch(() => undefined);
  }, 200);
  ticker.unref();
  const engine4 = () => {
    if (!(cluster.engine instanceof Ob4Engine)) throw new Error('only on 4.x');
    return cluster.engine;
  };
  const internalSession = () =>
    cluster.login({ user: 'root@sys', database: 'oceanbase', host: '127.0.0.1', scramble: Buffer.alloc(20), token: Buffer.alloc(0), connectionId: 0, bypass: true });
  return {
    host: wire.host,
    port: wire.port,
    version: cluster.fullVersion,
    cluster,
    async stop() {
      clearInterval(ticker);
      await wire.close();
      await cluster.sync();
      await cluster.persist();
    },
    now: () => cluster.clock.nowMs(),
    async advance(ms: number) {
      cluster.clock.advance(ms);
      await cluster.sync();
    },
    setTimeScale: (scale: number) => cluster.clock.setScale(scale),
    faults: {
      async interruptArchive(tenant, comment) {
        await cluster.sync();
        if (cluster.engine instanceof Ob4Engine) cluster.engine.interruptArchive(tenant, comment);
        else (cluster.engine as Ob3Engine).interruptArchive(comment);
        cluster.markDirty();
        await cluster.sync();
      },
      async failRunningBackups(code, tenant, comment) {
        await cluster.sync();
        const n = cluster.engine instanceof Ob4Engine ? cluster.engine.failRunningJobs(code, tenant, comment) : (cluster.engine as Ob3Engine).failRunningBackup(code);
        cluster.markDirty();
        await cluster.sync();
        return n;
      },
      failNextBackup(tenant, code, afterMs = 0, comment) {
        if (cluster.engine instanceof Ob4Engine) engine4().armFailure(tenant, code, afterMs, comment);
        else (cluster.engine as Ob3Engine).armFailure(code, afterMs);
      },
      addStatementFault: (fault) => cluster.statementFaults.push({ ...fault }),
      clearStatementFaults: () => cluster.statementFaults.splice(0),
      dropConnections: () => wire.dropAll(),
      setUpgrading: (on) => {
        cluster.upgrading = on;
        cluster.setParam('enable_upgrade_mode', on ? 'True' : 'False');
      },
      setTenantStatus: (tenant, status) => {
        cluster.tenantByName(tenant).status = status;
        cluster.markDirty();
      },
    },
    async query(sql: string) {
      const session = internalSession();
      const r = await cluster.execute(session, sql, true);
      cluster.closed(session);
      if (r === 'drop' || r.kind !== 'rows') return [];
      return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i] instanceof Object && 'usec' in (row[i] as object) ? new Date(Number((row[i] as { usec: number }).usec) / 1000) : row[i]])));
    },
  };
}
