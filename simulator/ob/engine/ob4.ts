// OceanBase 4.x: tenant-level log archive, data backup, delete policies and major compaction (reference §1-§5).
import { createHash } from 'node:crypto';
import { ObError, invalidArgument, notSupported, obError } from '../errors.js';
import { cols, type Row, type TableDef } from '../sql/catalog.js';
import type { Cursor } from '../sql/parser.js';
import { openStorage, redactUri, type BackupStorage } from '../storage.js';
import type { StatementResult } from '../wire.js';
import type { ObCluster } from './cluster.js';
import { bytesDisplay, claimDestination, fileStamp, filler, scn, ts } from './common.js';
import { parseDurationUs } from './params.js';
import type { SessionState, Tenant, VersionEngine } from './types.js';

type RoundStatus = 'PREPARE' | 'BEGINNING' | 'DOING' | 'INTERRUPTED' | 'STOPPING' | 'STOP' | 'SUSPENDING' | 'SUSPEND';
type JobStatus = 'INIT' | 'DOING' | 'COMPLETED' | 'FAILED' | 'CANCELING' | 'CANCELED';

interface ArchiveDest {
  location: string;
  binding: 'OPTIONAL' | 'MANDATORY';
  pieceSwitchUs: number;
  destId: number;
  state: 'ENABLE' | 'DEFER';
}

interface Round {
  tenantId: number;
  roundId: number;
  destId: number;
  status: RoundStatus;
  startUs: number;
  checkpointUs: number;
  basePieceId: number;
  usedPieceId: number;
  pieceSwitchUs: number;
  inputBytes: number;
  outputBytes: number;
  deletedInputBytes: number;
  deletedOutputBytes: number;
  comment: string;
  location: string;
  dueAt: number | null;
  logFileNo: number;
}

interface Piece {
  tenantId: number;
  roundId: number;
  destId: number;
  pieceId: number;
  status: 'ACTIVE' | 'FROZEN';
  startUs: number;
  checkpointUs: number;
  endUs: number;
  inputBytes: number;
  outputBytes: number;
  fileStatus: 'AVAILABLE' | 'DELETING' | 'DELETED';
  location: string;
}

interface Job {
  tenantId: number;
  jobId: number;
  backupSetId: number;
  initiatorTenantId: number;
  initiatorJobId: number;
  executorTenantIds: number[];
  plusArchivelog: boolean;
  backupType: 'FULL' | 'INC';
  jobLevel: 'CLUSTER' | 'SYS_TENANT' | 'USER_TENANT';
  encryptionMode: string;
  passwd: string;
  startUs: number;
  endUs: number | null;
  status: JobStatus;
  result: number;
  comment: string;
  description: string;
  location: string;
  retryCount: number;
  dueAt: number | null;
}

const TASK_PHASES = ['INIT', 'BACKUP_SYS_META', 'BACKUP_USER_META', 'BACKUP_META_FINISH', 'BACKUP_DATA_SYS', 'BACKUP_DATA_MINOR', 'BACKUP_DATA_MAJOR', 'BEFORE_BACKUP_LOG', 'BACKUP_LOG'] as const;

interface Task {
  tenantId: number;
  taskId: number;
  jobId: number;
  backupSetId: number;
  status: string;
  startUs: number;
  endUs: number | null;
  result: number;
  comment: string;
  startScnUs: number;
  endScnUs: number | null;
  bytes: number;
  files: number;
  filesWritten: number;
  dueAt: number | null;
  done: boolean;
}

interface BackupSet {
  tenantId: number;
  backupSetId: number;
  destId: number;
  backupType: 'FULL' | 'INC';
  prevFullId: number;
  prevIncId: number;
  startUs: number;
  endUs: number | null;
  status: 'DOING' | 'SUCCESS' | 'FAILED';
  fileStatus: 'COPYING' | 'AVAILABLE' | 'INCOMPLETE' | 'DELETING' | 'DELETED';
  plusArchivelog: boolean;
  startReplayUs: number;
  minRestoreUs: number | null;
  bytes: number;
  bytesWritten: number;
  files: number;
  filesWritten: number;
  result: number;
  comment: string;
  encryptionMode: string;
  passwd: string;
  location: string;
  dirName: string;
}

interface DeleteJob {
  tenantId: number;
  jobId: number;
  initiatorTenantId: number;
  initiatorJobId: number;
  parameter: number;
  startUs: number;
  endUs: number | null;
  status: JobStatus;
  result: number;
  comment: string;
  sets: number[];
  pieces: [number, number][];
  dueAt: number | null;
}

interface Compaction {
  frozenUs: number;
  frozenTimeUs: number;
  broadcastUs: number;
  lastUs: number;
  lastFinishUs: number;
  startUs: number;
  status: 'IDLE' | 'COMPACTING';
  dueAt: number | null;
}

interface TenantState {
  tenantId: number;
  archiveDest?: ArchiveDest;
  dataDest?: { uri: string; destId: number };
  deletePolicy?: { window: string; windowUs: number };
  nextDestId: number;
  nextJobId: number;
  nextSetId: number;
  nextRoundId: number;
  nextDeleteJobId: number;
  nextTaskId: number;
  nextAutoDeleteAt: number | null;
  rounds: Round[];
  pieces: Piece[];
  jobs: Job[];
  tasks: Task[];
  sets: BackupSet[];
  deleteJobs: DeleteJob[];
  compaction: Compaction;
  /** fault armed by tests: the next backup of this tenant fails with this code once DOING */
  armedFailure?: { code: number; comment: string; afterMs: number };
}

const FINISHED: JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELED'];

export class Ob4Engine implements VersionEngine {
  private states = new Map<number, TenantState>();

  constructor(private readonly cluster: ObCluster) {
    for (const t of cluster.tenants) this.state(t.id);
  }

  // ---------------------------------------------------------------- state helpers

  state(tenantId: number): TenantState {
    let s = this.states.get(tenantId);
    if (!s) {
      const nowUs = this.cluster.nowUs();
      s = {
        tenantId,
        nextDestId: 1001,
        nextJobId: 1,
        nextSetId: 1,
        nextRoundId: 1,
        nextDeleteJobId: 1,
        nextTaskId: 1,
        nextAutoDeleteAt: null,
        rounds: [],
        pieces: [],
        jobs: [],
        tasks: [],
        sets: [],
        deleteJobs: [],
        compaction: { frozenUs: nowUs, frozenTimeUs: nowUs, broadcastUs: nowUs, lastUs: nowUs, lastFinishUs: nowUs, startUs: nowUs, status: 'IDLE', dueAt: null },
      };
      this.states.set(tenantId, s);
    }
    return s;
  }

  snapshot(): unknown {
    return [...this.states.values()];
  }

  restore(state: unknown): void {
    this.states = new Map((state as TenantState[]).map((s) => [s.tenantId, s]));
  }

  private currentRound(s: TenantState): Round | undefined {
    return s.rounds[s.rounds.length - 1];
  }

  private storageFor(location: string): BackupStorage {
    return openStorage(location);
  }

  private lagTargetMs(tenantId: number): number {
    return Math.max(1000, (parseDurationUs(this.cluster.param('archive_lag_target', tenantId)) ?? 120e6) / 1000);
  }

  // ---------------------------------------------------------------- public hooks for the library API

  /** fault: the tenant's running archive round breaks (INTERRUPTED) */
  interruptArchive(tenantName: string, comment = 'log archive is interrupted'): void {
    const t = this.cluster.tenantByName(tenantName);
    const r = this.currentRound(this.state(t.id));
    if (!r || !['PREPARE', 'BEGINNING', 'DOING'].includes(r.status)) throw new Error(`tenant ${tenantName} has no running archive round`);
    r.status = 'INTERRUPTED';
    r.comment = comment;
    r.dueAt = null;
  }

  /** fault: running backup jobs of the tenant (all tenants when omitted) fail now with the code */
  failRunningJobs(code: number, tenantName?: string, comment?: string): number {
    let n = 0;
    for (const t of this.cluster.userTenants()) {
      if (tenantName && t.name.toLowerCase() !== tenantName.toLowerCase()) continue;
      for (const j of this.state(t.id).jobs) {
        if (j.status === 'INIT' || j.status === 'DOING') {
          this.finishJob(j, 'FAILED', -Math.abs(code), comment ?? obError(Math.abs(code)).message);
          n++;
        }
      }
    }
    return n;
  }

  armFailure(tenantName: string, code: number, afterMs: number, comment?: string): void {
    const t = this.cluster.tenantByName(tenantName);
    this.state(t.id).armedFailure = { code: Math.abs(code), comment: comment ?? obError(Math.abs(code)).message, afterMs };
  }

  // ---------------------------------------------------------------- events

