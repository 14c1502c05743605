// The OceanBase driver against obsim 4.2.1 over a real MySQL-protocol connection: every operation the
// engine calls, and the failures it must turn into clear errors.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObDriver, ObError } from '../../daemon/oceanbase/index.js';
import type { JobRef } from '../../daemon/oceanbase/index.js';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';
import { archiveUntil, caught, closedPort, finishJob, silentServer, tempDir, until } from '../support/ob-driver.js';

const PASSWORD = 'Sys-Pa55word';
let sim: ObSim;
let d: ObDriver;
let tmp: { dir: string; cleanup(): Promise<void> };
const uri = (...parts: string[]) => `file://${path.join(tmp.dir, ...parts)}`;
const cluster = () => ({ name: 'ob4', host: sim.host, port: sim.port, user: 'root@sys', password: PASSWORD });

/** destinations for a tenant, archive started and DOING */
async function prepareTenant(tenant: string): Promise<void> {
  await d.setDataDestination(uri(tenant, 'data'), tenant);
  await d.setArchiveDestination({ location: uri(tenant, 'archive'), pieceSwitchInterval: '1d' }, tenant);
  await d.startArchive(tenant);
  await archiveUntil(sim, d, tenant, (a) => a.doing);
}

const finish = (ref: JobRef) => finishJob(sim, d, ref);

beforeAll(async () => {
  tmp = await tempDir('ob-driver-4x-');
  sim = await startObSim({ obVersion: '4.2.1', password: PASSWORD, tenants: ['app', 'crm', 'hr'], timeScale: 0 });
  d = await ObDriver.open(cluster(), { connectTimeoutMs: 2_000, queryTimeoutMs: 5_000, findJobIntervalMs: 20 });
});

afterAll(async () => {
  await d?.close();
  await sim?.stop();
  await tmp?.cleanup();
});

