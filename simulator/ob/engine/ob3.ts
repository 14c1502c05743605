// placeholder replaced below
import type { ObCluster } from './cluster.js';
import type { SessionState, VersionEngine } from './types.js';
import type { Cursor } from '../sql/parser.js';
import type { StatementResult } from '../wire.js';
import type { TableDef } from '../sql/catalog.js';
export class Ob3Engine implements VersionEngine {
  constructor(private readonly cluster: ObCluster) {}
  tables(): TableDef[] { return []; }
  async alterSystem(c: Cursor, _s: SessionState): Promise<StatementResult> { c.fail(); }
  nextEventAt(): number | null { return null; }
  async fire(): Promise<void> {}
  snapshot(): unknown { return {}; }
  restore(): void {}
  interruptArchive(_c?: string): void {}
  failRunningBackup(_code: number): number { return 0; }
  armFailure(_code: number, _after: number): void {}
}
