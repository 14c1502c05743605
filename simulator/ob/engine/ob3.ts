// OceanBase 3.x: cluster-level log archive, data backup, cleanup and backup-of-backup (reference §1-§6).
import { createHash } from 'node:crypto';
import { ObError, invalidConfig, notSupported, obError } from '../errors.js';
import { cols, type Row, type TableDef } from '../sql/catalog.js';
import type { Cursor } from '../sql/parser.js';
import { openStorage, redactUri } from '../storage.js';
import type { StatementResult } from '../wire.js';
import type { ObCluster } from './cluster.js';
import { bytesDisplay, filler, ts } from './common.js';
import { parseDurationUs } from './params.js';
import type { SessionState, VersionEngine } from './types.js';

type ArchiveStatus = 'STOP' | 'BEGINNING' | 'DOING' | 'STOPPING' | 'INTERRUPTED';

interface Round3 {
  roundId: number;
  status: ArchiveStatus;
  startUs: number;
  checkpointUs: number;
  inputBytes: number;
  location: string;
  dueAt: number | null;
  startPieceId: number;
}

interface Piece3 {
  pieceId: number;
  roundId: number;
  status: 'ACTIVE' | 'FREEZING' | 'FROZEN';
  createUs: number;
  startUs: number;
  checkpointUs: number;
  maxUs: number;
  location: string;
  /** copy number -> secondary location (COPY_ID > 0) */
  copies: string[];
  /** copies removed by the backup-of-backup retention (redacted locations) */
  deletedCopies?: string[];
  fileStatus: 'AVAILABLE' | 'DELETING' | 'DELETED';
  dueAt: number | null;
}

interface Set3 {
  bsKey: number;
  backupType: 'D' | 'I';
  dataVersion: number;
  startUs: number;
  endUs: number | null;
  status: 'DOING' | 'SUCCESS' | 'FAILED';
  fileStatus: 'COPYING' | 'AVAILABLE' | 'INCOMPLETE' | 'DELETING' | 'DELETED';
  bytesPerTenant: number;
  filesPerTenant: number;
  filesWritten: number;
  result: number;
  encryptionMode: string;
  startReplayUs: number;
  location: string;
  copies: { copyId: number; location: string; endUs: number; status: 'SUCCESS'; fileStatus?: 'AVAILABLE' | 'DELETING' | 'DELETED' }[];
  dueAt: number | null;
  failAt?: number;
  failCode?: number;
}

interface Clean3 {
  jobId: number;
  type: string;
  parameter: string;
  startUs: number;
  endUs: number | null;
  status: 'PREPARE' | 'DOING' | 'STOP';
  errorMsg: string;
  comment: string;
  sets: number[];
  pieces: number[];
  dueAt: number | null;
  /** a clean of backup-of-backup copies: the backup_backup_dest it cleans, and that copy's COPY_ID */
  copyDest?: string;
  copyId?: number;
}

interface Copy3 {
  kind: 'BACKUPSET' | 'BACKUPPIECE';
  jobId: number;
  targetIds: number[];
  maxBackupTimes: number;
  status: 'SCHEDULE' | 'DOING' | 'FINISH' | 'CANCEL';
  result: number;
  comment: string;
  dest: string;
  startUs: number;
  endUs: number | null;
  dueAt: number | null;
}

interface State3 {
  rounds: Round3[];
  pieces: Piece3[];
  sets: Set3[];
  cleans: Clean3[];
  copies: Copy3[];
  nextBsKey: number;
  nextPieceId: number;
  nextCleanId: number;
  nextCopyJobId: number;
  frozenVersion: number;
  frozenUs: number;
  lastMergedVersion: number;
  lastMergedUs: number;
  mergeStartUs: number;
  mergeDueAt: number | null;
  lastAutoCleanUs: number;
  autoCleanAt: number | null;
  /** the automatic clean of backup-of-backup copies (backup_backup_dest_option) */
  lastCopyCleanUs?: number;
  copyCleanAt?: number | null;
  armedFailure?: { code: number; afterMs: number };
}

const OPTION_KEYS = ['log_archive_checkpoint_interval', 'recovery_window', 'auto_delete_obsolete_backup', 'log_archive_piece_switch_interval'];

export class Ob3Engine implements VersionEngine {
  private s: State3;

  constructor(private readonly cluster: ObCluster) {
    const now = cluster.nowUs();
    this.s = {
      rounds: [], pieces: [], sets: [], cleans: [], copies: [], nextBsKey: 1, nextPieceId: 1, nextCleanId: 1, nextCopyJobId: 1,
      frozenVersion: 1, frozenUs: now - 3600e6, lastMergedVersion: 1, lastMergedUs: now - 3600e6, mergeStartUs: now - 3600e6 - 60e6, mergeDueAt: null,
      lastAutoCleanUs: 0, autoCleanAt: null,
    };
  }

  snapshot(): unknown {
    return this.s;
  }

  restore(state: unknown): void {
    this.s = state as State3;
  }

  // ---------------------------------------------------------------- options

  private option(key: string, param = 'backup_dest_option'): string | undefined {
    const raw = this.cluster.param(param);
    for (const kv of raw.split('&').filter(Boolean)) {
      const [k, v] = kv.split('=');
      if (k.trim().toLowerCase() === key) return (v ?? '').trim();
    }
    return undefined;
  }

  private checkpointIntervalMs(): number {
    const v = this.option('log_archive_checkpoint_interval') ?? this.cluster.param('log_archive_checkpoint_interval');
    return (parseDurationUs(v) ?? 120e6) / 1000;
  }

  private pieceSwitchUs(): number {
    return parseDurationUs(this.option('log_archive_piece_switch_interval') ?? '0') ?? 0;
  }

  private recoveryWindowUs(): number {
    return parseDurationUs(this.option('recovery_window') ?? this.cluster.param('backup_recovery_window')) ?? 0;
  }

  private autoDelete(): boolean {
    const v = this.option('auto_delete_obsolete_backup') ?? this.cluster.param('auto_delete_expired_backup');
    return v.toLowerCase() === 'true';
  }

  /**
   * backup_backup_dest_option (§1: "destination (and options) for secondary backup"). Choice: it takes the
   * keys of backup_dest_option, and recovery_window + auto_delete_obsolete_backup expire the copies at
   * backup_backup_dest as §5 expires backups at backup_dest.
   */
  private copyWindowUs(): number {
    return parseDurationUs(this.option('recovery_window', 'backup_backup_dest_option') ?? '0') ?? 0;
  }

  private copyAutoDelete(): boolean {
    return (this.option('auto_delete_obsolete_backup', 'backup_backup_dest_option') ?? 'false').toLowerCase() === 'true';
  }

  private round(): Round3 | undefined {
    return this.s.rounds[this.s.rounds.length - 1];
  }

  private archiveStatus(): ArchiveStatus {
    return this.round()?.status ?? 'STOP';
  }

  private runningSet(): Set3 | undefined {
    return this.s.sets.find((x) => x.status === 'DOING');
  }

  private tenantIds(): number[] {
    return [1, ...this.cluster.userTenants().map((t) => t.id)];
  }

  private dataDir(tenantId: number, bsKey: number): string {
    return `${this.cluster.clusterName}/1/incarnation_1/${tenantId}/data/backup_set_${bsKey}`;
  }