  nextEventAt(): number | null {
    let min: number | null = null;
    const consider = (t: number | null | undefined) => {
      if (t !== null && t !== undefined && (min === null || t < min)) min = t;
    };
    for (const s of this.states.values()) {
      for (const r of s.rounds) consider(r.dueAt);
      for (const j of s.jobs) consider(j.dueAt);
      for (const t of s.tasks) consider(t.dueAt);
      for (const d of s.deleteJobs) consider(d.dueAt);
      consider(s.compaction.dueAt);
      consider(s.nextAutoDeleteAt);
    }
    return min;
  }

  async fire(nowMs: number): Promise<void> {
    const due = (t: number | null | undefined) => t !== null && t !== undefined && t <= nowMs;
    for (const s of this.states.values()) {
      if (due(s.compaction.dueAt)) this.finishCompaction(s);
      for (const r of s.rounds) if (due(r.dueAt)) await this.roundEvent(s, r, nowMs);
      for (const j of [...s.jobs]) if (due(j.dueAt)) await this.jobEvent(s, j, nowMs);
      for (const t of [...s.tasks]) if (due(t.dueAt)) await this.taskEvent(s, t, nowMs);
      for (const d of [...s.deleteJobs]) if (due(d.dueAt)) await this.deleteJobEvent(s, d, nowMs);
      if (due(s.nextAutoDeleteAt)) {
        s.nextAutoDeleteAt = nowMs + this.cluster.tunables.autoDeleteIntervalMs;
        if (!s.deleteJobs.some((d) => !FINISHED.includes(d.status))) this.startDeleteJob(s, s.tenantId);
      }
    }
  }

  // ---------------------------------------------------------------- archive

  private startRound(s: TenantState): void {
    const dest = s.archiveDest!;
    const nowUs = this.cluster.nowUs();
    const round: Round = {
      tenantId: s.tenantId,
      roundId: s.nextRoundId++,
      destId: dest.destId,
      status: 'PREPARE',
      startUs: nowUs,
      checkpointUs: nowUs,
      basePieceId: 0,
      usedPieceId: 0,
      pieceSwitchUs: dest.pieceSwitchUs,
      inputBytes: 0,
      outputBytes: 0,
      deletedInputBytes: 0,
      deletedOutputBytes: 0,
      comment: '',
      location: dest.location,
      dueAt: this.cluster.nowMs() + this.cluster.tunables.archivePrepareMs,
      logFileNo: 0,
    };
    s.rounds.push(round);
    this.cluster.note(`tenant ${s.tenantId} archive round ${round.roundId} PREPARE`);
  }

  private pieceDir(r: Round, pieceId: number): string {
    return `piece_d${r.destId}r${r.roundId}p${pieceId}`;
  }

  private async openPiece(s: TenantState, r: Round, startUs: number): Promise<Piece> {
    const pieceId = (s.pieces.filter((p) => p.roundId === r.roundId).reduce((m, p) => Math.max(m, p.pieceId), 0) || 0) + 1;
    const piece: Piece = {
      tenantId: s.tenantId, roundId: r.roundId, destId: r.destId, pieceId, status: 'ACTIVE', startUs, checkpointUs: startUs,
      endUs: startUs + r.pieceSwitchUs, inputBytes: 0, outputBytes: 0, fileStatus: 'AVAILABLE', location: r.location,
    };
    s.pieces.push(piece);
    if (r.basePieceId === 0) r.basePieceId = pieceId;
    r.usedPieceId = pieceId;
    await this.storageFor(r.location).write(`pieces/${this.pieceDir(r, pieceId)}_start_${fileStamp(startUs)}.obarc`, JSON.stringify({ tenant_id: s.tenantId, round_id: r.roundId, piece_id: pieceId, start_scn: String(scn(startUs)) }));
    return piece;
  }

  private async freezePiece(r: Round, p: Piece, endUs: number): Promise<void> {
    p.status = 'FROZEN';
    p.checkpointUs = endUs;
    p.endUs = endUs;
    const st = this.storageFor(r.location);
    await st.write(`${this.pieceDir(r, p.pieceId)}/single_piece_info.obarc`, JSON.stringify({ piece_id: p.pieceId, status: 'FROZEN', input_bytes: p.inputBytes }));
    await st.write(`pieces/${this.pieceDir(r, p.pieceId)}_end_${fileStamp(endUs)}.obarc`, '');
  }

  /** moves the DOING round's checkpoint to `nowUs`, archiving the redo generated meanwhile into pieces */
  private async advanceCheckpoint(s: TenantState, r: Round, nowUs: number): Promise<void> {
    const st = this.storageFor(r.location);
    let from = r.checkpointUs;
    while (from < nowUs) {
      let piece = s.pieces.find((p) => p.roundId === r.roundId && p.status === 'ACTIVE');
      if (!piece) piece = await this.openPiece(s, r, from);
      const until = Math.min(nowUs, piece.endUs);
      const bytes = Math.round(((until - from) / 1e6) * this.cluster.tunables.logBytesPerSecond);
      if (bytes > 0) {
        r.logFileNo++;
        await st.write(`${this.pieceDir(r, piece.pieceId)}/logstream_1001/log/${r.logFileNo}.obarc`, filler(bytes, `redo tenant ${s.tenantId}`));
      }
      piece.inputBytes += bytes;
      piece.outputBytes += bytes;
      piece.checkpointUs = until;
      r.inputBytes += bytes;
      r.outputBytes += bytes;
      from = until;
      if (until >= piece.endUs) await this.freezePiece(r, piece, piece.endUs);
    }
    r.checkpointUs = nowUs;
  }

  private async roundEvent(s: TenantState, r: Round, nowMs: number): Promise<void> {
    const t = this.cluster.tunables;
    switch (r.status) {
      case 'PREPARE':
        r.status = 'BEGINNING';
        r.dueAt = nowMs + t.archiveBeginMs;
        await this.storageFor(r.location).write(`rounds/round_d${r.destId}r${r.roundId}_start.obarc`, JSON.stringify({ round_id: r.roundId, start_scn: String(scn(r.startUs)) }));
        break;
      case 'BEGINNING':
        r.status = 'DOING';
        await this.openPiece(s, r, r.startUs);
        await this.advanceCheckpoint(s, r, nowMs * 1000);
        r.dueAt = nowMs + this.lagTargetMs(s.tenantId);
        this.cluster.note(`tenant ${s.tenantId} archive round ${r.roundId} DOING`);
        break;
      case 'DOING':
        await this.advanceCheckpoint(s, r, nowMs * 1000);
        r.dueAt = nowMs + this.lagTargetMs(s.tenantId);
        break;
      case 'SUSPENDING':
        r.status = 'SUSPEND';
        r.dueAt = null;
        break;
      case 'STOPPING': {
        r.status = 'STOP';
        r.dueAt = null;
        for (const p of s.pieces.filter((x) => x.roundId === r.roundId && x.status === 'ACTIVE')) await this.freezePiece(r, p, r.checkpointUs);
        await this.storageFor(r.location).write(`rounds/round_d${r.destId}r${r.roundId}_end.obarc`, JSON.stringify({ round_id: r.roundId, checkpoint_scn: String(scn(r.checkpointUs)) }));
        const tenant = this.cluster.tenantById(s.tenantId)!;
        if (tenant.logMode === 'ARCHIVELOG' && s.archiveDest && s.archiveDest.state === 'ENABLE') this.startRound(s);
        break;
      }
      default:
        r.dueAt = null;
    }
  }

  private archiveLog(tenants: Tenant[], on: boolean): void {
    for (const tenant of tenants) {
      if (on && tenant.logMode === 'ARCHIVELOG') throw obError(9091);
      if (!on && tenant.logMode === 'NOARCHIVELOG') throw obError(9092);
    }
    for (const tenant of tenants) {
      const s = this.state(tenant.id);
      const r = this.currentRound(s);
      tenant.logMode = on ? 'ARCHIVELOG' : 'NOARCHIVELOG';
      if (on) {
        // §2: archiving starts only with a destination configured and ENABLE
        if (s.archiveDest && s.archiveDest.state === 'ENABLE' && (!r || r.status === 'STOP')) this.startRound(s);
      } else if (r && r.status !== 'STOP' && r.status !== 'STOPPING') {
        r.status = 'STOPPING';
        r.dueAt = this.cluster.nowMs() + this.cluster.tunables.archiveStopMs;
      }
    }
  }

  // ---------------------------------------------------------------- data backup

  private hasRunningJob(s: TenantState, initiatorTenantId?: number): boolean {
    return s.jobs.some((j) => !FINISHED.includes(j.status) && (initiatorTenantId === undefined || j.initiatorTenantId === initiatorTenantId));
  }

  private archiveDoing(s: TenantState): boolean {
    return this.currentRound(s)?.status === 'DOING';
  }