describe('connection and identity (reference §0)', () => {
  it('detects 4.x and the full version', () => {
    expect(d.identity.major).toBe(4);
    expect(d.identity.version).toBe('4.2.1.0');
    expect(d.identity.versionComment).toMatch(/^OceanBase\S* 4\.2\.1\.0 /);
    expect(d.identity.serverVersion).toMatch(/^5\.7\.25-OceanBase/);
  });

  it('accepts the OBProxy user form root@sys#cluster', async () => {
    const viaProxy = await ObDriver.open({ ...cluster(), user: 'root@sys#obcluster' });
    expect(viaProxy.major).toBe(4);
    await viaProxy.close();
  });

  it('refuses a wrong password with an auth error that does not show it', async () => {
    const e = await caught(ObDriver.open({ ...cluster(), password: 'not-the-Pa55word' }));
    expect(e.kind).toBe('auth');
    expect(e.code).toBe(1045);
    expect(e.message).toContain(`cluster "ob4" at ${sim.host}:${sim.port}`);
    expect(e.message).not.toContain('not-the-Pa55word');
  });

  it('fails fast and clearly on a port nothing listens on', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const e = await caught(ObDriver.open({ ...cluster(), port }, { connectTimeoutMs: 2_000 }));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain('connection refused');
    expect(e.message).toContain(`:${port}`);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('gives up on a server that accepts but never answers after the connect timeout', async () => {
    const silent = await silentServer();
    try {
      const t0 = Date.now();
      const e = await caught(ObDriver.open({ ...cluster(), port: silent.port }, { connectTimeoutMs: 400 }));
      expect(e.kind).toBe('unreachable');
      expect(e.message).toContain('connect timeout');
      expect(Date.now() - t0).toBeLessThan(3_000);
    } finally {
      await silent.close();
    }
  });
});

describe('tenants and scope', () => {
  it('lists user tenants with log mode', async () => {
    const t = await d.listTenants();
    expect(t.map((x) => x.name)).toEqual(['app', 'crm', 'hr']);
    expect(t.every((x) => x.type === 'USER' && x.status === 'NORMAL')).toBe(true);
    expect(t[0].logMode).toBe('NOARCHIVELOG');
  });

  it('filters by the cluster tenants list and names unknown tenants', async () => {
    const scoped = new ObDriver({ ...cluster(), tenants: ['crm'] });
    try {
      expect((await scoped.scope()).map((t) => t.name)).toEqual(['crm']);
      expect(await scoped.targets()).toEqual(['crm']);
    } finally {
      await scoped.close();
    }
    const wrong = new ObDriver({ ...cluster(), tenants: ['crm', 'nope'] });
    try {
      const e = await caught(wrong.scope());
      expect(e.kind).toBe('unknown_tenant');
      expect(e.message).toContain('"nope"');
    } finally {
      await wrong.close();
    }
  });
});

describe('destinations (reference §1)', () => {
  it('sets data and archive destinations once and reads them back', async () => {
    expect(await d.setDataDestination(uri('app', 'data'), 'app')).toBe(true);
    expect(await d.setDataDestination(uri('app', 'data'), 'app')).toBe(false);
    expect(await d.setArchiveDestination({ location: uri('app', 'archive'), binding: 'OPTIONAL', pieceSwitchInterval: '1d' }, 'app')).toBe(true);
    expect(await d.setArchiveDestination({ location: uri('app', 'archive'), pieceSwitchInterval: '1d' }, 'app')).toBe(false);
    const dest = await d.getDestination('app');
    expect(dest.dataDest).toBe(uri('app', 'data'));
    expect(dest.archive).toEqual({ location: uri('app', 'archive'), binding: 'OPTIONAL', pieceSwitchSeconds: 86400, state: 'ENABLE' });
    // the database claimed the directories with its format files
    expect(existsSync(path.join(tmp.dir, 'app', 'data', 'format.obbak'))).toBe(true);
    expect(existsSync(path.join(tmp.dir, 'app', 'archive', 'format.obarc'))).toBe(true);
  });

  it('resends every archive attribute when one changes', async () => {
    expect(await d.setArchiveDestination({ location: uri('app', 'archive'), pieceSwitchInterval: '2d' }, 'app')).toBe(true);
    expect((await d.getDestination('app')).archive).toMatchObject({ binding: 'OPTIONAL', pieceSwitchSeconds: 2 * 86400 });
    expect(await d.setArchiveDestination({ location: uri('app', 'archive'), pieceSwitchInterval: '1d' }, 'app')).toBe(true);
  });

  it('maps a non-empty foreign directory to 9080 and another tenant’s directory to 9081', async () => {
    const dirty = path.join(tmp.dir, 'dirty');
    await mkdir(dirty, { recursive: true });
    await writeFile(path.join(dirty, 'someone-elses.txt'), 'x');
    const e80 = await caught(d.setDataDestination(`file://${dirty}`, 'hr'));
    expect(e80.kind).toBe('dest_format_missing');
    expect(e80.code).toBe(9080);
    expect(e80.message).toContain('use an empty directory');
    const e81 = await caught(d.setDataDestination(uri('app', 'data'), 'hr'));
    expect(e81.kind).toBe('dest_format_mismatch');
    expect(e81.code).toBe(9081);
  });

  it('keeps storage credentials and the password out of errors and log lines', async () => {
    const secret = 'OssSecretKey0123456789';
    const lines: string[] = [];
    const log = (obj: object, msg?: string) => void lines.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
    const logged = await ObDriver.open(cluster(), { logger: { debug: log, warn: log } });
    try {
      const e = await caught(logged.setDataDestination(`oss://bucket/ob/hr?host=127.0.0.1:${await closedPort()}&access_id=AKIDhr0001&access_key=${secret}`, 'hr'));
      expect(e.kind).toBe('storage_unreachable');
      expect(e.code).toBe(9070);
      const shown = `${e.message} ${e.statement ?? ''} ${e.serverMessage ?? ''} ${lines.join('\n')}`;
      expect(lines.some((l) => l.includes('DATA_BACKUP_DEST') && l.includes('access_key=***'))).toBe(true);
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain('AKIDhr0001');
      expect(shown).not.toContain(PASSWORD);
    } finally {
      await logged.close();
    }
  });

  it('raises ob_query_timeout for statements that touch storage and maps 4012', async () => {
    sim.faults.addStatementFault({ kind: 'timeout', match: 'DATA_BACKUP_DEST', times: 1 });
    const e = await caught(d.setDataDestination(uri('app', 'data'), 'app', { force: true }));
    expect(e.kind).toBe('timeout');
    expect(e.code).toBe(4012);
    // the server's text quotes the session's ob_query_timeout: the driver's 10 minutes, not the 10 s default
    expect(e.message).toContain('600000000');
  });
});

describe('log archive (reference §2)', () => {
  it('starts archiving once, reaches DOING, and reports the lag by the database clock', async () => {
    expect(await d.startArchive('app')).toBe(true);
    expect(await d.startArchive('app')).toBe(false);
    const status = await archiveUntil(sim, d, 'app', (a) => a.doing);
    expect(status.state).toBe('DOING');
    expect(status.startedAt).not.toBeNull();
    await sim.advance(60_000);
    const later = (await d.getArchiveStatus()).find((a) => a.tenant === 'app')!;
    expect(later.checkpointAt).not.toBeNull();
    expect(later.observedAt.getTime()).toBe(Math.floor(sim.now())); // read from the database clock
    expect(later.lagSeconds).toBeCloseTo((later.observedAt.getTime() - later.checkpointAt!.getTime()) / 1000, 3);
    expect(later.lagSeconds!).toBeGreaterThanOrEqual(0);
  });

  it('maps a redundant ARCHIVELOG sent directly to 9091', async () => {
    const e = await caught(d.connection.exec('ALTER SYSTEM ARCHIVELOG TENANT = app'));
    expect(e.kind).toBe('already_archiving');
    expect(e.code).toBe(9091);
  });

  it('suspends and resumes archiving with LOG_ARCHIVE_DEST_STATE', async () => {
    expect(await d.setArchiveDestState('DEFER', 'app')).toBe(true);
    expect(await d.setArchiveDestState('DEFER', 'app')).toBe(false);
    await archiveUntil(sim, d, 'app', (a) => a.state === 'SUSPEND');
    expect(await d.setArchiveDestState('ENABLE', 'app')).toBe(true);
    await archiveUntil(sim, d, 'app', (a) => a.doing);
  });
});

describe('data backup (reference §3, §4)', () => {
  let fullRef: JobRef;

  it('refuses a backup while the archive is not DOING (9040)', async () => {
    await d.setDataDestination(uri('crm', 'data'), 'crm');
    const e = await caught(d.startBackup({ type: 'full', tenants: ['crm'] }));
    expect(e.kind).toBe('archive_not_doing');
    expect(e.code).toBe(9040);
  });

  it('starts a full backup, finds its job, follows it to the end and lists the set', async () => {
    const started = await d.startBackup({ type: 'full', tenants: ['app'] });
    // no job existed before in any tenant of the scope
    expect(Object.keys(started.marks)).toHaveLength(3);
    expect(Object.values(started.marks).every((v) => v === 0)).toBe(true);
    expect(started.jobs).toHaveLength(1);
    const job = started.jobs[0];
    expect(job).toMatchObject({ tenant: 'app', type: 'full', state: 'running' });
    fullRef = job;
    // timestamps are read in UTC from the database clock
    expect(Math.abs(job.startedAt!.getTime() - sim.now())).toBeLessThan(10_000);
    expect((await d.runningJobs()).map((j) => j.jobId)).toEqual([job.jobId]);
    // progress moves while it runs
    const mid = await until(
      async () => {
        await sim.advance(1_000);
        return (await d.getJob(fullRef))!;
      },
      (j) => j.progress !== null && j.progress > 0 && j.progress < 1,
    );
    expect(mid.state).toBe('running');
    const done = await finish(fullRef);
    expect(done).toMatchObject({ state: 'succeeded', status: 'COMPLETED', progress: 1, errorCode: null });
    expect(done.backupSetId).toBeGreaterThan(0);
    expect(done.outputBytes).toBeGreaterThan(0);
    expect(done.endedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    const sets = await d.listBackupSets();
    const set = sets.find((s) => s.tenant === 'app' && s.id === done.backupSetId)!;
    expect(set).toMatchObject({ type: 'full', status: 'success', fileStatus: 'AVAILABLE', copyId: 0, path: uri('app', 'data') });
    expect(set.sizeBytes).toBe(done.outputBytes);
    expect(await d.runningJobs()).toEqual([]);
  });

  it('runs an incremental after the full, and finds jobs again from stored marks', async () => {
    const marks = await d.jobMarks();
    expect(marks['1002']).toBe(fullRef.jobId);
    await d.submitBackup({ type: 'incremental', tenants: ['app'] });
    // as after a daemon restart: only the marks were kept
    const found = await d.findJobsAfter(marks);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ type: 'incremental', tenant: 'app' });
    const done = await finish(found[0]);
    expect(done.state).toBe('succeeded');
    const inc = (await d.listBackupSets()).find((s) => s.id === done.backupSetId && s.tenant === 'app')!;
    expect(inc).toMatchObject({ type: 'incremental', prevFullId: (await d.getJob(fullRef))!.backupSetId });
    expect(await d.findJobsAfter(await d.jobMarks())).toEqual([]);
  });

  it('answers 9036 when a backup of the tenant is already running', async () => {
    const first = await d.startBackup({ type: 'full', tenants: ['app'] });
    const e = await caught(d.startBackup({ type: 'full', tenants: ['app'] }));
    expect(e.kind).toBe('backup_in_progress');
    expect(e.code).toBe(9036);
    expect(e.transient).toBe(true);
    expect(e.message).toContain('already in progress');
    await finish(first.jobs[0]);
  });

  it('reports an incremental the database ran as a full when no full exists at the destination', async () => {
    await prepareTenant('crm');
    const started = await d.startBackup({ type: 'incremental', tenants: ['crm'] });
    expect(started.jobs[0].type).toBe('full');
    await finish(started.jobs[0]);
  });

  it('keeps polling after the connection drops mid-poll', async () => {
    const { jobs } = await d.startBackup({ type: 'full', tenants: ['crm'] });
    const ref = jobs[0];
    await sim.advance(1_000);
    expect((await d.getJob(ref))!.state).toBe('running');
    sim.faults.dropConnections();
    expect((await d.getJob(ref))!.jobId).toBe(ref.jobId);
    // a drop in the middle of a read: the driver reconnects and reads again
    sim.faults.addStatementFault({ kind: 'drop', match: 'CDB_OB_BACKUP_JOBS', times: 1 });
    expect((await d.getJob(ref))!.jobId).toBe(ref.jobId);
    expect((await finish(ref)).state).toBe('succeeded');
  });

  it('does not resend a write whose connection dropped, and says its effect is unknown', async () => {
    sim.faults.addStatementFault({ kind: 'drop', match: 'MAJOR FREEZE', times: 1 });
    const e = await caught(d.majorFreeze(['hr']));
    expect(e.kind).toBe('connection_lost');
    expect(e.mayHaveApplied).toBe(true);
    expect(e.message).toContain('may or may not have been applied');
    expect((await d.listTenants()).length).toBe(3);
  });

  it('gives up on a statement that gets no answer within the query timeout, then works again', async () => {
    const quick = await ObDriver.open(cluster(), { queryTimeoutMs: 300 });
    try {
      sim.faults.addStatementFault({ kind: 'slow', match: 'DBA_OB_TENANTS', delayMs: 1_500, times: 1 });
      const t0 = Date.now();
      const e = await caught(quick.listTenants());
      expect(e.kind).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(1_400);
      await new Promise((r) => setTimeout(r, 1_300));
      expect((await quick.listTenants()).length).toBe(3);
    } finally {
      await quick.close();
    }
  });

  it('sends SET ENCRYPTION on the backup session and never shows the password', async () => {
    const secret = 'Backup-Enc-Pa55';
    const { jobs } = await d.startBackup({ type: 'full', tenants: ['app'], encryptionPassword: secret });
    const rows = await sim.query(`SELECT encryption_mode FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE tenant_id = 1002 AND job_id = ${jobs[0].jobId}`);
    expect(rows[0]?.encryption_mode ?? rows[0]?.ENCRYPTION_MODE).toBe('PASSWORD');
    await finish(jobs[0]);
    // the next backup on the shared connection is not encrypted: the session state did not leak
    const plain = await d.startBackup({ type: 'incremental', tenants: ['app'] });
    const r2 = await sim.query(`SELECT encryption_mode FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE tenant_id = 1002 AND job_id = ${plain.jobs[0].jobId}`);
    expect(r2[0]?.encryption_mode ?? r2[0]?.ENCRYPTION_MODE).toBe('NONE');
    await finish(plain.jobs[0]);
    sim.faults.addStatementFault({ kind: 'error', match: 'SET ENCRYPTION', code: 1064, message: `syntax error near '${secret}'`, times: 1 });
    const e = await caught(d.submitBackup({ type: 'full', tenants: ['app'], encryptionPassword: secret }));
    expect(`${e.message} ${e.statement} ${e.serverMessage}`).not.toContain(secret);
  });

  it('cancels a running backup', async () => {
    const { jobs } = await d.startBackup({ type: 'full', tenants: ['app'] });
    expect(await d.cancelBackup(['app'])).toBe(true);
    const end = await finish(jobs[0]);
    expect(end.state).toBe('canceled');
  });

  it('refuses backups while the cluster upgrades', async () => {
    sim.faults.setUpgrading(true);
    try {
      expect(await d.isUpgrading()).toBe(true);
      const e = await caught(d.submitBackup({ type: 'full', tenants: ['app'] }));
      expect(e.kind).toBe('upgrading');
    } finally {
      sim.faults.setUpgrading(false);
    }
    expect(await d.isUpgrading()).toBe(false);
  });

  it('reports a failed job with the database error code and text', async () => {
    sim.faults.failNextBackup('app', 9082, 2_000);
    const { jobs } = await d.startBackup({ type: 'full', tenants: ['app'] });
    const end = await finish(jobs[0]);
    expect(end).toMatchObject({ state: 'failed', errorCode: 9082 });
    expect(end.errorText).toBeTruthy();
  });
});