  private clogDir(tenantId: number, roundId: number, pieceId: number): string {
    return `${this.cluster.clusterName}/1/incarnation_1/${tenantId}/clog/${roundId}/piece_${pieceId}`;
  }

  // ---------------------------------------------------------------- faults

  interruptArchive(comment?: string): void {
    void comment;
    const r = this.round();
    if (!r || (r.status !== 'DOING' && r.status !== 'BEGINNING')) throw new Error('the log archive is not running');
    r.status = 'INTERRUPTED';
    r.dueAt = null;
  }

  failRunningBackup(code: number): number {
    const x = this.runningSet();
    if (!x) return 0;
    this.finishSet(x, 'FAILED', -Math.abs(code));
    return 1;
  }

  armFailure(code: number, afterMs: number): void {
    this.s.armedFailure = { code: Math.abs(code), afterMs };
  }

  // ---------------------------------------------------------------- events

  nextEventAt(): number | null {
    const times = [
      ...this.s.rounds.map((r) => r.dueAt),
      ...this.s.pieces.map((p) => p.dueAt),
      ...this.s.sets.map((x) => (x.failAt !== undefined && x.dueAt !== null ? Math.min(x.failAt, x.dueAt) : x.dueAt)),
      ...this.s.cleans.map((c) => c.dueAt),
      ...this.s.copies.map((c) => c.dueAt),
      this.s.mergeDueAt,
      this.s.autoCleanAt,
      this.s.copyCleanAt,
    ].filter((t): t is number => t !== null && t !== undefined);
    return times.length ? Math.min(...times) : null;
  }

  async fire(nowMs: number): Promise<void> {
    const due = (t: number | null | undefined) => t !== null && t !== undefined && t <= nowMs;
    if (due(this.s.mergeDueAt)) {
      this.s.mergeDueAt = null;
      this.s.lastMergedVersion = this.s.frozenVersion;
      this.s.lastMergedUs = nowMs * 1000;
    }
    for (const r of this.s.rounds) if (due(r.dueAt)) await this.roundEvent(r, nowMs);
    for (const p of this.s.pieces) if (due(p.dueAt)) {
      p.status = 'FROZEN';
      p.dueAt = null;
    }
    for (const x of [...this.s.sets]) {
      if (x.failAt !== undefined && x.failAt <= nowMs && x.status === 'DOING') {
        this.finishSet(x, 'FAILED', -x.failCode!);
        continue;
      }
      if (due(x.dueAt)) await this.setEvent(x, nowMs);
    }
    for (const c of this.s.cleans) if (due(c.dueAt)) await this.cleanEvent(c, nowMs);
    for (const c of this.s.copies) if (due(c.dueAt)) await this.copyEvent(c, nowMs);
    if (due(this.s.autoCleanAt)) {
      this.s.autoCleanAt = null;
      this.scheduleAutoClean(nowMs);
    }
    if (due(this.s.copyCleanAt)) {
      this.s.copyCleanAt = null;
      this.scheduleCopyClean(nowMs);
    }
  }

  /** One clean job at a time (§5): a due automatic clean meeting a running one looks again a minute later. */
  private cleanRunning(): boolean {
    return this.s.cleans.some((c) => c.status !== 'STOP');
  }

  /** auto clean fires when now - last successful auto clean > min(recovery_window/2, 1d) (§5) */
  private scheduleAutoClean(nowMs: number): void {
    const windowUs = this.recoveryWindowUs();
    if (!this.autoDelete() || windowUs <= 0 || !this.cluster.param('backup_dest')) return;
    const period = Math.min(windowUs / 2, 86400e6) / 1000;
    const next = Math.max(nowMs, this.s.lastAutoCleanUs / 1000 + period);
    if (next > nowMs) this.s.autoCleanAt = next;
    else if (this.cleanRunning()) this.s.autoCleanAt = nowMs + 60_000;
    else {
      this.startClean('DELETE OBSOLETE BACKUP', `recovery_window=${this.option('recovery_window') ?? ''}`, true);
      this.s.autoCleanAt = nowMs + period;
    }
  }

  /** The same cadence for the copies at backup_backup_dest, from backup_backup_dest_option. */
  private scheduleCopyClean(nowMs: number): void {
    const windowUs = this.copyWindowUs();
    if (!this.copyAutoDelete() || windowUs <= 0 || !this.cluster.param('backup_backup_dest')) {
      this.s.copyCleanAt = null;
      return;
    }
    const period = Math.min(windowUs / 2, 86400e6) / 1000;
    const next = Math.max(nowMs, (this.s.lastCopyCleanUs ?? 0) / 1000 + period);
    if (next > nowMs) this.s.copyCleanAt = next;
    else if (this.cleanRunning()) this.s.copyCleanAt = nowMs + 60_000;
    else {
      this.startCopyClean();
      this.s.copyCleanAt = nowMs + period;
    }
  }

  // ---------------------------------------------------------------- archive

  private async roundEvent(r: Round3, nowMs: number): Promise<void> {
    if (r.status === 'BEGINNING') {
      r.status = 'DOING';
      r.dueAt = nowMs + this.checkpointIntervalMs();
      return;
    }
    if (r.status === 'STOPPING') {
      r.status = 'STOP';
      r.dueAt = null;
      for (const p of this.s.pieces) if (p.roundId === r.roundId && p.status !== 'FROZEN') {
        p.status = 'FROZEN';
        p.dueAt = null;
      }
      return;
    }
    if (r.status !== 'DOING') {
      r.dueAt = null;
      return;
    }
    // checkpoint: redo since the last one goes into the active piece of every tenant
    const nowUs = nowMs * 1000;
    const bytes = Math.round(((nowUs - r.checkpointUs) / 1e6) * this.cluster.tunables.logBytesPerSecond);
    let piece = this.s.pieces.find((p) => p.roundId === r.roundId && p.status === 'ACTIVE');
    const switchUs = this.pieceSwitchUs();
    if (piece && switchUs > 0 && nowUs - piece.startUs >= switchUs) {
      piece.status = 'FREEZING';
      piece.checkpointUs = r.checkpointUs;
      piece.dueAt = nowMs + this.cluster.tunables.archiveStopMs;
      piece = this.newPiece(r, r.checkpointUs);
    }
    if (!piece) piece = this.newPiece(r, r.checkpointUs);
    const st = openStorage(r.location);
    for (const t of this.tenantIds()) {
      if (t !== 1 && bytes > 0) await st.append(`${this.clogDir(t, r.roundId, piece.pieceId)}/data_1`, filler(bytes, `clog tenant ${t}`));
    }
    r.inputBytes += bytes * (this.tenantIds().length - 1);
    r.checkpointUs = nowUs;
    piece.checkpointUs = nowUs;
    piece.maxUs = nowUs;
    r.dueAt = nowMs + this.checkpointIntervalMs();
  }

  private newPiece(r: Round3, startUs: number): Piece3 {
    // without piece switching the whole round is backup_piece_id 0
    const pieceId = this.pieceSwitchUs() > 0 ? this.s.nextPieceId++ : 0;
    const p: Piece3 = { pieceId, roundId: r.roundId, status: 'ACTIVE', createUs: this.cluster.nowUs(), startUs, checkpointUs: startUs, maxUs: startUs, location: r.location, copies: [], fileStatus: 'AVAILABLE', dueAt: null };
    if (r.startPieceId === 0 && pieceId > 0) r.startPieceId = pieceId;
    this.s.pieces.push(p);
    return p;
  }