  private startBackup(tenants: Tenant[] | 'ALL', incremental: boolean, session: SessionState, plusArchivelog: boolean, description: string): void {
    // Choice: the upgrade check runs when the statement is issued (in the database it runs when the
    // tenant job is created, which for a sys-initiated backup is right after the statement).
    if (this.cluster.upgrading) throw obError(9040, 'cluster upgrading');
    let targets: Tenant[];
    if (tenants === 'ALL') {
      targets = this.cluster.userTenants().filter((t) => {
        const s = this.state(t.id);
        return t.status === 'NORMAL' && this.archiveDoing(s) && !this.hasRunningJob(s, 1) && !!s.dataDest?.uri;
      });
      if (targets.length === 0) {
        throw obError(9040, 'no tenant meets the backup condition, please check the tenant status, log archive status, backup data dest, and backup status for each tenant');
      }
    } else {
      for (const t of tenants) {
        const s = this.state(t.id);
        if (t.status !== 'NORMAL') throw obError(9040, 'tenant status is not normal.');
        if (!this.archiveDoing(s)) throw obError(9040, 'log archive status is not doing.');
        if (this.hasRunningJob(s, 1)) throw obError(9036);
        if (!s.dataDest?.uri) throw obError(9040, 'backup dest is not set.');
      }
      targets = tenants;
    }
    const nowUs = this.cluster.nowUs();
    const nowMs = this.cluster.nowMs();
    const sys = this.state(1);
    const enc = session.encryption.mode === 'PASSWORD' ? { mode: 'PASSWORD', passwd: createHash('md5').update(session.encryption.passwd).digest('hex').toUpperCase() } : { mode: 'NONE', passwd: '' };
    const requested = incremental ? 'INC' : 'FULL';
    const parent: Job = {
      tenantId: 1, jobId: sys.nextJobId++, backupSetId: 0, initiatorTenantId: 1, initiatorJobId: 0, executorTenantIds: targets.map((t) => t.id),
      plusArchivelog, backupType: requested, jobLevel: 'CLUSTER', encryptionMode: enc.mode, passwd: enc.passwd, startUs: nowUs, endUs: null,
      status: 'INIT', result: 0, comment: '', description, location: '', retryCount: 0, dueAt: nowMs + this.cluster.tunables.jobStartDelayMs,
    };
    parent.initiatorJobId = parent.jobId;
    sys.jobs.push(parent);
    for (const t of targets) {
      const s = this.state(t.id);
      const location = s.dataDest!.uri;
      // §4: an incremental without a successful set at the same path silently runs as a full
      const hasPrev = s.sets.some((x) => x.status === 'SUCCESS' && redactUri(x.location) === redactUri(location) && x.fileStatus === 'AVAILABLE');
      const backupType = incremental && hasPrev ? 'INC' : 'FULL';
      const job: Job = {
        tenantId: t.id, jobId: s.nextJobId++, backupSetId: s.nextSetId++, initiatorTenantId: 1, initiatorJobId: parent.jobId, executorTenantIds: [t.id],
        plusArchivelog, backupType, jobLevel: 'USER_TENANT', encryptionMode: enc.mode, passwd: enc.passwd, startUs: nowUs, endUs: null,
        status: 'INIT', result: 0, comment: '', description, location, retryCount: 0, dueAt: nowMs + this.cluster.tunables.jobStartDelayMs,
      };
      s.jobs.push(job);
      this.cluster.note(`tenant ${t.id} backup job ${job.jobId} ${backupType} INIT`);
    }
  }

  private setDirName(j: Job): string {
    return `backup_set_${j.backupSetId}_${j.backupType === 'FULL' ? 'full' : 'inc'}`;
  }

  private async jobEvent(s: TenantState, j: Job, nowMs: number): Promise<void> {
    j.dueAt = null;
    if (j.status === 'CANCELING') {
      this.finishJob(j, 'CANCELED', -4072, '');
      return;
    }
    if (j.status !== 'INIT') return;
    j.status = 'DOING';
    if (j.tenantId === 1) return;
    const t = this.cluster.tunables;
    const round = this.currentRound(s);
    const prev = s.sets.filter((x) => x.status === 'SUCCESS' && x.fileStatus === 'AVAILABLE' && redactUri(x.location) === redactUri(j.location));
    const prevFull = [...prev].reverse().find((x) => x.backupType === 'FULL');
    const bytes = j.backupType === 'FULL' ? t.tenantDataBytes : Math.max(t.dataFileBytes, Math.round(t.tenantDataBytes * t.incrementalRatio));
    const files = Math.max(1, Math.ceil(bytes / t.dataFileBytes));
    const set: BackupSet = {
      tenantId: s.tenantId, backupSetId: j.backupSetId, destId: s.dataDest?.destId ?? 1001, backupType: j.backupType,
      prevFullId: j.backupType === 'INC' ? (prevFull?.backupSetId ?? 0) : 0,
      prevIncId: j.backupType === 'INC' ? (prev[prev.length - 1]?.backupType === 'INC' ? prev[prev.length - 1].backupSetId : 0) : 0,
      startUs: nowMs * 1000, endUs: null, status: 'DOING', fileStatus: 'COPYING', plusArchivelog: j.plusArchivelog,
      startReplayUs: round?.checkpointUs ?? nowMs * 1000, minRestoreUs: null, bytes, bytesWritten: 0, files, filesWritten: 0, result: 0, comment: '',
      encryptionMode: j.encryptionMode, passwd: j.passwd, location: j.location, dirName: this.setDirName(j),
    };
    s.sets.push(set);
    const task: Task = {
      tenantId: s.tenantId, taskId: s.nextTaskId++, jobId: j.jobId, backupSetId: j.backupSetId, status: 'INIT', startUs: nowMs * 1000, endUs: null,
      result: 0, comment: '', startScnUs: nowMs * 1000, endScnUs: null, bytes, files, filesWritten: 0, dueAt: nowMs + t.metaPhaseMs, done: false,
    };
    s.tasks.push(task);
    try {
      await this.storageFor(j.location).write(`backup_sets/${set.dirName}_start.obbak`, JSON.stringify({ tenant_id: s.tenantId, backup_set_id: j.backupSetId, type: j.backupType }));
    } catch (e) {
      this.finishJob(j, 'FAILED', -(e instanceof ObError ? e.code : 9070), e instanceof ObError ? e.message : obError(9070).message);
      return;
    }
    if (s.armedFailure) {
      const f = s.armedFailure;
      s.armedFailure = undefined;
      // the armed failure fires after `afterMs` of running
      (task as Task & { failAt?: number; failCode?: number; failComment?: string }).failAt = nowMs + f.afterMs;
      (task as Task & { failCode?: number }).failCode = f.code;
      (task as Task & { failComment?: string }).failComment = f.comment;
      task.dueAt = Math.min(task.dueAt!, nowMs + f.afterMs);
    }
    this.cluster.note(`tenant ${s.tenantId} backup job ${j.jobId} DOING`);
  }

