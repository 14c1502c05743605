// The daemon's OceanBase driver: one per registered cluster. It talks to a sys tenant over the MySQL
// protocol and never knows what answers; the engine calls these operations and decides the order.
// Setters read first and send nothing when the cluster already is as asked (they return `changed`).
import mysql from 'mysql2';
import { ObConnection, type ObConnectionOptions, type ObEndpoint, type SqlSession } from './connection.js';
import { Dialect3x, mergeDestOptions } from './dialect-3x.js';
import { Dialect4x } from './dialect-4x.js';
import type { Dialect, SecondaryRequest } from './dialect.js';
import { ObError } from './errors.js';
import { sameDestination, uriSecrets } from './redact.js';
import { detectIdentity } from './version.js';
import type {
  ArchiveDestConfig,
  ArchivePiece,
  ArchiveStatus,
  BackupJob,
  BackupSet,
  BackupType,
  CleanJob,
  ClusterIdentity,
  CompactionStatus,
  DestinationState,
  JobMarks,
  JobRef,
  ObMajor,
  RetentionState,
  SecondaryJob,
  SecondaryKind,
  StartResult,
  TenantInfo,
} from './types.js';

export interface ObClusterConfig extends ObEndpoint {
  /** 4.x: the user tenants this cluster's policy covers; all user tenants when absent */
  tenants?: string[];
}

export interface ObDriverOptions extends ObConnectionOptions {
  /** how long startBackup looks for the job it started before handing back the marks. Default 15 s. */
  findJobTimeoutMs?: number;
  /** pause between those looks. Default 250 ms. */
  findJobIntervalMs?: number;
}

export interface BackupRequest {
  type: BackupType;
  /** 4.x: the tenants to back up; default the cluster's scope (`DATABASE` when it has none). Ignored on 3.x. */
  tenants?: string[];
  /** sent as `SET ENCRYPTION ON IDENTIFIED BY … ONLY` on the same session as the backup */
  encryptionPassword?: string;
  /** 4.x DESCRIPTION, with an explicit tenant list only */
  description?: string;
}

export interface StartedBackup {
  /** the newest job ids before the start: keep them to find the jobs again after a restart */
  marks: JobMarks;
  /** the jobs the start created, as far as they were visible in time (may be empty: use findJobsAfter) */
  jobs: BackupJob[];
}

const ARCHIVE_ACTIVE = new Set(['DOING', 'BEGINNING', 'PREPARE']);

export class ObDriver {
  readonly connection: ObConnection;
  private ident: ClusterIdentity | null = null;
  private dialect: Dialect | null = null;
  private readonly findTimeoutMs: number;
  private readonly findIntervalMs: number;

  constructor(
    private readonly cluster: ObClusterConfig,
    options: ObDriverOptions = {},
  ) {
    this.connection = new ObConnection(cluster, options);
    this.findTimeoutMs = options.findJobTimeoutMs ?? 15_000;
    this.findIntervalMs = options.findJobIntervalMs ?? 250;
  }

  /** Opens a driver and detects the version: a clear ObError when unreachable or refused. */
  static async open(cluster: ObClusterConfig, options: ObDriverOptions = {}): Promise<ObDriver> {
    const d = new ObDriver(cluster, options);
    try {
      await d.connect();
      return d;
    } catch (e) {
      await d.close();
      throw e;
    }
  }

  /** Connects and detects the version (reference §0). Safe to call again: re-detects. */
  async connect(): Promise<ClusterIdentity> {
    await this.connection.connect();
    const ident = await detectIdentity((sql) => this.connection.select(sql), this.connection.where);
    this.ident = ident;
    this.dialect = ident.major === 3 ? new Dialect3x() : new Dialect4x();
    return ident;
  }

  get identity(): ClusterIdentity {
    if (!this.ident) throw new ObError('invalid_argument', `${this.connection.where}: not connected yet`);
    return this.ident;
  }

  get major(): ObMajor {
    return this.identity.major;
  }