  private async archiveLog(on: boolean): Promise<void> {
    const status = this.archiveStatus();
    if (on) {
      if (status !== 'STOP') throw obError(9023);
      const dest = this.cluster.param('backup_dest');
      if (!dest) throw obError(9023);
      const nowUs = this.cluster.nowUs();
      const r: Round3 = { roundId: this.s.rounds.length + 1, status: 'BEGINNING', startUs: nowUs, checkpointUs: nowUs, inputBytes: 0, location: dest, dueAt: this.cluster.nowMs() + this.cluster.tunables.archiveBeginMs, startPieceId: 0 };
      this.s.rounds.push(r);
      this.cluster.setParam('enable_log_archive', 'True');
      await openStorage(dest).write(`${this.cluster.clusterName}/1/incarnation_1/cluster_clog_backup_info`, JSON.stringify({ round: r.roundId, start_ts: nowUs }));
      return;
    }
    if (status === 'STOP') throw obError(9024);
    const r = this.round()!;
    if (r.status === 'STOPPING') return;
    r.status = 'STOPPING';
    r.dueAt = this.cluster.nowMs() + this.cluster.tunables.archiveStopMs;
    this.cluster.setParam('enable_log_archive', 'False');
  }

  // ---------------------------------------------------------------- data backup

  private startBackup(incremental: boolean, session: SessionState): void {
    const status = this.archiveStatus();
    if (status !== 'DOING') throw obError(9040, `log archive is not doing. log archive status : ${status}.`);
    if (this.runningSet()) throw obError(9036);
    const r = this.round()!;
    // Choice (§4, §12 #3): the older 3.x rule is kept — the archive must have started before the last major freeze
    if (r.startUs > this.s.frozenUs) {
      throw obError(9040, `log archive start timestamp is bigger than frozen timestamp, need major freeze first. start timestamp : ${r.startUs}, frozen timestamp : ${this.s.frozenUs} .`);
    }
    const dest = this.cluster.param('backup_dest');
    const t = this.cluster.tunables;
    // §4: an incremental with no successful backup at this destination silently becomes a full
    const hasPrev = this.s.sets.some((x) => x.status === 'SUCCESS' && x.fileStatus === 'AVAILABLE' && redactUri(x.location) === redactUri(dest));
    const type = incremental && hasPrev ? 'I' : 'D';
    const bytes = type === 'D' ? t.tenantDataBytes : Math.max(t.dataFileBytes, Math.round(t.tenantDataBytes * t.incrementalRatio));
    const set: Set3 = {
      bsKey: this.s.nextBsKey++, backupType: type, dataVersion: this.s.frozenVersion, startUs: this.cluster.nowUs(), endUs: null, status: 'DOING', fileStatus: 'COPYING',
      bytesPerTenant: bytes, filesPerTenant: Math.max(1, Math.ceil(bytes / t.dataFileBytes)), filesWritten: 0, result: 0,
      encryptionMode: session.encryption.mode === 'PASSWORD' ? 'PASSWORD' : 'NONE', startReplayUs: r.checkpointUs, location: dest, copies: [],
      dueAt: this.cluster.nowMs() + t.jobStartDelayMs,
    };
    if (this.s.armedFailure) {
      set.failAt = this.cluster.nowMs() + t.jobStartDelayMs + this.s.armedFailure.afterMs;
      set.failCode = this.s.armedFailure.code;
      this.s.armedFailure = undefined;
    }
    this.s.sets.push(set);
  }

  private async setEvent(x: Set3, nowMs: number): Promise<void> {
    if (x.status !== 'DOING') {
      x.dueAt = null;
      return;
    }
    const t = this.cluster.tunables;
    const st = openStorage(x.location);
    try {
      if (x.filesWritten < x.filesPerTenant) {
        // all user tenants back up in parallel, one data file each per step
        const size = Math.min(t.dataFileBytes, x.bytesPerTenant - x.filesWritten * t.dataFileBytes);
        for (const tenant of this.cluster.userTenants()) {
          await st.write(`${this.dataDir(tenant.id, x.bsKey)}/data/macro_block_${x.filesWritten}`, filler(size, `backup set ${x.bsKey} tenant ${tenant.id} version ${x.dataVersion}`));
        }
        x.filesWritten++;
        x.dueAt = nowMs + (t.dataFileBytes / t.backupBytesPerSecond) * 1000;
        return;
      }
      for (const id of this.tenantIds()) await st.write(`${this.dataDir(id, x.bsKey)}/backup_set_info`, JSON.stringify({ bs_key: x.bsKey, type: x.backupType, data_version: x.dataVersion }));
      this.finishSet(x, 'SUCCESS', 0);
    } catch (e) {
      this.finishSet(x, 'FAILED', -(e instanceof ObError ? e.code : 9070));
    }
  }

  private finishSet(x: Set3, status: 'SUCCESS' | 'FAILED', result: number): void {
    x.status = status;
    x.result = result;
    x.fileStatus = status === 'SUCCESS' ? 'AVAILABLE' : 'INCOMPLETE';
    x.endUs = this.cluster.nowUs();
    x.dueAt = null;
    x.failAt = undefined;
    this.cluster.note(`backup set ${x.bsKey} ${status}`);
  }

  private setBytes(x: Set3): number {
    return Math.min(x.filesWritten * this.cluster.tunables.dataFileBytes, x.bytesPerTenant);
  }

  // ---------------------------------------------------------------- cleanup

  private validSets(): Set3[] {
    const dest = redactUri(this.cluster.param('backup_dest'));
    return this.s.sets.filter((x) => x.status === 'SUCCESS' && x.fileStatus === 'AVAILABLE' && redactUri(x.location) === dest);
  }

  /** §5: everything older than the newest full that is at least recovery_window old; at least one valid backup stays */
  private obsoleteSets(): Set3[] {
    const windowUs = this.recoveryWindowUs();
    if (windowUs <= 0) return [];
    const now = this.cluster.nowUs();
    const valid = this.validSets();
    const base = [...valid].reverse().find((x) => x.backupType === 'D' && x.endUs !== null && x.endUs <= now - windowUs);
    if (!base) return [];
    const dest = redactUri(this.cluster.param('backup_dest'));
    return this.s.sets.filter((x) => x.bsKey < base.bsKey && x.status !== 'DOING' && x.fileStatus !== 'DELETED' && redactUri(x.location) === dest);
  }

  private liveCopy(x: Set3, dest: string) {
    return x.copies.find((c) => redactUri(c.location) === dest && (c.fileStatus ?? 'AVAILABLE') === 'AVAILABLE');
  }