  private async taskEvent(s: TenantState, task: Task, nowMs: number): Promise<void> {
    const job = s.jobs.find((j) => j.jobId === task.jobId)!;
    const set = s.sets.find((x) => x.backupSetId === task.backupSetId)!;
    const armed = task as Task & { failAt?: number; failCode?: number; failComment?: string };
    if (armed.failAt !== undefined && armed.failAt <= nowMs) {
      this.finishJob(job, 'FAILED', -armed.failCode!, armed.failComment!);
      return;
    }
    const t = this.cluster.tunables;
    const st = this.storageFor(job.location);
    const phase = TASK_PHASES.indexOf(task.status as (typeof TASK_PHASES)[number]);
    const fileMs = (t.dataFileBytes / t.backupBytesPerSecond) * 1000;
    const dataPhaseOf = (i: number) => (i < Math.ceil(task.files * 0.1) ? 'BACKUP_DATA_SYS' : i < Math.ceil(task.files * 0.4) ? 'BACKUP_DATA_MINOR' : 'BACKUP_DATA_MAJOR');
    try {
      if (task.status.startsWith('BACKUP_DATA')) {
        // one data file per event, at the configured throughput
        const i = task.filesWritten;
        const size = Math.min(t.dataFileBytes, task.bytes - i * t.dataFileBytes);
        const dir = task.status === 'BACKUP_DATA_SYS' ? 'logstream_1/sys_data_turn_1_retry_0' : task.status === 'BACKUP_DATA_MINOR' ? 'logstream_1001/minor_data_turn_1_retry_0' : 'logstream_1001/major_data_turn_1_retry_0';
        await st.write(`${set.dirName}/${dir}/macro_block_data.${i}`, filler(size, `backup set ${set.backupSetId} tenant ${s.tenantId}`));
        task.filesWritten++;
        set.filesWritten++;
        set.bytesWritten += size;
        if (task.filesWritten < task.files) {
          task.status = dataPhaseOf(task.filesWritten);
          task.dueAt = nowMs + fileMs;
          return;
        }
        task.status = 'BEFORE_BACKUP_LOG';
        task.dueAt = nowMs + t.metaPhaseMs;
        return;
      }
      switch (task.status) {
        case 'INIT':
        case 'BACKUP_SYS_META':
        case 'BACKUP_USER_META':
          if (task.status === 'BACKUP_USER_META') await st.write(`${set.dirName}/infos/meta_info/ls_meta_infos.obbak`, JSON.stringify({ tenant_id: s.tenantId }));
          task.status = TASK_PHASES[phase + 1];
          task.dueAt = nowMs + t.metaPhaseMs;
          return;
        case 'BACKUP_META_FINISH':
          task.status = dataPhaseOf(0);
          task.dueAt = nowMs + fileMs;
          return;
        case 'BEFORE_BACKUP_LOG':
          task.status = 'BACKUP_LOG';
          task.dueAt = nowMs + t.metaPhaseMs;
          return;
        case 'BACKUP_LOG': {
          // the set is restorable only with the archive running up to its end (§2 interop warning)
          if (!this.archiveDoing(s)) {
            this.finishJob(job, 'FAILED', -9029, obError(9029).message);
            return;
          }
          task.endScnUs = nowMs * 1000;
          set.minRestoreUs = nowMs * 1000;
          await st.write(`${set.dirName}/single_backup_set_info.obbak`, JSON.stringify({ backup_set_id: set.backupSetId, type: set.backupType, bytes: set.bytesWritten }));
          await st.write(`${set.dirName}/tenant_backup_set_infos.obbak`, JSON.stringify({ tenant_id: s.tenantId }));
          await st.write(`backup_sets/${set.dirName}_end_success_${fileStamp(nowMs * 1000)}.obbak`, '');
          this.finishJob(job, 'COMPLETED', 0, '');
          return;
        }
      }
    } catch (e) {
      this.finishJob(job, 'FAILED', -(e instanceof ObError ? e.code : 9070), e instanceof ObError ? e.message : obError(9070).message);
    }
  }

  private finishJob(j: Job, status: JobStatus, result: number, comment: string): void {
    const nowUs = this.cluster.nowUs();
    j.status = status;
    j.result = result;
    j.comment = comment;
    j.endUs = nowUs;
    j.dueAt = null;
    this.cluster.note(`tenant ${j.tenantId} backup job ${j.jobId} ${status}`);
    if (j.tenantId !== 1) {
      const s = this.state(j.tenantId);
      const task = s.tasks.find((t) => t.jobId === j.jobId && !t.done);
      if (task) {
        task.done = true;
        task.dueAt = null;
        task.endUs = nowUs;
        task.result = result;
        task.comment = comment;
        task.status = status === 'COMPLETED' ? 'COMPLETED' : status === 'CANCELED' ? 'CANCELED' : 'FAILED';
      }
      const set = s.sets.find((x) => x.backupSetId === j.backupSetId);
      if (set) {
        set.endUs = nowUs;
        set.status = status === 'COMPLETED' ? 'SUCCESS' : 'FAILED';
        set.fileStatus = status === 'COMPLETED' ? 'AVAILABLE' : 'INCOMPLETE';
        set.result = result;
        set.comment = comment;
      }
      // the sys parent finishes with its last child; it fails if any child failed
      const parent = this.state(1).jobs.find((p) => p.jobId === j.initiatorJobId && p.tenantId === 1);
      if (parent && !FINISHED.includes(parent.status)) {
        const children = parent.executorTenantIds.map((id) => this.state(id).jobs.find((c) => c.initiatorJobId === parent.jobId && c.initiatorTenantId === 1));
        if (children.every((c) => c && FINISHED.includes(c.status))) {
          const failed = children.find((c) => c!.status === 'FAILED');
          const canceled = children.find((c) => c!.status === 'CANCELED');
          parent.status = failed ? 'FAILED' : canceled ? 'CANCELED' : 'COMPLETED';
          parent.result = failed ? failed.result : canceled ? canceled.result : 0;
          parent.comment = failed ? failed.comment : '';
          parent.endUs = nowUs;
          parent.dueAt = null;
        }
      }
    }
  }

  private cancelBackup(tenants: Tenant[] | 'ALL'): void {
    const ids = tenants === 'ALL' ? this.cluster.userTenants().map((t) => t.id) : tenants.map((t) => t.id);
    const due = this.cluster.nowMs() + this.cluster.tunables.cancelMs;
    for (const id of ids) {
      for (const j of this.state(id).jobs) {
        if (j.status === 'INIT' || j.status === 'DOING') {
          j.status = 'CANCELING';
          j.dueAt = due;
          const task = this.state(id).tasks.find((t) => t.jobId === j.jobId && !t.done);
          if (task) task.dueAt = null;
        }
      }
    }
    // Choice: cancelling with nothing running succeeds silently (no 4.x error is documented for it).
  }

  // ---------------------------------------------------------------- delete policy and clean

  private startDeleteJob(s: TenantState, initiatorTenantId: number): void {
    const windowUs = s.deletePolicy?.windowUs ?? 0;
    const nowUs = this.cluster.nowUs();
    const job: DeleteJob = {
      tenantId: s.tenantId, jobId: s.nextDeleteJobId++, initiatorTenantId, initiatorJobId: 0, parameter: windowUs > 0 ? nowUs - windowUs : 0,
      startUs: nowUs, endUs: null, status: 'INIT', result: 0, comment: '', sets: [], pieces: [], dueAt: this.cluster.nowMs() + this.cluster.tunables.jobStartDelayMs,
    };
    job.initiatorJobId = job.jobId;
    s.deleteJobs.push(job);
  }

  /**
   * Obsolete sets per §5: at the current destination keep the newest FULL that finished at least one
   * recovery window ago and everything after it; older sets and the pieces before that FULL's replay
   * start are obsolete. At least one valid backup is always kept. A window of 0 never expires anything.
   */
  private obsolete(s: TenantState, windowUs: number, nowUs: number): { sets: BackupSet[]; pieces: Piece[] } {
    if (windowUs <= 0 || !s.dataDest) return { sets: [], pieces: [] };
    const here = s.sets.filter((x) => redactUri(x.location) === redactUri(s.dataDest!.uri) && x.fileStatus !== 'DELETED' && x.fileStatus !== 'DELETING' && x.status !== 'DOING');
    const fulls = here.filter((x) => x.backupType === 'FULL' && x.status === 'SUCCESS' && x.endUs !== null && x.endUs <= nowUs - windowUs);
    const base = fulls[fulls.length - 1];
    if (!base) return { sets: [], pieces: [] };
    const sets = here.filter((x) => x.backupSetId < base.backupSetId);
    const archiveLocation = s.archiveDest ? redactUri(s.archiveDest.location) : null;
    const pieces = s.pieces.filter((p) => p.status === 'FROZEN' && p.fileStatus === 'AVAILABLE' && redactUri(p.location) === archiveLocation && p.checkpointUs < base.startReplayUs);
    return { sets, pieces };
  }

  private async deleteJobEvent(s: TenantState, d: DeleteJob, nowMs: number): Promise<void> {
    d.dueAt = null;
    if (d.status === 'CANCELING') {
      d.status = 'CANCELED';
      d.result = -4072;
      d.endUs = nowMs * 1000;
      for (const id of d.sets) {
        const set = s.sets.find((x) => x.backupSetId === id);
        if (set && set.fileStatus === 'DELETING') set.fileStatus = 'AVAILABLE';
      }
      return;
    }
    if (d.status === 'INIT') {
      d.status = 'DOING';
      const { sets, pieces } = this.obsolete(s, s.deletePolicy?.windowUs ?? 0, nowMs * 1000);
      for (const x of sets) x.fileStatus = 'DELETING';
      for (const p of pieces) p.fileStatus = 'DELETING';
      d.sets = sets.map((x) => x.backupSetId);
      d.pieces = pieces.map((p) => [p.roundId, p.pieceId]);
      d.dueAt = nowMs + this.cluster.tunables.metaPhaseMs * Math.max(1, sets.length + pieces.length);
      return;
    }
    if (d.status !== 'DOING') return;
    try {
      for (const id of d.sets) {
        const set = s.sets.find((x) => x.backupSetId === id)!;
        const st = this.storageFor(set.location);
        await st.deleteTree(set.dirName);
        for (const f of await st.list('backup_sets')) if (f.startsWith(`backup_sets/${set.dirName}_`)) await st.deleteTree(f);
        set.fileStatus = 'DELETED';
      }
      for (const [roundId, pieceId] of d.pieces) {
        const p = s.pieces.find((x) => x.roundId === roundId && x.pieceId === pieceId)!;
        const r = s.rounds.find((x) => x.roundId === roundId)!;
        const st = this.storageFor(p.location);
        await st.deleteTree(this.pieceDir(r, pieceId));
        for (const f of await st.list('pieces')) if (f.startsWith(`pieces/${this.pieceDir(r, pieceId)}_`)) await st.deleteTree(f);
        p.fileStatus = 'DELETED';
        r.deletedInputBytes += p.inputBytes;
        r.deletedOutputBytes += p.outputBytes;
      }
      d.status = 'COMPLETED';
    } catch (e) {
      d.status = 'FAILED';
      d.result = -(e instanceof ObError ? e.code : 9070);
      d.comment = e instanceof ObError ? e.message : obError(9070).message;
    }
    d.endUs = nowMs * 1000;
  }