describe('compaction (reference §4)', () => {
  it('reads per-tenant compaction and triggers a major freeze', async () => {
    const before = (await d.getCompaction()).find((c) => c.tenant === 'app')!;
    expect(before.idle).toBe(true);
    await sim.advance(10_000);
    await d.majorFreeze(['app']);
    const after = await until(
      async () => {
        await sim.advance(5_000);
        return (await d.getCompaction()).find((c) => c.tenant === 'app')!;
      },
      (c) => c.idle && c.frozenVersion !== before.frozenVersion,
    );
    expect(after.frozenAt!.getTime()).toBeGreaterThan(before.frozenAt!.getTime());
    expect(after.lastMergedVersion).toBe(after.frozenVersion);
  });
});

describe('cleanup (reference §5)', () => {
  it('adds, keeps, changes and drops the default delete policy', async () => {
    expect(await d.setRetention(7 * 86400, 'app')).toBe(true);
    expect(await d.setRetention(7 * 86400, 'app')).toBe(false);
    expect((await d.getRetention()).find((r) => r.tenant === 'app')).toMatchObject({ recoveryWindowSeconds: 7 * 86400, autoDelete: true });
    expect(await d.setRetention(3 * 86400, 'app')).toBe(true);
    expect((await d.getRetention()).find((r) => r.tenant === 'app')!.recoveryWindowSeconds).toBe(3 * 86400);
    expect(await d.setRetention(null, 'app')).toBe(true);
    expect((await d.getRetention()).find((r) => r.tenant === 'app')).toMatchObject({ autoDelete: false });
    expect(await d.setRetention(null, 'app')).toBe(false);
  });

  it('lists the delete jobs the policy runs', async () => {
    await d.setRetention(86400, 'app');
    await sim.advance(2 * 3_600_000);
    const jobs = await until(
      async () => {
        await sim.advance(600_000);
        return d.listCleanJobs();
      },
      (j) => j.some((x) => x.tenant === 'app' && x.state !== 'running'),
      20,
    );
    const job = jobs.find((x) => x.tenant === 'app')!;
    expect(job.type).toMatch(/DELETE/);
    expect(['succeeded', 'failed']).toContain(jobs.filter((x) => x.tenant === 'app').at(-1)!.state);
    expect(await d.cancelDelete('app')).toBeTypeOf('boolean');
  });

  it('says plainly that manual deletes and backup of backups do not exist on 4.x', async () => {
    expect((await caught(d.deleteObsoleteBackup())).kind).toBe('not_supported');
    expect((await caught(d.deleteBackupSet(1))).kind).toBe('not_supported');
    const e = await caught(d.startSecondaryBackup('backupset'));
    expect(e.kind).toBe('not_supported');
    expect(e.message).toContain('OceanBase 4.x');
  });
});

describe('archive pieces and stopping', () => {
  it('lists archive pieces with their paths', async () => {
    const pieces = (await d.listArchivePieces()).filter((p) => p.tenant === 'app');
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces[0].path).toBe(uri('app', 'archive'));
    expect(pieces[0].startAt).not.toBeNull();
  });

  it('stops archiving once', async () => {
    expect(await d.stopArchive('crm')).toBe(true);
    expect(await d.stopArchive('crm')).toBe(false);
    const stopped = await archiveUntil(sim, d, 'crm', (a) => a.state === 'STOP');
    expect(stopped.doing).toBe(false);
    const e = await caught(d.connection.exec('ALTER SYSTEM NOARCHIVELOG TENANT = crm'));
    expect(e.kind).toBe('already_not_archiving');
    expect(e.code).toBe(9092);
  });
});