  /**
   * The copies at backup_backup_dest past its recovery window, by the rule of §5: those of sets older than
   * the newest copied full that ended a window ago, and the copied pieces that full does not need.
   */
  private obsoleteCopies(): { sets: number[]; pieces: number[] } {
    const windowUs = this.copyWindowUs();
    const dest = redactUri(this.cluster.param('backup_backup_dest'));
    if (windowUs <= 0 || !dest) return { sets: [], pieces: [] };
    const now = this.cluster.nowUs();
    const copied = this.s.sets.filter((x) => x.status === 'SUCCESS' && this.liveCopy(x, dest));
    const base = [...copied].reverse().find((x) => x.backupType === 'D' && x.endUs !== null && x.endUs <= now - windowUs);
    if (!base) return { sets: [], pieces: [] };
    const pieces = this.s.pieces.filter(
      (p) => p.status === 'FROZEN' && p.checkpointUs < base.startReplayUs && p.copies.some((l) => redactUri(l) === dest) && !(p.deletedCopies ?? []).includes(dest),
    );
    return { sets: copied.filter((x) => x.bsKey < base.bsKey).map((x) => x.bsKey), pieces: [...new Set(pieces.map((p) => p.pieceId))] };
  }

  /** Choice: the type the 3.x clean of backup-of-backup copies shows (the reference names none). */
  private startCopyClean(): Clean3 {
    if (this.cleanRunning()) throw obError(9044);
    const dest = this.cluster.param('backup_backup_dest');
    const { sets, pieces } = this.obsoleteCopies();
    const copyId = sets.map((id) => this.liveCopy(this.s.sets.find((x) => x.bsKey === id)!, redactUri(dest))!.copyId)[0] ?? 1;
    for (const id of sets) this.liveCopy(this.s.sets.find((x) => x.bsKey === id)!, redactUri(dest))!.fileStatus = 'DELETING';
    const c: Clean3 = {
      jobId: this.s.nextCleanId++, type: 'DELETE OBSOLETE BACKUP BACKUP', parameter: `recovery_window=${this.option('recovery_window', 'backup_backup_dest_option') ?? ''}`,
      startUs: this.cluster.nowUs(), endUs: null, status: 'PREPARE', errorMsg: '', comment: 'auto delete obsolete backup backup', sets, pieces,
      dueAt: this.cluster.nowMs() + this.cluster.tunables.jobStartDelayMs, copyDest: dest, copyId,
    };
    this.s.cleans.push(c);
    return c;
  }

  private startClean(type: string, parameter: string, auto = false): Clean3 {
    if (this.s.cleans.some((c) => c.status !== 'STOP')) throw obError(9044);
    const sets = type === 'DELETE OBSOLETE BACKUP' ? this.obsoleteSets().map((x) => x.bsKey) : [Number(parameter)];
    const oldestKeptReplay = Math.min(...this.validSets().filter((x) => !sets.includes(x.bsKey)).map((x) => x.startReplayUs), Number.MAX_SAFE_INTEGER);
    // archive is cleaned only up to the oldest kept backup, and only with a data backup present
    const pieces = type === 'DELETE OBSOLETE BACKUP' && sets.length > 0 ? this.s.pieces.filter((p) => p.status === 'FROZEN' && p.fileStatus === 'AVAILABLE' && p.checkpointUs < oldestKeptReplay).map((p) => p.pieceId) : [];
    const c: Clean3 = { jobId: this.s.nextCleanId++, type, parameter, startUs: this.cluster.nowUs(), endUs: null, status: 'PREPARE', errorMsg: '', comment: auto ? 'auto delete obsolete backup' : '', sets, pieces, dueAt: this.cluster.nowMs() + this.cluster.tunables.jobStartDelayMs };
    for (const id of sets) {
      const x = this.s.sets.find((y) => y.bsKey === id);
      if (x) x.fileStatus = 'DELETING';
    }
    this.s.cleans.push(c);
    return c;
  }

  private async cleanEvent(c: Clean3, nowMs: number): Promise<void> {
    if (c.status === 'PREPARE') {
      c.status = 'DOING';
      c.dueAt = nowMs + this.cluster.tunables.metaPhaseMs * Math.max(1, c.sets.length + c.pieces.length);
      return;
    }
    c.dueAt = null;
    if (c.status !== 'DOING') return;
    if (c.copyDest !== undefined) return this.copyCleanEvent(c, nowMs);
    try {
      for (const id of c.sets) {
        const x = this.s.sets.find((y) => y.bsKey === id)!;
        const st = openStorage(x.location);
        for (const t of this.tenantIds()) await st.deleteTree(this.dataDir(t, id));
        for (const cp of x.copies) for (const t of this.tenantIds()) await openStorage(cp.location).deleteTree(this.dataDir(t, id));
        x.fileStatus = 'DELETED';
      }
      for (const pid of c.pieces) {
        for (const p of this.s.pieces.filter((q) => q.pieceId === pid && q.fileStatus === 'AVAILABLE')) {
          for (const t of this.tenantIds()) await openStorage(p.location).deleteTree(this.clogDir(t, p.roundId, p.pieceId));
          p.fileStatus = 'DELETED';
        }
      }
    } catch (e) {
      c.errorMsg = e instanceof ObError ? e.message : obError(9070).message;
    }
    c.status = 'STOP';
    c.endUs = nowMs * 1000;
    if (c.comment === 'auto delete obsolete backup' && !c.errorMsg) this.s.lastAutoCleanUs = c.endUs;
  }

  private async copyCleanEvent(c: Clean3, nowMs: number): Promise<void> {
    const dest = redactUri(c.copyDest!);
    try {
      for (const id of c.sets) {
        const x = this.s.sets.find((y) => y.bsKey === id)!;
        const copy = x.copies.find((cp) => redactUri(cp.location) === dest && cp.fileStatus === 'DELETING');
        if (!copy) continue;
        for (const t of this.tenantIds()) await openStorage(copy.location).deleteTree(this.dataDir(t, id));
        copy.fileStatus = 'DELETED';
      }
      for (const pid of c.pieces) {
        for (const p of this.s.pieces.filter((q) => q.pieceId === pid)) {
          const location = p.copies.find((l) => redactUri(l) === dest);
          if (!location || (p.deletedCopies ?? []).includes(dest)) continue;
          for (const t of this.tenantIds()) await openStorage(location).deleteTree(this.clogDir(t, p.roundId, p.pieceId));
          p.deletedCopies = [...(p.deletedCopies ?? []), dest];
        }
      }
    } catch (e) {
      c.errorMsg = e instanceof ObError ? e.message : obError(9070).message;
    }
    c.status = 'STOP';
    c.endUs = nowMs * 1000;
    if (!c.errorMsg) this.s.lastCopyCleanUs = c.endUs;
  }

  private deleteBackupSet(bsKey: number): void {
    const x = this.s.sets.find((y) => y.bsKey === bsKey);
    if (!x || x.fileStatus === 'DELETED') throw obError(9046);
    const valid = this.validSets();
    // sets are deleted oldest first, never while running, never the last valid one (§5)
    const older = this.s.sets.filter((y) => y.bsKey < bsKey && y.fileStatus !== 'DELETED' && y.status !== 'FAILED');
    if (x.status === 'DOING' || (valid.length <= 1 && valid[0]?.bsKey === bsKey) || older.length > 0) throw obError(9045);
    this.startClean('DELETE BACKUP SET', String(bsKey));
  }

  // ---------------------------------------------------------------- backup of backup

  private backupBackupDest(given: string | undefined): string {
    const dest = given ?? this.cluster.param('backup_backup_dest');
    if (!dest) throw obError(9050);
    if (redactUri(dest) === redactUri(this.cluster.param('backup_dest'))) throw obError(9050);
    return dest;
  }