  get where(): string {
    return this.connection.where;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private async d(): Promise<Dialect> {
    if (!this.dialect) await this.connect();
    return this.dialect!;
  }

  private get s(): SqlSession {
    return this.connection;
  }

  // ------------------------------------------------------------------------------------------------
  // tenants and scope

  /** Every user tenant of the cluster. */
  async listTenants(): Promise<TenantInfo[]> {
    return (await this.d()).tenants(this.s);
  }

  /** The user tenants the cluster's `tenants` list names (all when it has none); unknown names are an error. */
  async scope(): Promise<TenantInfo[]> {
    const all = await this.listTenants();
    const wanted = this.cluster.tenants;
    if (!wanted || wanted.length === 0) return all;
    const missing = wanted.filter((n) => !all.some((t) => t.name === n));
    if (missing.length > 0) {
      throw new ObError(
        'unknown_tenant',
        `${this.where}: no user tenant named ${missing.map((m) => `"${m}"`).join(', ')} (the cluster has ${all.map((t) => t.name).join(', ') || 'none'})`,
      );
    }
    return all.filter((t) => wanted.includes(t.name));
  }

  /** What backups are configured and run for: `[null]` (the cluster) on 3.x, the scope's tenant names on 4.x. */
  async targets(): Promise<Array<string | null>> {
    if ((await this.d()).major === 3) return [null];
    return (await this.scope()).map((t) => t.name);
  }

  /** True while the cluster is in upgrade mode (backups are refused then: 9040 "cluster upgrading"). */
  async isUpgrading(): Promise<boolean> {
    return (await this.d()).upgrading(this.s);
  }

  // ------------------------------------------------------------------------------------------------
  // destinations

  /** 3.x: the cluster's record; 4.x: one per tenant of the scope. */
  async getDestinations(): Promise<DestinationState[]> {
    const d = await this.d();
    return d.destinations(this.s, d.major === 3 ? [] : await this.scope());
  }

  async getDestination(tenant: string | null): Promise<DestinationState> {
    const d = await this.d();
    if (d.major === 3) return (await d.destinations(this.s, []))[0];
    const t = await this.tenant(tenant);
    return (await d.destinations(this.s, [t]))[0];
  }

  /** Data backup destination (3.x backup_dest, shared with the archive; 4.x DATA_BACKUP_DEST). */
  async setDataDestination(uri: string, tenant: string | null, opts: { force?: boolean } = {}): Promise<boolean> {
    const d = await this.d();
    const current = await this.getDestination(tenant);
    if (!opts.force && sameDestination(current.dataDest, uri)) return false;
    this.registerUri(uri);
    await this.storageStatements(d.setDataDest(uri, this.tenantFor(d, tenant)));
    return true;
  }

  /**
   * Log archive destination. 4.x: LOG_ARCHIVE_DEST with LOCATION, BINDING and PIECE_SWITCH_INTERVAL
   * (always all three); OceanBase wants archiving off (NOARCHIVELOG) before the location changes.
   * 3.x: backup_dest plus log_archive_piece_switch_interval in backup_dest_option.
   */
  async setArchiveDestination(cfg: ArchiveDestConfig, tenant: string | null, opts: { force?: boolean } = {}): Promise<boolean> {
    const d = await this.d();
    const current = await this.getDestination(tenant);
    const statements = d.setArchiveDest(cfg, this.tenantFor(d, tenant), current, opts.force === true);
    if (statements.length === 0) return false;
    this.registerUri(cfg.location);
    await this.storageStatements(statements);
    return true;
  }

  /** 4.x LOG_ARCHIVE_DEST_STATE: DEFER suspends archiving, ENABLE resumes it. */
  async setArchiveDestState(state: 'ENABLE' | 'DEFER', tenant: string): Promise<boolean> {
    const d = await this.d();
    const current = await this.getDestination(tenant);
    if ((current.archive.state ?? 'ENABLE') === state) return false;
    for (const sql of d.setArchiveDestState(state, tenant)) await this.s.exec(sql);
    return true;
  }

  /** 3.x backup_dest_option: merges `changes` into the current string (setting it replaces all keys). */
  async setDestOptions(changes: Record<string, string>): Promise<boolean> {
    const d = await this.d();
    if (d.major !== 3) throw new ObError('not_supported', 'backup_dest_option is not available on OceanBase 4.x');
    const current = await this.getDestination(null);
    const merged = mergeDestOptions(current.options, changes);
    if (!merged) return false;
    for (const sql of d.setDestOptions(merged)) await this.s.exec(sql);
    return true;
  }

  /** 3.x backup_backup_dest_option (the secondary copies' recovery_window, auto_delete_obsolete_backup): merged like setDestOptions. */
  async setSecondaryDestOptions(changes: Record<string, string>): Promise<boolean> {
    const d = await this.d();
    if (d.major !== 3) throw new ObError('not_supported', 'backup_backup_dest_option is not available on OceanBase 4.x');
    const current = await this.getDestination(null);
    const merged = mergeDestOptions(current.secondaryOptions ?? {}, changes);
    if (!merged) return false;
    for (const sql of d.setSecondaryDestOptions(merged)) await this.s.exec(sql);
    return true;
  }

  /** 3.x backup_backup_dest (the secondary backup destination). */
  async setSecondaryDestination(uri: string, opts: { force?: boolean } = {}): Promise<boolean> {
    const d = await this.d();
    const current = await this.getDestination(null);
    if (!opts.force && sameDestination(current.secondaryDest, uri)) return false;
    this.registerUri(uri);
    await this.storageStatements(d.setSecondaryDest(uri));
    return true;
  }

  // ------------------------------------------------------------------------------------------------
  // log archive

  /** 3.x: the cluster record (tenant null) then every tenant; 4.x: every tenant of the scope. */
  async getArchiveStatus(): Promise<ArchiveStatus[]> {
    const d = await this.d();
    return d.archiveStatus(this.s, await this.scope());
  }

  /** ARCHIVELOG. Answers false (and sends nothing) when archiving is already on. */
  async startArchive(tenant: string | null): Promise<boolean> {
    const d = await this.d();
    if (d.major === 4) {
      const t = await this.tenant(tenant);
      if ((t.logMode ?? '').toUpperCase() === 'ARCHIVELOG') return false;
    } else {
      const cluster = (await d.archiveStatus(this.s, []))[0];
      if (ARCHIVE_ACTIVE.has(cluster.state)) return false;
    }
    try {
      await this.storageStatements([d.startArchive(this.tenantsFor(d, tenant))]);
      return true;
    } catch (e) {
      if (e instanceof ObError && e.kind === 'already_archiving') return false;
      throw e;
    }
  }

  /** NOARCHIVELOG. Answers false (and sends nothing) when archiving is already off. */
  async stopArchive(tenant: string | null): Promise<boolean> {
    const d = await this.d();
    if (d.major === 4) {
      const t = await this.tenant(tenant);
      if ((t.logMode ?? '').toUpperCase() === 'NOARCHIVELOG') return false;
    } else {
      const cluster = (await d.archiveStatus(this.s, []))[0];
      if (cluster.state === 'STOP') return false;
    }
    try {
      await this.s.exec(d.stopArchive(this.tenantsFor(d, tenant)));
      return true;
    } catch (e) {
      if (e instanceof ObError && (e.kind === 'already_not_archiving' || e.kind === 'archive_not_running')) return false;
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // data backup

  /** The newest job ids per tenant. Store them before submitting, to find the started jobs later. */
  async jobMarks(): Promise<JobMarks> {
    const d = await this.d();
    return d.jobMarks(this.s, await this.scope());
  }

  /**
   * Sends the backup statement, with `SET ENCRYPTION … ONLY` first on the same dedicated session, and a
   * raised ob_query_timeout. Does not look for the job: see startBackup / findJobsAfter.
   */
  async submitBackup(req: BackupRequest): Promise<{ tenants: string[] | null }> {
    const d = await this.d();
    const tenants = d.major === 3 ? null : await this.backupTenants(req);
    const sql = d.startBackup(req.type, tenants, tenants ? req.description : undefined);
    if (req.encryptionPassword !== undefined) this.connection.addSecret(req.encryptionPassword);
    await this.connection.session(
      async (s) => {
        if (req.encryptionPassword !== undefined) await s.exec(d.encryption(req.encryptionPassword));
        await s.exec(sql);
      },
      { storage: true },
    );
    return { tenants };
  }

  /** Jobs created after `marks` (running or finished), in the scope. */
  async findJobsAfter(marks: JobMarks): Promise<BackupJob[]> {
    const d = await this.d();
    return d.jobsAfter(this.s, await this.scope(), marks);
  }

  /**
   * jobMarks → submitBackup → look for the new jobs until they show or findJobTimeoutMs passes. An
   * incremental with no earlier full at the destination runs as a full (the database decides): check `type`.
   */
  async startBackup(req: BackupRequest): Promise<StartedBackup> {
    const marks = await this.jobMarks();
    const { tenants } = await this.submitBackup(req);
    // DATABASE (no list) creates jobs only for the tenants that qualify: stop at the first one seen
    const expected = tenants?.length ?? 1;
    const deadline = Date.now() + this.findTimeoutMs;
    let jobs: BackupJob[] = [];
    for (;;) {
      jobs = await this.findJobsAfter(marks);
      if (jobs.length >= expected) break;
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, this.findIntervalMs));
    }
    return { marks, jobs };
  }

  /** One job's state, progress, backup set, sizes and error; null when the database does not know it (yet). */
  async getJob(ref: JobRef): Promise<BackupJob | null> {
    return (await this.d()).job(this.s, ref);
  }

  /** Data backups running now in the scope (3.x: the cluster's). */
  async runningJobs(): Promise<BackupJob[]> {
    const d = await this.d();
    return d.runningJobs(this.s, await this.scope());
  }

  /** CANCEL BACKUP. Answers false when nothing was running (9049). */
  async cancelBackup(tenants?: string[]): Promise<boolean> {
    const d = await this.d();
    const list = d.major === 3 ? null : tenants && tenants.length ? tenants : (await this.scope()).map((t) => t.name);
    try {
      await this.s.exec(d.cancelBackup(list));
      return true;
    } catch (e) {
      if (e instanceof ObError && e.code === 9049) return false;
      throw e;
    }
  }

  async listBackupSets(): Promise<BackupSet[]> {
    const d = await this.d();
    return d.backupSets(this.s, await this.scope());
  }

  // ------------------------------------------------------------------------------------------------
  // compaction

  /** 3.x: the cluster's state; 4.x: per tenant of the scope. */
  async getCompaction(): Promise<CompactionStatus[]> {
    const d = await this.d();
    return d.compaction(this.s, d.major === 3 ? [] : await this.scope());
  }

  /** MAJOR FREEZE (3.x cluster; 4.x the given tenants, default the scope). */
  async majorFreeze(tenants?: string[]): Promise<void> {
    const d = await this.d();
    const list = d.major === 3 ? null : tenants && tenants.length ? tenants : (await this.scope()).map((t) => t.name);
    await this.s.exec(d.majorFreeze(list));
  }

  // ------------------------------------------------------------------------------------------------
  // cleanup

  /** 3.x: recovery_window + auto_delete_obsolete_backup; 4.x: the 'default' delete policy per tenant. */
  async getRetention(): Promise<RetentionState[]> {
    const d = await this.d();
    const scope = d.major === 3 ? [] : await this.scope();
    const dests = d.major === 3 ? await d.destinations(this.s, []) : [];
    return d.retention(this.s, scope, dests);
  }

  /** Expire backups older than `windowSeconds` automatically (null: keep everything). */
  async setRetention(windowSeconds: number | null, tenant: string | null): Promise<boolean> {
    const d = await this.d();
    let current: RetentionState;
    let dest: DestinationState;
    if (d.major === 3) {
      dest = (await d.destinations(this.s, []))[0];
      current = (await d.retention(this.s, [], [dest]))[0];
    } else {
      const t = await this.tenant(tenant);
      dest = (await d.destinations(this.s, [t]))[0];
      current = (await d.retention(this.s, [t], [dest]))[0];
    }
    const statements = d.setRetention(windowSeconds, this.tenantFor(d, tenant), current, dest);
    for (const sql of statements) await this.s.exec(sql);
    return statements.length > 0;
  }

  /** 3.x DELETE OBSOLETE BACKUP (by the recovery window). */
  async deleteObsoleteBackup(): Promise<void> {
    const d = await this.d();
    await this.storageStatements([d.deleteObsoleteBackup()]);
  }

  /** 3.x DELETE BACKUPSET n. */
  async deleteBackupSet(id: number): Promise<void> {
    const d = await this.d();
    await this.storageStatements([d.deleteBackupSet(id, null)]);
  }

  /** CANCEL DELETE BACKUP; false when nothing was running. */
  async cancelDelete(tenant: string | null): Promise<boolean> {
    const d = await this.d();
    try {
      await this.s.exec(d.cancelDelete(this.tenantFor(d, tenant)));
      return true;
    } catch (e) {
      if (e instanceof ObError && (e.code === 9053 || e.code === 9054)) return false;
      throw e;
    }
  }

  async listCleanJobs(limit = 50): Promise<CleanJob[]> {
    const d = await this.d();
    return d.cleanJobs(this.s, d.major === 3 ? [] : await this.scope(), limit);
  }

  // ------------------------------------------------------------------------------------------------
  // secondary backup (3.x backup of backups) and archive pieces

  /**
   * BACKUP BACKUPSET / BACKUPPIECE … NOT BACKED UP n TIMES. Answers `{started: false}` when the database
   * says there is nothing left to copy (9050 / 9059 / 9062).
   */
  async startSecondaryBackup(kind: SecondaryKind, req: SecondaryRequest = {}): Promise<StartResult> {
    const d = await this.d();
    const sql = d.startSecondary(kind, req);
    if (req.dest) this.registerUri(req.dest);
    try {
      await this.storageStatements([sql]);
      return { started: true };
    } catch (e) {
      if (e instanceof ObError && e.kind === 'nothing_to_copy' && e.code !== undefined) {
        return { started: false, reason: e.message, code: e.code };
      }
      throw e;
    }
  }

  async listSecondaryJobs(kind: SecondaryKind): Promise<SecondaryJob[]> {
    const d = await this.d();
    return d.secondaryJobs(this.s, kind, d.major === 3 ? await this.listTenants() : []);
  }

  /** CANCEL BACKUP BACKUPSET / BACKUPPIECE; false when nothing was running. */
  async cancelSecondaryBackup(kind: SecondaryKind): Promise<boolean> {
    const d = await this.d();
    try {
      await this.s.exec(d.cancelSecondary(kind));
      return true;
    } catch (e) {
      if (e instanceof ObError && (e.code === 9049 || e.code === 9041)) return false;
      throw e;
    }
  }

  /** Log archive pieces (3.x with copy ids; 4.x per tenant of the scope, with their paths). */
  async listArchivePieces(): Promise<ArchivePiece[]> {
    const d = await this.d();
    return d.archivePieces(this.s, d.major === 3 ? await this.listTenants() : await this.scope());
  }

  // ------------------------------------------------------------------------------------------------

  private async tenant(name: string | null): Promise<TenantInfo> {
    if (name === null) throw new ObError('invalid_argument', `${this.where}: OceanBase 4.x works per tenant: a tenant name is required`);
    const t = (await this.listTenants()).find((x) => x.name === name);
    if (!t) throw new ObError('unknown_tenant', `${this.where}: no user tenant named "${name}"`);
    return t;
  }

  private tenantFor(d: Dialect, tenant: string | null): string | null {
    return d.major === 3 ? null : tenant;
  }

  private tenantsFor(d: Dialect, tenant: string | null): string[] | null {
    return d.major === 3 || tenant === null ? null : [tenant];
  }

  private async backupTenants(req: BackupRequest): Promise<string[] | null> {
    if (req.tenants && req.tenants.length > 0) return req.tenants;
    if (this.cluster.tenants && this.cluster.tenants.length > 0) return (await this.scope()).map((t) => t.name);
    return null;
  }

  private registerUri(uri: string): void {
    for (const secret of uriSecrets(uri)) {
      this.connection.addSecret(secret);
      this.connection.addSecret(mysql.escape(secret).slice(1, -1));
    }
  }

  /** statements that reach backup storage: their own session, with a raised ob_query_timeout */
  private async storageStatements(statements: string[]): Promise<void> {
    if (statements.length === 0) return;
    await this.connection.session(
      async (s) => {
        for (const sql of statements) await s.exec(sql);
      },
      { storage: true },
    );
  }
}