  // ---------------------------------------------------------------- compaction

  private majorFreeze(tenants: Tenant[]): void {
    const nowUs = this.cluster.nowUs();
    for (const t of tenants) {
      const c = this.state(t.id).compaction;
      if (c.status !== 'IDLE') continue;
      c.frozenUs = nowUs;
      c.frozenTimeUs = nowUs;
      c.broadcastUs = nowUs;
      c.startUs = nowUs;
      c.status = 'COMPACTING';
      c.dueAt = this.cluster.nowMs() + this.cluster.tunables.mergeDurationMs;
    }
  }

  private finishCompaction(s: TenantState): void {
    const c = s.compaction;
    c.status = 'IDLE';
    c.lastUs = c.frozenUs;
    c.lastFinishUs = this.cluster.nowUs();
    c.dueAt = null;
  }

  // ---------------------------------------------------------------- statements

  /** `TENANT [=] t1[, t2]`, `TENANT = ALL | all_user | all_meta`; undefined when there is no TENANT clause */
  private tenantClause(c: Cursor, allowMeta = false): Tenant[] | 'ALL' | undefined {
    if (!c.acceptKw('TENANT')) return undefined;
    c.acceptOp('=');
    const names = [c.expectName()];
    while (c.acceptOp(',')) names.push(c.expectName());
    if (names.length === 1) {
      const n = names[0].toLowerCase();
      if (n === 'all' || n === 'all_user') return 'ALL';
      if (n === 'all_meta' && allowMeta) return this.cluster.tenants.filter((t) => t.type === 'META');
    }
    const out = names.map((n) => this.cluster.tenantByName(n));
    for (const t of out) if (t.type !== 'USER' && !allowMeta) throw invalidArgument('tenant, only user tenant is allowed');
    return out;
  }

  private resolveTenants(list: Tenant[] | 'ALL' | undefined): Tenant[] {
    if (list === undefined || list === 'ALL') return this.cluster.userTenants();
    return list;
  }

  async alterSystem(c: Cursor, s: SessionState): Promise<StatementResult> {
    if (c.acceptKw('SET')) return this.alterSet(c);
    if (c.acceptKw('ARCHIVELOG') || c.acceptKw('NOARCHIVELOG')) {
      const on = c.tokens[c.position - 1].text.toUpperCase() === 'ARCHIVELOG';
      const list = this.tenantClause(c);
      c.expectEnd();
      this.archiveLog(this.resolveTenants(list), on);
      return { kind: 'ok' };
    }
    if (c.acceptKw('BACKUP')) {
      const incremental = c.acceptKw('INCREMENTAL');
      let list: Tenant[] | 'ALL';
      if (c.acceptKw('DATABASE')) list = 'ALL';
      else {
        const l = this.tenantClause(c);
        if (!l) c.fail();
        list = l;
      }
      if (c.acceptKw('TO')) throw notSupported('backup to a path given in the statement');
      let plus = false;
      if (c.acceptKw('PLUS', 'ARCHIVELOG')) {
        if (incremental) c.fail();
        plus = true;
      }
      let description = '';
      if (c.acceptKw('DESCRIPTION')) description = c.expectString();
      c.expectEnd();
      this.startBackup(list, incremental, s, plus, description);
      return { kind: 'ok' };
    }
    if (c.acceptKw('CANCEL', 'BACKUP')) {
      const list = this.tenantClause(c);
      c.expectEnd();
      this.cancelBackup(list ?? 'ALL');
      return { kind: 'ok' };
    }
    if (c.acceptKw('CANCEL', 'DELETE', 'BACKUP')) {
      const list = this.tenantClause(c);
      c.expectEnd();
      for (const t of this.resolveTenants(list)) {
        for (const d of this.state(t.id).deleteJobs) {
          if (d.status === 'INIT' || d.status === 'DOING') {
            d.status = 'CANCELING';
            d.dueAt = this.cluster.nowMs() + this.cluster.tunables.cancelMs;
          }
        }
      }
      return { kind: 'ok' };
    }
    if (c.acceptKw('ADD', 'DELETE', 'BACKUP', 'POLICY')) {
      const name = c.expectString();
      let window = '0d';
      if (c.acceptKw('RECOVERY_WINDOW')) window = c.expectString();
      const tenant = this.singleTenant(c, 'add delete backup policy');
      c.expectEnd();
      if (name !== 'default') throw invalidArgument('policy name, only \'default\' is supported');
      const windowUs = parseDurationUs(window);
      if (windowUs === null || !/d$/i.test(window.trim())) throw invalidArgument('recovery_window');
      const st = this.state(tenant.id);
      if (st.deletePolicy) throw new ObError(4017, 'policy has been set');
      st.deletePolicy = { window, windowUs };
      // the automatic clean runs hourly from the time the policy exists
      st.nextAutoDeleteAt = this.cluster.nowMs() + this.cluster.tunables.autoDeleteIntervalMs;
      return { kind: 'ok' };
    }
    if (c.acceptKw('DROP', 'DELETE', 'BACKUP', 'POLICY')) {
      const name = c.expectString();
      const tenant = this.singleTenant(c, 'drop delete backup policy');
      c.expectEnd();
      const st = this.state(tenant.id);
      if (name !== 'default' || !st.deletePolicy) throw new ObError(4018, 'policy not exist');
      st.deletePolicy = undefined;
      st.nextAutoDeleteAt = null;
      return { kind: 'ok' };
    }
    if (c.acceptKw('MAJOR', 'FREEZE')) {
      const list = this.tenantClause(c, true);
      c.expectEnd();
      const tenants = list === undefined ? [this.cluster.tenantById(1)!] : list === 'ALL' ? this.cluster.userTenants() : list;
      this.majorFreeze(tenants);
      return { kind: 'ok' };
    }
    if (c.acceptKw('MINOR', 'FREEZE')) {
      this.tenantClause(c, true);
      c.expectEnd();
      return { kind: 'ok' };
    }
    if (c.acceptKw('CLEAR', 'MERGE', 'ERROR')) {
      this.tenantClause(c, true);
      c.expectEnd();
      return { kind: 'ok' };
    }
    c.fail();
  }

  private singleTenant(c: Cursor, what: string): Tenant {
    const list = this.tenantClause(c);
    if (list === undefined) throw notSupported(`${what} in sys tenant without specifying a tenant is`);
    if (list === 'ALL' || list.length !== 1) throw notSupported(`${what} for more than one tenant is`);
    return list[0];
  }

  private async alterSet(c: Cursor): Promise<StatementResult> {
    const assignments: { name: string; value: string }[] = [];
    do {
      const name = c.expectIdent().toLowerCase();
      c.expectOp('=');
      const t = c.next();
      if (t.kind !== 'string' && t.kind !== 'number' && t.kind !== 'ident') c.fail();
      assignments.push({ name, value: t.text });
    } while (c.acceptOp(','));
    let list: Tenant[] | 'ALL' | undefined;
    for (;;) {
      if (c.acceptKw('SCOPE')) {
        c.expectOp('=');
        c.expectIdent();
        continue;
      }
      if (c.acceptKw('SERVER') || c.acceptKw('ZONE')) {
        c.acceptOp('=');
        c.expectName();
        continue;
      }
      if (c.isKw('TENANT')) {
        list = this.tenantClause(c);
        continue;
      }
      break;
    }
    c.expectEnd();
    for (const a of assignments) {
      const backupParam = ['log_archive_dest', 'log_archive_dest_state', 'data_backup_dest'].includes(a.name);
      const spec = this.cluster.paramSpecs.find((p) => p.name === a.name);
      if (!backupParam && !spec) throw invalidArgument(a.name);
      if (backupParam || spec?.scope === 'TENANT') {
        // tenant parameters set from sys need TENANT = (sys itself has no backup of its own in 4.x)
        if (list === undefined) throw notSupported(`set ${a.name} for sys tenant is`);
        for (const t of this.resolveTenants(list)) await this.setTenantParam(t, a.name, a.value);
      } else {
        this.cluster.setParam(a.name, a.value);
      }
    }
    return { kind: 'ok' };
  }