  private startCopy(kind: 'BACKUPSET' | 'BACKUPPIECE', ids: number[] | 'ALL', times: number, given: string | undefined, withActive: boolean): void {
    const dest = this.backupBackupDest(given);
    if (this.s.copies.some((c) => c.kind === kind && (c.status === 'SCHEDULE' || c.status === 'DOING'))) throw obError(9036);
    let targets: number[];
    if (kind === 'BACKUPSET') {
      const candidates = this.validSets().filter((x) => ids === 'ALL' || ids.includes(x.bsKey));
      if (ids !== 'ALL' && candidates.length === 0) throw obError(9046);
      const copies = (x: Set3) => x.copies.length;
      if (ids !== 'ALL' && candidates.every((x) => copies(x) >= 1 && x.copies.some((c) => redactUri(c.location) === redactUri(dest)))) throw obError(9059);
      targets = candidates.filter((x) => copies(x) < times && !x.copies.some((c) => redactUri(c.location) === redactUri(dest))).map((x) => x.bsKey);
    } else {
      const candidates = this.s.pieces.filter((p) => p.fileStatus === 'AVAILABLE' && (p.status === 'FROZEN' || withActive) && (ids === 'ALL' || ids.includes(p.pieceId)));
      targets = [...new Set(candidates.filter((p) => p.copies.length < times && !p.copies.some((l) => redactUri(l) === redactUri(dest))).map((p) => p.pieceId))];
    }
    if (targets.length === 0) throw obError(ids === 'ALL' ? 9062 : 9050);
    const bytes = kind === 'BACKUPSET' ? targets.length * this.cluster.tunables.tenantDataBytes : targets.length * 64 * 1024;
    this.s.copies.push({
      kind, jobId: this.s.nextCopyJobId++, targetIds: targets, maxBackupTimes: times, status: 'SCHEDULE', result: 0, comment: '', dest, startUs: this.cluster.nowUs(), endUs: null,
      dueAt: this.cluster.nowMs() + this.cluster.tunables.jobStartDelayMs + (bytes / this.cluster.tunables.backupBytesPerSecond) * 1000,
    });
  }

  private async copyTree(from: string, to: string, prefix: string): Promise<void> {
    const src = openStorage(from);
    const dst = openStorage(to);
    for (const f of await src.list(prefix)) {
      const data = await src.read(f);
      if (data) await dst.write(f, data);
    }
  }

  private async copyEvent(c: Copy3, nowMs: number): Promise<void> {
    c.dueAt = null;
    if (c.status !== 'SCHEDULE' && c.status !== 'DOING') return;
    try {
      for (const id of c.targetIds) {
        if (c.kind === 'BACKUPSET') {
          const x = this.s.sets.find((y) => y.bsKey === id)!;
          for (const t of this.tenantIds()) await this.copyTree(x.location, c.dest, this.dataDir(t, id));
          x.copies.push({ copyId: x.copies.length + 1, location: c.dest, endUs: nowMs * 1000, status: 'SUCCESS' });
        } else {
          for (const p of this.s.pieces.filter((q) => q.pieceId === id)) {
            for (const t of this.tenantIds()) await this.copyTree(p.location, c.dest, this.clogDir(t, p.roundId, p.pieceId));
            p.copies.push(c.dest);
          }
        }
      }
      c.status = 'FINISH';
    } catch (e) {
      c.status = 'FINISH';
      c.result = -(e instanceof ObError ? e.code : 9070);
      c.comment = e instanceof ObError ? e.message : obError(9070).message;
    }
    c.endUs = nowMs * 1000;
  }

  // ---------------------------------------------------------------- statements

