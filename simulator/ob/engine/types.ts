import type { Cursor } from '../sql/parser.js';
import type { TableDef } from '../sql/catalog.js';
import type { StatementResult } from '../wire.js';

export interface Tunables {
  /** bytes a full backup of one tenant writes (also what OUTPUT_BYTES reports) */
  tenantDataBytes: number;
  /** share of the tenant's data an incremental backup writes */
  incrementalRatio: number;
  /** backup throughput per tenant: a backup of N bytes takes N / rate seconds of simulated time */
  backupBytesPerSecond: number;
  /** size of each data file written under a backup set */
  dataFileBytes: number;
  /** redo generated per tenant per second, archived into pieces */
  logBytesPerSecond: number;
  /** PREPARE -> BEGINNING and BEGINNING -> DOING delays of a new archive round */
  archivePrepareMs: number;
  archiveBeginMs: number;
  /** STOPPING -> STOP and SUSPENDING -> SUSPEND */
  archiveStopMs: number;
  /** a scheduled job stays INIT this long before it runs */
  jobStartDelayMs: number;
  /** each metadata phase of a backup task */
  metaPhaseMs: number;
  /** CANCELING -> CANCELED */
  cancelMs: number;
  /** length of a major compaction */
  mergeDurationMs: number;
  /** period of the automatic obsolete-backup clean (4.x: hourly) */
  autoDeleteIntervalMs: number;
}

export const DEFAULT_TUNABLES: Tunables = {
  tenantDataBytes: 4 * 1024 * 1024,
  incrementalRatio: 0.25,
  backupBytesPerSecond: 512 * 1024,
  dataFileBytes: 256 * 1024,
  logBytesPerSecond: 64,
  archivePrepareMs: 2_000,
  archiveBeginMs: 5_000,
  archiveStopMs: 2_000,
  jobStartDelayMs: 2_000,
  metaPhaseMs: 1_000,
  cancelMs: 1_000,
  mergeDurationMs: 30_000,
  autoDeleteIntervalMs: 3_600_000,
};

export interface Tenant {
  id: number;
  name: string;
  type: 'SYS' | 'USER' | 'META';
  status: string;
  createUs: number;
  logMode: 'ARCHIVELOG' | 'NOARCHIVELOG';
}

export interface SessionState {
  readonly connectionId: number;
  user: string;
  tenant: string;
  database: string | null;
  vars: Map<string, string | number>;
  userVars: Map<string, string | number | null>;
  encryption: { mode: 'NONE' | 'PASSWORD'; passwd: string };
  decryption: string[];
}

/** What a version-specific engine supplies to the shared cluster. */
export interface VersionEngine {
  tables(): TableDef[];
  /** `c` is positioned after ALTER SYSTEM */
  alterSystem(c: Cursor, s: SessionState): Promise<StatementResult>;
  /** the earliest pending state transition, in simulated ms; null when nothing is scheduled */
  nextEventAt(): number | null;
  /** applies every transition due at `nowMs` */
  fire(nowMs: number): Promise<void>;
  /** steady progress (checkpoints, bytes) up to `nowMs`, between transitions */
  snapshot(): unknown;
  restore(state: unknown): void;
}