  private async setTenantParam(t: Tenant, name: string, value: string): Promise<void> {
    const s = this.state(t.id);
    if (name === 'data_backup_dest') {
      if (this.hasRunningJob(s)) throw obError(9036);
      if (value.trim() === '') {
        s.dataDest = undefined;
        return;
      }
      const storage = openStorage(value);
      const same = s.dataDest && redactUri(s.dataDest.uri) === redactUri(value);
      const destId = same ? s.dataDest!.destId : s.nextDestId++;
      await claimDestination(storage, 'format.obbak', { cluster_name: this.cluster.clusterName, cluster_id: 1, tenant_id: t.id, dest_type: 'DATA', dest_id: destId, incarnation: 1 });
      s.dataDest = { uri: value, destId };
      return;
    }
    if (name === 'log_archive_dest') {
      const attrs = parseArchiveDest(value);
      const r = this.currentRound(s);
      // Choice: the destination can only change while archiving is stopped (docs: NOARCHIVELOG, set, ARCHIVELOG)
      if (r && r.status !== 'STOP' && t.logMode === 'ARCHIVELOG') throw notSupported('modify log archive dest while archivelog is');
      const storage = openStorage(attrs.location);
      const same = s.archiveDest && redactUri(s.archiveDest.location) === redactUri(attrs.location);
      const destId = same ? s.archiveDest!.destId : s.nextDestId++;
      await claimDestination(storage, 'format.obarc', { cluster_name: this.cluster.clusterName, cluster_id: 1, tenant_id: t.id, dest_type: 'LOG', dest_id: destId, incarnation: 1 });
      s.archiveDest = { location: attrs.location, binding: attrs.binding, pieceSwitchUs: attrs.pieceSwitchUs, destId, state: s.archiveDest?.state ?? 'ENABLE' };
      if (t.logMode === 'ARCHIVELOG' && (!r || r.status === 'STOP')) this.startRound(s);
      return;
    }
    if (name === 'log_archive_dest_state') {
      const v = value.toUpperCase();
      if (v !== 'ENABLE' && v !== 'DEFER') throw invalidArgument('log_archive_dest_state');
      if (!s.archiveDest) throw new ObError(4018, 'log archive dest not exist');
      s.archiveDest.state = v;
      const r = this.currentRound(s);
      if (v === 'DEFER' && r && ['PREPARE', 'BEGINNING', 'DOING'].includes(r.status)) {
        r.status = 'SUSPENDING';
        r.dueAt = this.cluster.nowMs() + this.cluster.tunables.archiveStopMs;
      } else if (v === 'ENABLE' && r && (r.status === 'SUSPEND' || r.status === 'SUSPENDING')) {
        r.status = 'DOING';
        r.checkpointUs = this.cluster.nowUs();
        r.dueAt = this.cluster.nowMs() + this.lagTargetMs(t.id);
      } else if (v === 'ENABLE' && t.logMode === 'ARCHIVELOG' && (!r || r.status === 'STOP')) {
        this.startRound(s);
      }
      return;
    }
    if (name === 'log_archive_concurrency') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 100) throw invalidArgument('log_archive_concurrency');
    }
    this.cluster.setParam(name, value, t.id);
  }

  // ---------------------------------------------------------------- views

  tables(): TableDef[] {
    const states = () => [...this.states.values()];
    const archiveCols = cols(
      'TENANT_ID:int', 'DEST_ID:int', 'ROUND_ID:int', 'INCARNATION:int', 'DEST_NO:int', 'STATUS', 'START_SCN:uint64', 'START_SCN_DISPLAY:datetime',
      'CHECKPOINT_SCN:uint64', 'CHECKPOINT_SCN_DISPLAY:datetime', 'COMPATIBLE:int', 'BASE_PIECE_ID:int', 'USED_PIECE_ID:int', 'PIECE_SWITCH_INTERVAL:int',
      'UNIT_SIZE:int', 'COMPRESSION', 'INPUT_BYTES:int', 'INPUT_BYTES_DISPLAY', 'OUTPUT_BYTES:int', 'OUTPUT_BYTES_DISPLAY', 'COMPRESSION_RATIO:double',
      'DELETED_INPUT_BYTES:int', 'DELETED_INPUT_BYTES_DISPLAY', 'DELETED_OUTPUT_BYTES:int', 'DELETED_OUTPUT_BYTES_DISPLAY', 'COMMENT', 'PATH',
    );
    const roundRow = (r: Round): Row => ({
      TENANT_ID: r.tenantId, DEST_ID: r.destId, ROUND_ID: r.roundId, INCARNATION: 1, DEST_NO: 0, STATUS: r.status,
      START_SCN: scn(r.startUs), START_SCN_DISPLAY: ts(r.startUs), CHECKPOINT_SCN: scn(r.checkpointUs), CHECKPOINT_SCN_DISPLAY: ts(r.checkpointUs),
      COMPATIBLE: 1, BASE_PIECE_ID: r.basePieceId, USED_PIECE_ID: r.usedPieceId, PIECE_SWITCH_INTERVAL: r.pieceSwitchUs, UNIT_SIZE: 1, COMPRESSION: 'none',
      INPUT_BYTES: r.inputBytes, INPUT_BYTES_DISPLAY: bytesDisplay(r.inputBytes), OUTPUT_BYTES: r.outputBytes, OUTPUT_BYTES_DISPLAY: bytesDisplay(r.outputBytes),
      COMPRESSION_RATIO: r.outputBytes > 0 ? 1 : null, DELETED_INPUT_BYTES: r.deletedInputBytes, DELETED_INPUT_BYTES_DISPLAY: bytesDisplay(r.deletedInputBytes),
      DELETED_OUTPUT_BYTES: r.deletedOutputBytes, DELETED_OUTPUT_BYTES_DISPLAY: bytesDisplay(r.deletedOutputBytes), COMMENT: r.comment, PATH: redactUri(r.location),
    });
    const jobCols = cols(
      'TENANT_ID:int', 'JOB_ID:int', 'INCARNATION:int', 'BACKUP_SET_ID:int', 'INITIATOR_TENANT_ID:int', 'INITIATOR_JOB_ID:int', 'EXECUTOR_TENANT_ID',
      'PLUS_ARCHIVELOG', 'BACKUP_TYPE', 'JOB_LEVEL', 'ENCRYPTION_MODE', 'PASSWD', 'START_TIMESTAMP:timestamp', 'END_TIMESTAMP:timestamp', 'STATUS',
      'RESULT:int', 'COMMENT', 'DESCRIPTION', 'PATH', 'RETRY_COUNT:int',
    );
    const jobRow = (j: Job): Row => ({
      TENANT_ID: j.tenantId, JOB_ID: j.jobId, INCARNATION: 1, BACKUP_SET_ID: j.backupSetId, INITIATOR_TENANT_ID: j.initiatorTenantId, INITIATOR_JOB_ID: j.initiatorJobId,
      EXECUTOR_TENANT_ID: j.executorTenantIds.join(','), PLUS_ARCHIVELOG: j.plusArchivelog ? 'ON' : 'OFF', BACKUP_TYPE: j.backupType, JOB_LEVEL: j.jobLevel,
      ENCRYPTION_MODE: j.encryptionMode, PASSWD: j.passwd, START_TIMESTAMP: ts(j.startUs), END_TIMESTAMP: ts(j.endUs), STATUS: j.status, RESULT: j.result,
      COMMENT: j.comment, DESCRIPTION: j.description, PATH: redactUri(j.location), RETRY_COUNT: j.retryCount,
    });
    const allJobs = () => states().flatMap((s) => s.jobs);
    const taskCols = cols(
      'TENANT_ID:int', 'TASK_ID:int', 'JOB_ID:int', 'INCARNATION:int', 'BACKUP_SET_ID:int', 'START_TIMESTAMP:timestamp', 'END_TIMESTAMP:timestamp', 'STATUS',
      'START_SCN:uint64', 'END_SCN:uint64', 'USER_LS_START_SCN:uint64', 'ENCRYPTION_MODE', 'PASSWD', 'INPUT_BYTES:int', 'OUTPUT_BYTES:int', 'OUTPUT_RATE_BYTES:double',
      'EXTRA_META_BYTES:int', 'TABLET_COUNT:int', 'FINISH_TABLET_COUNT:int', 'MACRO_BLOCK_COUNT:int', 'FINISH_MACRO_BLOCK_COUNT:int', 'FILE_COUNT:int',
      'META_TURN_ID:int', 'DATA_TURN_ID:int', 'RESULT:int', 'COMMENT', 'PATH',
    );
    const taskRow = (s: TenantState, t: Task): Row => {
      const job = s.jobs.find((j) => j.jobId === t.jobId);
      const written = t.filesWritten * this.cluster.tunables.dataFileBytes;
      const elapsed = ((t.endUs ?? this.cluster.nowUs()) - t.startUs) / 1e6;
      return {
        TENANT_ID: t.tenantId, TASK_ID: t.taskId, JOB_ID: t.jobId, INCARNATION: 1, BACKUP_SET_ID: t.backupSetId, START_TIMESTAMP: ts(t.startUs), END_TIMESTAMP: ts(t.endUs),
        STATUS: t.status, START_SCN: scn(t.startScnUs), END_SCN: scn(t.endScnUs), USER_LS_START_SCN: scn(t.startScnUs), ENCRYPTION_MODE: job?.encryptionMode ?? 'NONE',
        PASSWD: job?.passwd ?? '', INPUT_BYTES: Math.min(written, t.bytes), OUTPUT_BYTES: Math.min(written, t.bytes), OUTPUT_RATE_BYTES: elapsed > 0 ? Math.min(written, t.bytes) / elapsed : 0,
        EXTRA_META_BYTES: 0, TABLET_COUNT: t.files, FINISH_TABLET_COUNT: t.filesWritten, MACRO_BLOCK_COUNT: t.files, FINISH_MACRO_BLOCK_COUNT: t.filesWritten,
        FILE_COUNT: t.filesWritten, META_TURN_ID: 1, DATA_TURN_ID: 1, RESULT: t.result, COMMENT: t.comment, PATH: job ? redactUri(job.location) : '',
      };
    };
    const setCols = cols(
      'TENANT_ID:int', 'BACKUP_SET_ID:int', 'DEST_ID:int', 'INCARNATION:int', 'BACKUP_TYPE', 'PREV_FULL_BACKUP_SET_ID:int', 'PREV_INC_BACKUP_SET_ID:int',
      'START_TIMESTAMP:timestamp', 'END_TIMESTAMP:timestamp', 'STATUS', 'FILE_STATUS', 'ELAPSED_SECONDES:int', 'PLUS_ARCHIVELOG', 'START_REPLAY_SCN:uint64',
      'START_REPLAY_SCN_DISPLAY:datetime', 'MIN_RESTORE_SCN:uint64', 'MIN_RESTORE_SCN_DISPLAY:datetime', 'INPUT_BYTES:int', 'OUTPUT_BYTES:int', 'OUTPUT_RATE_BYTES:double',
      'EXTRA_META_BYTES:int', 'TABLET_COUNT:int', 'FINISH_TABLET_COUNT:int', 'MACRO_BLOCK_COUNT:int', 'FINISH_MACRO_BLOCK_COUNT:int', 'FILE_COUNT:int',
      'META_TURN_ID:int', 'DATA_TURN_ID:int', 'RESULT:int', 'COMMENT', 'ENCRYPTION_MODE', 'PASSWD', 'TENANT_COMPATIBLE', 'BACKUP_COMPATIBLE:int', 'PATH', 'CLUSTER_VERSION',
    );
    const setRow = (x: BackupSet): Row => {
      const elapsed = Math.round(((x.endUs ?? this.cluster.nowUs()) - x.startUs) / 1e6);
      return {
        TENANT_ID: x.tenantId, BACKUP_SET_ID: x.backupSetId, DEST_ID: x.destId, INCARNATION: 1, BACKUP_TYPE: x.backupType, PREV_FULL_BACKUP_SET_ID: x.prevFullId,
        PREV_INC_BACKUP_SET_ID: x.prevIncId, START_TIMESTAMP: ts(x.startUs), END_TIMESTAMP: ts(x.endUs), STATUS: x.status, FILE_STATUS: x.fileStatus,
        ELAPSED_SECONDES: elapsed, PLUS_ARCHIVELOG: x.plusArchivelog ? 'ON' : 'OFF', START_REPLAY_SCN: scn(x.startReplayUs), START_REPLAY_SCN_DISPLAY: ts(x.startReplayUs),
        MIN_RESTORE_SCN: scn(x.minRestoreUs ?? 0), MIN_RESTORE_SCN_DISPLAY: ts(x.minRestoreUs), INPUT_BYTES: x.bytesWritten, OUTPUT_BYTES: x.bytesWritten,
        OUTPUT_RATE_BYTES: elapsed > 0 ? x.bytesWritten / elapsed : 0, EXTRA_META_BYTES: 0, TABLET_COUNT: x.files, FINISH_TABLET_COUNT: x.filesWritten,
        MACRO_BLOCK_COUNT: x.files, FINISH_MACRO_BLOCK_COUNT: x.filesWritten, FILE_COUNT: x.filesWritten, META_TURN_ID: 1, DATA_TURN_ID: 1, RESULT: x.result,
        COMMENT: x.comment, ENCRYPTION_MODE: x.encryptionMode, PASSWD: x.passwd, TENANT_COMPATIBLE: this.cluster.fullVersion, BACKUP_COMPATIBLE: 2,
        PATH: redactUri(x.location), CLUSTER_VERSION: this.cluster.fullVersion,
      };
    };
    const pieceCols = cols(
      'TENANT_ID:int', 'DEST_ID:int', 'ROUND_ID:int', 'PIECE_ID:int', 'INCARNATION:int', 'DEST_NO:int', 'STATUS', 'START_SCN:uint64', 'START_SCN_DISPLAY:datetime',
      'CHECKPOINT_SCN:uint64', 'CHECKPOINT_SCN_DISPLAY:datetime', 'MAX_SCN:uint64', 'END_SCN:uint64', 'COMPATIBLE:int', 'UNIT_SIZE:int', 'COMPRESSION',
      'INPUT_BYTES:int', 'INPUT_BYTES_DISPLAY', 'OUTPUT_BYTES:int', 'OUTPUT_BYTES_DISPLAY', 'COMPRESSION_RATIO:double', 'FILE_STATUS', 'PATH',
    );
    const pieceRow = (p: Piece): Row => ({
      TENANT_ID: p.tenantId, DEST_ID: p.destId, ROUND_ID: p.roundId, PIECE_ID: p.pieceId, INCARNATION: 1, DEST_NO: 0, STATUS: p.status,
      START_SCN: scn(p.startUs), START_SCN_DISPLAY: ts(p.startUs), CHECKPOINT_SCN: scn(p.checkpointUs), CHECKPOINT_SCN_DISPLAY: ts(p.checkpointUs),
      MAX_SCN: scn(p.checkpointUs), END_SCN: scn(p.endUs), COMPATIBLE: 1, UNIT_SIZE: 1, COMPRESSION: 'none', INPUT_BYTES: p.inputBytes,
      INPUT_BYTES_DISPLAY: bytesDisplay(p.inputBytes), OUTPUT_BYTES: p.outputBytes, OUTPUT_BYTES_DISPLAY: bytesDisplay(p.outputBytes),
      COMPRESSION_RATIO: p.outputBytes > 0 ? 1 : null, FILE_STATUS: p.fileStatus, PATH: redactUri(p.location),
    });
    const deleteCols = cols(
      'TENANT_ID:int', 'JOB_ID:int', 'INCARNATION:int', 'INITIATOR_TENANT_ID:int', 'INITIATOR_JOB_ID:int', 'EXECUTOR_TENANT_ID', 'TYPE', 'PARAMETER:int',
      'JOB_LEVEL', 'START_TIMESTAMP:timestamp', 'END_TIMESTAMP:timestamp', 'STATUS', 'TASK_COUNT:int', 'SUCCESS_TASK_COUNT:int', 'RESULT:int', 'COMMENT',
    );
    const deleteRow = (d: DeleteJob): Row => ({
      TENANT_ID: d.tenantId, JOB_ID: d.jobId, INCARNATION: 1, INITIATOR_TENANT_ID: d.initiatorTenantId, INITIATOR_JOB_ID: d.initiatorJobId, EXECUTOR_TENANT_ID: String(d.tenantId),
      TYPE: 'DELETE OBSOLETE BACKUP', PARAMETER: d.parameter, JOB_LEVEL: 'USER_TENANT', START_TIMESTAMP: ts(d.startUs), END_TIMESTAMP: ts(d.endUs), STATUS: d.status,
      TASK_COUNT: d.sets.length + d.pieces.length, SUCCESS_TASK_COUNT: d.status === 'COMPLETED' ? d.sets.length + d.pieces.length : 0, RESULT: d.result, COMMENT: d.comment,
    });
    const compactionRow = (s: TenantState): Row => {
      const c = s.compaction;
      return {
        TENANT_ID: s.tenantId, FROZEN_SCN: scn(c.frozenUs), FROZEN_TIME: ts(c.frozenTimeUs), GLOBAL_BROADCAST_SCN: scn(c.broadcastUs), LAST_SCN: scn(c.lastUs),
        LAST_FINISH_TIME: ts(c.lastFinishUs), START_TIME: ts(c.startUs), STATUS: c.status, IS_ERROR: 'NO', IS_SUSPENDED: 'NO', INFO: '',
      };
    };
    const userStates = () => states().filter((s) => this.cluster.tenantById(s.tenantId)?.type === 'USER');
    return [
      { name: 'CDB_OB_ARCHIVELOG', columns: archiveCols, rows: () => userStates().flatMap((s) => (this.currentRound(s) ? [roundRow(this.currentRound(s)!)] : [])) },
      { name: 'CDB_OB_ARCHIVELOG_SUMMARY', columns: archiveCols, rows: () => userStates().flatMap((s) => s.rounds.map(roundRow)) },
      { name: 'CDB_OB_ARCHIVELOG_PIECE_FILES', columns: pieceCols, rows: () => userStates().flatMap((s) => s.pieces.map(pieceRow)) },
      {
        name: 'CDB_OB_ARCHIVE_DEST',
        columns: cols('TENANT_ID:int', 'DEST_NO:int', 'NAME', 'VALUE'),
        rows: () =>
          userStates().flatMap((s) =>
            s.archiveDest
              ? [
                  { TENANT_ID: s.tenantId, DEST_NO: 0, NAME: 'path', VALUE: redactUri(s.archiveDest.location) },
                  { TENANT_ID: s.tenantId, DEST_NO: 0, NAME: 'binding', VALUE: s.archiveDest.binding },
                  { TENANT_ID: s.tenantId, DEST_NO: 0, NAME: 'piece_switch_interval', VALUE: `${Math.round(s.archiveDest.pieceSwitchUs / 86400e6)}d` },
                  { TENANT_ID: s.tenantId, DEST_NO: 0, NAME: 'state', VALUE: s.archiveDest.state },
                  { TENANT_ID: s.tenantId, DEST_NO: 0, NAME: 'dest_id', VALUE: String(s.archiveDest.destId) },
                ]
              : [],
          ),
      },
      {
        name: 'CDB_OB_BACKUP_PARAMETER',
        columns: cols('TENANT_ID:int', 'NAME', 'VALUE'),
        rows: () => userStates().flatMap((s) => (s.dataDest ? [{ TENANT_ID: s.tenantId, NAME: 'data_backup_dest', VALUE: redactUri(s.dataDest.uri) }] : [])),
      },
      {
        name: 'CDB_OB_BACKUP_STORAGE_INFO',
        columns: cols('TENANT_ID:int', 'PATH', 'ENDPOINT', 'DEST_ID:int', 'DEST_TYPE', 'AUTHORIZATION', 'EXTENSION', 'CHECK_FILE_NAME', 'LAST_CHECK_TIMESTAMP:timestamp'),
        rows: () =>
          userStates().flatMap((s) => {
            const out: Row[] = [];
            const add = (uri: string, destId: number, type: string) => {
              const host = /[?&]host=([^&]*)/.exec(uri)?.[1] ?? '';
              const id = /[?&]access_id=([^&]*)/.exec(uri)?.[1];
              out.push({ TENANT_ID: s.tenantId, PATH: redactUri(uri), ENDPOINT: host ? `host=${host}` : '', DEST_ID: destId, DEST_TYPE: type, AUTHORIZATION: id ? `access_id=${id}&encrypt_key=******` : '', EXTENSION: '', CHECK_FILE_NAME: '', LAST_CHECK_TIMESTAMP: null });
            };
            if (s.dataDest) add(s.dataDest.uri, s.dataDest.destId, 'BACKUP_DATA');
            if (s.archiveDest) add(s.archiveDest.location, s.archiveDest.destId, 'ARCHIVE_LOG');
            return out;
          }),
      },
      { name: 'CDB_OB_BACKUP_JOBS', columns: jobCols, rows: () => allJobs().filter((j) => !FINISHED.includes(j.status)).map(jobRow) },
      { name: 'CDB_OB_BACKUP_JOB_HISTORY', columns: jobCols, rows: () => allJobs().filter((j) => FINISHED.includes(j.status)).map(jobRow) },
      { name: 'CDB_OB_BACKUP_TASKS', columns: taskCols, rows: () => userStates().flatMap((s) => s.tasks.filter((t) => !t.done).map((t) => taskRow(s, t))) },
      { name: 'CDB_OB_BACKUP_TASK_HISTORY', columns: taskCols, rows: () => userStates().flatMap((s) => s.tasks.filter((t) => t.done).map((t) => taskRow(s, t))) },
      { name: 'CDB_OB_BACKUP_SET_FILES', columns: setCols, rows: () => userStates().flatMap((s) => s.sets.map(setRow)) },
      {
        name: 'CDB_OB_BACKUP_DELETE_POLICY',
        columns: cols('TENANT_ID:int', 'POLICY_NAME', 'RECOVERY_WINDOW'),
        rows: () => userStates().flatMap((s) => (s.deletePolicy ? [{ TENANT_ID: s.tenantId, POLICY_NAME: 'default', RECOVERY_WINDOW: s.deletePolicy.window }] : [])),
      },
      { name: 'CDB_OB_BACKUP_DELETE_JOBS', columns: deleteCols, rows: () => userStates().flatMap((s) => s.deleteJobs.filter((d) => !FINISHED.includes(d.status)).map(deleteRow)) },
      { name: 'CDB_OB_BACKUP_DELETE_JOB_HISTORY', columns: deleteCols, rows: () => userStates().flatMap((s) => s.deleteJobs.filter((d) => FINISHED.includes(d.status)).map(deleteRow)) },
      {
        name: 'CDB_OB_MAJOR_COMPACTION',
        columns: cols('TENANT_ID:int', 'FROZEN_SCN:uint64', 'FROZEN_TIME:timestamp', 'GLOBAL_BROADCAST_SCN:uint64', 'LAST_SCN:uint64', 'LAST_FINISH_TIME:timestamp', 'START_TIME:timestamp', 'STATUS', 'IS_ERROR', 'IS_SUSPENDED', 'INFO'),
        rows: () => states().map(compactionRow),
      },
      {
        name: 'CDB_OB_ZONE_MAJOR_COMPACTION',
        columns: cols('TENANT_ID:int', 'ZONE', 'BROADCAST_SCN:uint64', 'LAST_SCN:uint64', 'LAST_FINISH_TIME:timestamp', 'START_TIME:timestamp', 'STATUS'),
        rows: () => states().map((s) => ({ TENANT_ID: s.tenantId, ZONE: 'zone1', BROADCAST_SCN: scn(s.compaction.broadcastUs), LAST_SCN: scn(s.compaction.lastUs), LAST_FINISH_TIME: ts(s.compaction.lastFinishUs), START_TIME: ts(s.compaction.startUs), STATUS: s.compaction.status })),
      },
    ];
  }
}