  async alterSystem(c: Cursor, s: SessionState): Promise<StatementResult> {
    if (c.acceptKw('SET')) return this.alterSet(c);
    if (c.acceptKw('ARCHIVELOG')) {
      c.expectEnd();
      await this.archiveLog(true);
      return { kind: 'ok' };
    }
    if (c.acceptKw('NOARCHIVELOG')) {
      c.expectEnd();
      await this.archiveLog(false);
      return { kind: 'ok' };
    }
    if (c.acceptKw('MAJOR', 'FREEZE') || c.acceptKw('MINOR', 'FREEZE')) {
      const major = c.tokens[c.position - 2].text.toUpperCase() === 'MAJOR';
      if (c.acceptKw('IGNORE')) {
        c.expectString();
        while (c.acceptOp(',')) c.expectString();
      }
      c.expectEnd();
      if (major) {
        if (this.s.mergeDueAt !== null) throw new ObError(4023, 'Try again');
        this.s.frozenVersion++;
        this.s.frozenUs = this.cluster.nowUs();
        this.s.mergeStartUs = this.s.frozenUs;
        this.s.mergeDueAt = this.cluster.nowMs() + this.cluster.tunables.mergeDurationMs;
      }
      return { kind: 'ok' };
    }
    if (c.acceptKw('BACKUP')) {
      if (c.acceptKw('BACKUPSET') || c.acceptKw('BACKUPPIECE')) {
        const kind = c.tokens[c.position - 1].text.toUpperCase() as 'BACKUPSET' | 'BACKUPPIECE';
        let ids: number[] | 'ALL';
        let times = 1;
        if (c.acceptKw('ALL', 'NOT', 'BACKED', 'UP')) {
          times = c.expectNumber();
          c.expectKw('TIMES');
          ids = 'ALL';
        } else if (c.acceptOp('=')) {
          ids = [c.expectNumber()];
        } else if (kind === 'BACKUPPIECE') {
          ids = 'ALL';
        } else c.fail();
        let dest: string | undefined;
        let withActive = false;
        for (;;) {
          if (c.acceptKw('TENANT_ID')) {
            c.expectOp('=');
            c.expectNumber();
            continue;
          }
          if (c.acceptKw('TENANT_NAME')) {
            c.expectOp('=');
            this.cluster.tenantByName(c.expectName());
            continue;
          }
          if (c.acceptKw('BACKUP_BACKUP_DEST')) {
            c.expectOp('=');
            dest = c.expectString();
            continue;
          }
          if (c.acceptKw('WITH', 'ACTIVE', 'BACKUPPIECE')) {
            withActive = true;
            continue;
          }
          break;
        }
        c.expectEnd();
        this.startCopy(kind, ids, times, dest, withActive);
        return { kind: 'ok' };
      }
      const incremental = c.acceptKw('INCREMENTAL');
      if (c.acceptKw('TENANT')) throw notSupported('backup of chosen tenants to a path is');
      c.expectKw('DATABASE');
      c.expectEnd();
      this.startBackup(incremental, s);
      return { kind: 'ok' };
    }
    if (c.acceptKw('CANCEL')) {
      if (c.acceptKw('ALL', 'BACKUP', 'FORCE')) {
        c.expectEnd();
        const x = this.runningSet();
        if (x) this.finishSet(x, 'FAILED', -4072);
        for (const cl of this.s.cleans) if (cl.status !== 'STOP') {
          cl.status = 'STOP';
          cl.endUs = this.cluster.nowUs();
          cl.dueAt = null;
          cl.errorMsg = 'canceled';
        }
        for (const cp of this.s.copies) if (cp.status === 'SCHEDULE' || cp.status === 'DOING') {
          cp.status = 'CANCEL';
          cp.dueAt = null;
          cp.endUs = this.cluster.nowUs();
        }
        return { kind: 'ok' };
      }
      if (c.acceptKw('DELETE', 'BACKUP')) {
        c.expectEnd();
        const cl = this.s.cleans.find((x) => x.status !== 'STOP');
        if (!cl) throw obError(9053);
        cl.status = 'STOP';
        cl.errorMsg = 'canceled';
        cl.endUs = this.cluster.nowUs();
        cl.dueAt = null;
        for (const id of cl.sets) {
          const x = this.s.sets.find((y) => y.bsKey === id);
          if (x && x.fileStatus === 'DELETING') x.fileStatus = 'AVAILABLE';
          for (const cp of x?.copies ?? []) if (cp.fileStatus === 'DELETING') cp.fileStatus = 'AVAILABLE';
        }
        return { kind: 'ok' };
      }
      c.expectKw('BACKUP');
      if (c.acceptKw('BACKUPSET') || c.acceptKw('BACKUPPIECE')) {
        const kind = c.tokens[c.position - 1].text.toUpperCase();
        c.expectEnd();
        const cp = this.s.copies.find((x) => x.kind === kind && (x.status === 'SCHEDULE' || x.status === 'DOING'));
        if (!cp) throw obError(9049);
        cp.status = 'CANCEL';
        cp.dueAt = null;
        cp.endUs = this.cluster.nowUs();
        return { kind: 'ok' };
      }
      c.expectEnd();
      const x = this.runningSet();
      if (!x) throw obError(9049);
      this.finishSet(x, 'FAILED', -4072);
      return { kind: 'ok' };
    }
    if (c.acceptKw('DELETE')) {
      if (c.acceptKw('OBSOLETE', 'BACKUP')) {
        c.expectEnd();
        this.startClean('DELETE OBSOLETE BACKUP', `recovery_window=${this.option('recovery_window') ?? this.cluster.param('backup_recovery_window')}`);
        return { kind: 'ok' };
      }
      if (c.acceptKw('BACKUPSET')) {
        const id = c.expectNumber();
        c.expectEnd();
        this.deleteBackupSet(id);
        return { kind: 'ok' };
      }
      c.fail();
    }
    c.fail();
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
    while (c.acceptKw('SERVER') || c.acceptKw('ZONE') || c.acceptKw('SCOPE')) {
      c.acceptOp('=');
      c.expectName();
    }
    if (c.isKw('TENANT')) throw notSupported('setting a cluster parameter for one tenant is');
    c.expectEnd();
    for (const a of assignments) {
      const spec = this.cluster.paramSpecs.find((p) => p.name === a.name);
      if (!spec) throw new ObError(1210, `Incorrect arguments to ${a.name}`);
      if (a.name === 'backup_dest' || a.name === 'backup_backup_dest') {
        if (a.name === 'backup_dest' && this.runningSet()) throw obError(9036);
        if (a.name === 'backup_dest' && this.archiveStatus() !== 'STOP') throw notSupported('changing backup_dest while the log archive is running is');
        if (a.value) await openStorage(a.value).probe();
      }
      if (a.name === 'backup_dest_option' || a.name === 'backup_backup_dest_option') this.validateOption(a.value);
      this.cluster.setParam(a.name, a.value);
      if (a.name === 'backup_dest_option' || a.name === 'auto_delete_expired_backup' || a.name === 'backup_recovery_window') this.scheduleAutoClean(this.cluster.nowMs());
      if (a.name === 'backup_backup_dest_option' || a.name === 'backup_backup_dest') this.scheduleCopyClean(this.cluster.nowMs());
    }
    return { kind: 'ok' };
  }

  private validateOption(value: string): void {
    for (const kv of value.split('&').filter(Boolean)) {
      const [k, v = ''] = kv.split('=').map((x) => x.trim());
      const key = k.toLowerCase();
      if (!OPTION_KEYS.includes(key)) throw invalidConfig(`backup_dest_option: unknown key ${k}`);
      if (key === 'auto_delete_obsolete_backup' && !/^(true|false)$/i.test(v)) throw invalidConfig(`backup_dest_option: ${k} must be true or false`);
      if (key !== 'auto_delete_obsolete_backup') {
        const us = parseDurationUs(v);
        if (us === null) throw invalidConfig(`backup_dest_option: invalid ${k} ${v}`);
        if (key === 'log_archive_piece_switch_interval' && us !== 0 && (us < 86400e6 || us > 7 * 86400e6)) throw invalidConfig('backup_dest_option: log_archive_piece_switch_interval must be 0 or between 1d and 7d');
        if (key === 'log_archive_checkpoint_interval' && (us < 5e6 || us > 3600e6)) throw invalidConfig('backup_dest_option: log_archive_checkpoint_interval must be between 5s and 1h');
      }
    }
  }

  // ---------------------------------------------------------------- views

  tables(): TableDef[] {
    const tenants = () => this.tenantIds();
    const archiveCols = cols('INCARNATION:int', 'LOG_ARCHIVE_ROUND:int', 'TENANT_ID:int', 'STATUS', 'START_PIECE_ID:int', 'BACKUP_PIECE_ID:int', 'MIN_FIRST_TIME:timestamp', 'MAX_NEXT_TIME:timestamp', 'INPUT_BYTES:int', 'OUTPUT_BYTES:int', 'COMPRESSION_RATIO:double', 'INPUT_BYTES_DISPLAY', 'OUTPUT_BYTES_DISPLAY');
    const archiveRow = (r: Round3 | undefined, tenantId: number): Row => {
      const bytes = r ? (tenantId === 1 ? r.inputBytes : Math.round(r.inputBytes / Math.max(1, tenants().length - 1))) : 0;
      const active = r ? this.s.pieces.filter((p) => p.roundId === r.roundId).pop() : undefined;
      return {
        INCARNATION: 1, LOG_ARCHIVE_ROUND: r?.roundId ?? 0, TENANT_ID: tenantId, STATUS: r?.status ?? 'STOP', START_PIECE_ID: r?.startPieceId ?? 0, BACKUP_PIECE_ID: active?.pieceId ?? 0,
        MIN_FIRST_TIME: ts(r?.startUs), MAX_NEXT_TIME: ts(r && r.status !== 'BEGINNING' ? r.checkpointUs : null), INPUT_BYTES: bytes, OUTPUT_BYTES: bytes,
        COMPRESSION_RATIO: bytes > 0 ? 1 : null, INPUT_BYTES_DISPLAY: bytesDisplay(bytes), OUTPUT_BYTES_DISPLAY: bytesDisplay(bytes),
      };
    };
    const setFileCols = cols('INCARNATION:int', 'TENANT_ID:int', 'BS_KEY:int', 'COPY_ID:int', 'BACKUP_TYPE', 'ENCRYPTION_MODE', 'PREV_FULL_BS_KEY:int', 'PREV_INC_BS_KEY:int', 'START_TIME:timestamp', 'COMPLETION_TIME:timestamp', 'ELAPSED_SECONDES:int', 'KEEP', 'KEEP_UNTIL:timestamp', 'DEVICE_TYPE', 'COMPRESSED', 'INPUT_BYTES:int', 'OUTPUT_BYTES:int', 'OUTPUT_RATE_BYTES:double', 'COMPRESSION_RATIO:double', 'INPUT_BYTES_DISPLAY', 'OUTPUT_BYTES_DISPLAY', 'OUTPUT_RATE_BYTES_DISPLAY', 'TIME_TAKEN_DISPLAY', 'STATUS', 'FILE_STATUS', 'START_REPLAY_LOG_TS:int', 'DATE:int', 'BACKUP_DATA_VERSION:int', 'BACKUP_DEST', 'BACKUP_LEVEL', 'RESULT:int');
    const setRows = (copies: boolean) =>
      this.s.sets.flatMap((x) => {
        const variants: { copyId: number; location: string; endUs: number | null; fileStatus?: string }[] = [{ copyId: 0, location: x.location, endUs: x.endUs }];
        if (copies) variants.push(...x.copies.map((cp) => ({ copyId: cp.copyId, location: cp.location, endUs: cp.endUs, fileStatus: cp.fileStatus })));
        return variants.flatMap((v) =>
          tenants().map((tenantId): Row => {
            const bytes = tenantId === 1 ? this.setBytes(x) * (tenants().length - 1) : this.setBytes(x);
            const elapsed = Math.round(((v.endUs ?? this.cluster.nowUs()) - x.startUs) / 1e6);
            const prevFull = x.backupType === 'I' ? [...this.s.sets].reverse().find((y) => y.bsKey < x.bsKey && y.backupType === 'D' && y.status === 'SUCCESS')?.bsKey ?? 0 : 0;
            return {
              INCARNATION: 1, TENANT_ID: tenantId, BS_KEY: x.bsKey, COPY_ID: v.copyId, BACKUP_TYPE: x.backupType, ENCRYPTION_MODE: x.encryptionMode, PREV_FULL_BS_KEY: prevFull, PREV_INC_BS_KEY: 0,
              START_TIME: ts(x.startUs), COMPLETION_TIME: ts(v.endUs), ELAPSED_SECONDES: elapsed, KEEP: 'NO', KEEP_UNTIL: null, DEVICE_TYPE: /^oss:/i.test(v.location) ? 'oss' : 'file',
              COMPRESSED: 'LZ4', INPUT_BYTES: bytes, OUTPUT_BYTES: bytes, OUTPUT_RATE_BYTES: elapsed > 0 ? bytes / elapsed : 0, COMPRESSION_RATIO: bytes > 0 ? 1 : null,
              INPUT_BYTES_DISPLAY: bytesDisplay(bytes), OUTPUT_BYTES_DISPLAY: bytesDisplay(bytes), OUTPUT_RATE_BYTES_DISPLAY: `${bytesDisplay(elapsed > 0 ? bytes / elapsed : 0)}/S`,
              TIME_TAKEN_DISPLAY: new Date(elapsed * 1000).toISOString().slice(11, 19), STATUS: x.status === 'DOING' ? 'DOING' : x.status, FILE_STATUS: v.copyId === 0 ? x.fileStatus : x.fileStatus === 'DELETED' ? 'DELETED' : (v.fileStatus ?? 'AVAILABLE'),
              START_REPLAY_LOG_TS: x.startReplayUs, DATE: Number(new Date(x.startUs / 1000).toISOString().slice(0, 10).replace(/-/g, '')), BACKUP_DATA_VERSION: x.dataVersion,
              BACKUP_DEST: redactUri(v.location), BACKUP_LEVEL: 'CLUSTER', RESULT: x.result,
            };
          }),
        );
      });
    const pieceCols = cols('INCARNATION:int', 'TENANT_ID:int', 'ROUND_ID:int', 'BACKUP_PIECE_ID:int', 'COPY_ID:int', 'CREATE_DATE:int', 'START_TS:int', 'CHECKPOINT_TS:int', 'MAX_TS:int', 'STATUS', 'FILE_STATUS', 'COMPATIBLE:int', 'START_PIECE_ID:int', 'BACKUP_DEST');
    const copyJobCols = (piece: boolean) =>
      piece
        ? cols('JOB_ID:int', 'TENANT_ID:int', 'INCARNATION:int', 'BACKUP_PIECE_ID:int', 'MAX_BACKUP_TIMES:int', 'RESULT:int', 'STATUS', 'BACKUP_DEST', 'COMMENT', 'TYPE', 'START_TIME:timestamp', 'END_TIME:timestamp')
        : cols('JOB_ID:int', 'TENANT_ID:int', 'INCARNATION:int', 'BACKUP_SET_ID:int', 'TYPE', 'TENANT_NAME', 'STATUS', 'BACKUP_DEST', 'MAX_BACKUP_TIMES:int', 'RESULT:int', 'COMMENT', 'START_TIME:timestamp', 'END_TIME:timestamp');
    const copyRows = (kind: 'BACKUPSET' | 'BACKUPPIECE', finished: boolean) =>
      this.s.copies
        .filter((cp) => cp.kind === kind && (cp.status === 'FINISH' || cp.status === 'CANCEL') === finished)
        .flatMap((cp) =>
          cp.targetIds.map((id): Row => ({
            JOB_ID: cp.jobId, TENANT_ID: 1, INCARNATION: 1, BACKUP_SET_ID: id, BACKUP_PIECE_ID: id, TYPE: cp.targetIds.length > 1 ? 'ALL_BACKUP_SET' : 'SINGLE_BACKUP_SET', TENANT_NAME: 'sys',
            STATUS: cp.status, BACKUP_DEST: redactUri(cp.dest), MAX_BACKUP_TIMES: cp.maxBackupTimes, RESULT: cp.result, COMMENT: cp.comment, START_TIME: ts(cp.startUs), END_TIME: ts(cp.endUs),
          })),
        );
    const zoneRows = (): Row[] => {
      const merging = this.s.mergeDueAt !== null;
      const nowUs = this.cluster.nowUs();
      const r = (zone: string, name: string, value: number, info = ''): Row => ({ gmt_create: ts(nowUs), gmt_modified: ts(nowUs), zone, name, value, info });
      return [
        r('', 'frozen_version', this.s.frozenVersion),
        r('', 'frozen_time', this.s.frozenUs),
        r('', 'global_broadcast_version', this.s.frozenVersion),
        r('', 'last_merged_version', this.s.lastMergedVersion),
        r('', 'is_merge_error', 0),
        r('', 'merge_status', merging ? 1 : 0, merging ? 'MERGING' : 'IDLE'),
        r('zone1', 'merge_status', merging ? 1 : 0, merging ? 'MERGING' : 'IDLE'),
        r('zone1', 'broadcast_version', this.s.frozenVersion),
        r('zone1', 'last_merged_version', this.s.lastMergedVersion),
        r('zone1', 'all_merged_version', this.s.lastMergedVersion),
        r('zone1', 'last_merged_time', this.s.lastMergedUs),
        r('zone1', 'merge_start_time', this.s.mergeStartUs),
        r('zone1', 'is_merge_timeout', 0),
      ];
    };
    return [
      { name: 'CDB_OB_BACKUP_ARCHIVELOG', columns: archiveCols, rows: () => tenants().map((t) => archiveRow(this.round(), t)) },
      { name: 'CDB_OB_BACKUP_ARCHIVELOG_SUMMARY', columns: archiveCols, rows: () => this.s.rounds.flatMap((r) => tenants().map((t) => archiveRow(r, t))) },
      {
        name: 'CDB_OB_BACKUP_PIECE_FILES',
        columns: pieceCols,
        rows: () =>
          this.s.pieces.flatMap((p) =>
            [redactUri(p.location), ...p.copies.map(redactUri)].flatMap((dest, copyId) =>
              tenants().map((t): Row => ({
                INCARNATION: 1, TENANT_ID: t, ROUND_ID: p.roundId, BACKUP_PIECE_ID: p.pieceId, COPY_ID: copyId, CREATE_DATE: Number(new Date(p.createUs / 1000).toISOString().slice(0, 10).replace(/-/g, '')),
                START_TS: p.startUs, CHECKPOINT_TS: p.checkpointUs, MAX_TS: p.status === 'FROZEN' ? p.checkpointUs : 9223372036854775807n as unknown as number, STATUS: p.status,
                FILE_STATUS: copyId > 0 && (p.deletedCopies ?? []).includes(dest) ? 'DELETED' : p.fileStatus, COMPATIBLE: 2, START_PIECE_ID: this.s.rounds.find((r) => r.roundId === p.roundId)?.startPieceId ?? 0, BACKUP_DEST: dest,
              })),
            ),
          ),
      },
      {
        name: 'CDB_OB_BACKUP_PROGRESS',
        columns: cols('INCARNATION:int', 'BS_KEY:int', 'BACKUP_TYPE', 'TENANT_ID:int', 'PARTITION_COUNT:int', 'MACRO_BLOCK_COUNT:int', 'FINISH_PARTITION_COUNT:int', 'FINISH_MACRO_BLOCK_COUNT:int', 'INPUT_BYTES:int', 'OUTPUT_BYTES:int', 'START_TIME:timestamp', 'COMPLETION_TIME:timestamp', 'STATUS'),
        rows: () => {
          // the progress of the latest backup; Choice (§12 #2): a running backup shows STATUS 'DOING'
          const x = this.s.sets[this.s.sets.length - 1];
          if (!x) return [];
          return tenants().map((t) => {
            const n = t === 1 ? tenants().length - 1 : 1;
            return {
              INCARNATION: 1, BS_KEY: x.bsKey, BACKUP_TYPE: x.backupType, TENANT_ID: t, PARTITION_COUNT: x.filesPerTenant * n, MACRO_BLOCK_COUNT: x.filesPerTenant * n,
              FINISH_PARTITION_COUNT: x.filesWritten * n, FINISH_MACRO_BLOCK_COUNT: x.filesWritten * n, INPUT_BYTES: this.setBytes(x) * n, OUTPUT_BYTES: this.setBytes(x) * n,
              START_TIME: ts(x.startUs), COMPLETION_TIME: ts(x.endUs), STATUS: x.status === 'DOING' ? 'DOING' : x.status === 'SUCCESS' ? 'COMPLETED' : 'FAILED',
            };
          });
        },
      },
      { name: 'CDB_OB_BACKUP_SET_DETAILS', columns: setFileCols, rows: () => setRows(true).filter((r) => r.STATUS !== 'DOING').map((r) => ({ ...r, STATUS: r.STATUS === 'SUCCESS' ? 'COMPLETED' : r.FILE_STATUS === 'DELETING' ? 'DELETING' : r.STATUS })) },
      { name: 'CDB_OB_BACKUP_SET_FILES', columns: setFileCols, rows: () => setRows(true) },
      {
        name: 'CDB_OB_BACKUP_JOB_DETAILS',
        columns: setFileCols,
        rows: () => setRows(false).map((r) => ({ ...r, STATUS: r.STATUS === 'SUCCESS' ? 'COMPLETED' : r.STATUS })),
      },
      {
        name: 'CDB_OB_BACKUP_CLEAN_HISTORY',
        columns: cols('TENANT_ID:int', 'BS_KEY:int', 'COPY_ID:int', 'START_TIME:timestamp', 'END_TIME:timestamp', 'INCARNATION:int', 'TYPE', 'STATUS', 'PARAMETER', 'ERROR_MSG', 'COMMENT'),
        rows: () => this.s.cleans.filter((c) => c.status === 'STOP').flatMap((c) => tenants().map((t) => ({ TENANT_ID: t, BS_KEY: c.jobId, COPY_ID: c.copyId ?? 0, START_TIME: ts(c.startUs), END_TIME: ts(c.endUs), INCARNATION: 1, TYPE: c.type, STATUS: c.status, PARAMETER: c.parameter, ERROR_MSG: c.errorMsg, COMMENT: c.comment }))),
      },
      {
        name: '__all_virtual_backup_clean_info',
        columns: cols('tenant_id:int', 'job_id:int', 'start_time:timestamp', 'end_time:timestamp', 'incarnation:int', 'type', 'status', 'parameter', 'error_msg', 'comment', 'clog_gc_snapshot:int', 'result:int', 'copy_id:int'),
        rows: () => {
          const cur = this.s.cleans.find((c) => c.status !== 'STOP');
          return tenants().map((t) => ({ tenant_id: t, job_id: cur?.jobId ?? 0, start_time: ts(cur?.startUs), end_time: null, incarnation: 1, type: cur?.type ?? 'EMPTY TYPE', status: cur?.status ?? 'STOP', parameter: cur?.parameter ?? '', error_msg: '', comment: cur?.comment ?? '', clog_gc_snapshot: 0, result: 0, copy_id: cur?.copyId ?? 0 }));
        },
      },
      {
        name: 'CDB_OB_BACKUP_SET_OBSOLETE',
        columns: cols('INCARNATION:int', 'TENANT_ID:int', 'BS_KEY:int', 'BACKUP_TYPE', 'START_TIME:timestamp', 'COMPLETION_TIME:timestamp'),
        rows: () => this.obsoleteSets().flatMap((x) => tenants().map((t) => ({ INCARNATION: 1, TENANT_ID: t, BS_KEY: x.bsKey, BACKUP_TYPE: x.backupType, START_TIME: ts(x.startUs), COMPLETION_TIME: ts(x.endUs) }))),
      },
      { name: 'CDB_OB_BACKUP_BACKUPSET_JOB', columns: copyJobCols(false), rows: () => copyRows('BACKUPSET', false) },
      { name: 'CDB_OB_BACKUP_BACKUPSET_JOB_HISTORY', columns: copyJobCols(false), rows: () => copyRows('BACKUPSET', true) },
      { name: 'CDB_OB_BACKUP_BACKUPPIECE_JOB', columns: copyJobCols(true), rows: () => copyRows('BACKUPPIECE', false) },
      { name: 'CDB_OB_BACKUP_BACKUPPIECE_JOB_HISTORY', columns: copyJobCols(true), rows: () => copyRows('BACKUPPIECE', true) },
      { name: '__all_zone', columns: cols('gmt_create:timestamp', 'gmt_modified:timestamp', 'zone', 'name', 'value:int', 'info'), rows: zoneRows },
    ];
  }
}

export const md5 = (s: string) => createHash('md5').update(s).digest('hex');