/** LOG_ARCHIVE_DEST = 'LOCATION=<uri> [BINDING=Optional|Mandatory] [PIECE_SWITCH_INTERVAL=1d..7d]' */
export function parseArchiveDest(value: string): { location: string; binding: 'OPTIONAL' | 'MANDATORY'; pieceSwitchUs: number } {
  const attrs = new Map<string, string>();
  for (const part of value.trim().split(/\s+/)) {
    const i = part.indexOf('=');
    if (i < 0) throw invalidArgument('log_archive_dest');
    attrs.set(part.slice(0, i).toUpperCase(), part.slice(i + 1));
  }
  const location = attrs.get('LOCATION');
  if (!location) throw invalidArgument('log_archive_dest, LOCATION is required');
  const binding = (attrs.get('BINDING') ?? 'OPTIONAL').toUpperCase();
  if (binding !== 'OPTIONAL' && binding !== 'MANDATORY') throw invalidArgument('log_archive_dest, BINDING must be Optional or Mandatory');
  const interval = attrs.get('PIECE_SWITCH_INTERVAL') ?? '1d';
  const us = parseDurationUs(interval);
  if (us === null || us < 86400e6 || us > 7 * 86400e6) throw invalidArgument('log_archive_dest, PIECE_SWITCH_INTERVAL must be between 1d and 7d');
  for (const k of attrs.keys()) if (!['LOCATION', 'BINDING', 'PIECE_SWITCH_INTERVAL'].includes(k)) throw invalidArgument(`log_archive_dest, unknown attribute ${k}`);
  return { location, binding: binding as 'OPTIONAL' | 'MANDATORY', pieceSwitchUs: us };
}
