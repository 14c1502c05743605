// The CLI's daemon commands: status, backup now, runs, alarms. Each returns its exit code.
import type { Alarm } from '../daemon/engine/alarms.js';
import type { Run } from '../daemon/engine/runs.js';
import type { ClusterStatus } from '../daemon/engine/status.js';
import { apiError, CliError, type Client } from './client.js';
import { bytes, duration, percent, progressBar, shortTime, table, when } from './format.js';

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream;
  json: boolean;
  /** real-time pause between polls (tests shorten it) */
  sleep(ms: number): Promise<void>;
}

const enc = encodeURIComponent;

function writeJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

function runningLine(r: NonNullable<ClusterStatus['running']>): string {
  const what = `run ${r.id} ${r.kind}${r.type ? ` ${r.type}` : ''} ${r.state}`;
  return `${what}  ${progressBar(r.progress)}${r.step ? `  ${r.step}` : ''}`;
}

function delay(s: ClusterStatus): string {
  return s.log_backup_delay_seconds === null ? '-' : duration(s.log_backup_delay_seconds);
}

// ------------------------------------------------------------------------------------------------ status

export async function status(client: Client, io: Io, cluster: string | undefined): Promise<number> {
  if (cluster) {
    const answer = await client.request<ClusterStatus>('GET', `/v1/clusters/${enc(cluster)}/status`);
    if (answer.status !== 200) throw apiError(answer);
    if (io.json) writeJson(io, answer.body);
    else io.out.write(statusDetail(answer.body));
    return 0;
  }
  const clusters = (await client.get<{ items: Array<{ name: string }> }>('/v1/clusters')).items;
  const statuses = await Promise.all(
    clusters.map(async (c) => {
      const answer = await client.request<ClusterStatus>('GET', `/v1/clusters/${enc(c.name)}/status`);
      return answer.status === 200 ? answer.body : undefined;
    }),
  );
  if (io.json) {
    writeJson(io, { items: statuses.filter(Boolean) });
    return 0;
  }
  if (clusters.length === 0) {
    io.out.write('No clusters registered. Register one with PUT /v1/clusters/NAME (or the Terraform provider / CDKTF constructs).\n');
    return 0;
  }
  const rows = clusters.map((c, i) => {
    const s = statuses[i];
    if (!s) return [c.name, '-', '?', '-', '-', '-', '-', '-', 'status unavailable'];
    return [
      s.cluster,
      s.policy ?? '-',
      s.schedule_status,
      shortTime(s.last_data_backup_at),
      delay(s),
      bytes(s.backup_size_bytes),
      s.running ? `${s.running.kind} ${percent(s.running.progress)}` : '-',
      s.next_runs[0] ? `${shortTime(s.next_runs[0].at)} ${s.next_runs[0].type}` : '-',
      s.alarms.length === 0 ? '-' : s.alarms.map((a) => a.name).join(', '),
    ];
  });
  io.out.write(table(['CLUSTER', 'POLICY', 'STATUS', 'LAST BACKUP (UTC)', 'LOG DELAY', 'SIZE', 'RUNNING', 'NEXT RUN (UTC)', 'ALARMS'], rows, io.out.columns));
  for (const s of statuses) if (s?.running) io.out.write(`\n${s.cluster}: ${runningLine(s.running)}\n`);
  return 0;
}

export function statusDetail(s: ClusterStatus, now = Date.now()): string {
  const lines: Array<[string, string]> = [];
  lines.push(['Cluster', `${s.cluster}${s.ob_version ? ` (OceanBase ${s.ob_version})` : ''}${s.reachable === false ? ` — cannot be read: ${s.error ?? 'unknown error'}` : ''}`]);
  lines.push(['Policy', s.policy ?? 'none']);
  lines.push(['Schedule status', `${s.schedule_status} — ${s.schedule_status_reason}`]);
  lines.push(['Last data backup', `${when(s.last_data_backup_at, now)}${s.last_data_backup ? ` (run ${s.last_data_backup.run_id}${s.last_data_backup.type ? `, ${s.last_data_backup.type}` : ''})` : ''}`]);
  lines.push(['Log backup delay', s.log_backup_delay_seconds === null ? '-' : `${duration(s.log_backup_delay_seconds)}${s.log_backup_checkpoint_at ? ` (archived up to ${when(s.log_backup_checkpoint_at, now)})` : ''}`]);
  if (s.log_archive.length > 0) {
    lines.push(['Log archive', s.log_archive.map((a) => `${a.tenant ?? 'cluster'} ${a.state}${a.comment ? ` (${a.comment})` : ''}`).join(', ')]);
  }
  lines.push(['Backup size', bytes(s.backup_size_bytes)]);
  lines.push(['Running', s.running ? runningLine(s.running) : 'nothing']);
  const next = s.next_runs.map((r) => `${when(r.at, now)} ${r.type}`);
  lines.push(['Next runs', next.length > 0 ? next[0]! : s.policy ? 'none (paused)' : 'none']);
  for (const n of next.slice(1)) lines.push(['', n]);
  const alarms = s.alarms.map((a) => `${a.severity.toUpperCase()} ${a.name} since ${shortTime(a.raised_at)}: ${a.message}`);
  lines.push(['Alarms', alarms.length > 0 ? alarms[0]! : 'none']);
  for (const a of alarms.slice(1)) lines.push(['', a]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return `${lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

// ------------------------------------------------------------------------------------------------ backup now

const ENDED = new Set(['succeeded', 'failed', 'canceled', 'skipped', 'missed']);

function runSummary(run: Run): string {
  const seconds = run.started_at && run.finished_at ? (new Date(run.finished_at).getTime() - new Date(run.started_at).getTime()) / 1000 : null;
  const what = `${run.type ?? ''} backup of ${run.cluster}`.trim();
  if (run.state === 'succeeded') {
    const sets = run.jobs.map((j) => `${j.tenant ? `${j.tenant}: ` : ''}backup set ${j.backup_set_id ?? '?'}`).join(', ');
    return `run ${run.id} succeeded: ${what}${sets ? ` (${sets})` : ''}, ${bytes(run.output_bytes)}${seconds !== null ? ` in ${duration(seconds)}` : ''}`;
  }
  return `run ${run.id} ${run.state}: ${what}${run.error ? `: ${run.error}` : run.reason ? `: ${run.reason}` : ''}`;
}

function currentStep(run: Run): string {
  const step = [...run.steps].reverse().find((s) => s.state === 'running') ?? run.steps[run.steps.length - 1];
  return step ? `${step.name}${step.message ? `: ${step.message}` : ''}` : run.state;
}

export async function backupNow(client: Client, io: Io, cluster: string, type: 'full' | 'incremental', wait: boolean, intervalMs: number): Promise<number> {
  const answer = await client.request<Run>('POST', `/v1/clusters/${enc(cluster)}/backups`, { type });
  if (answer.status !== 202 && answer.status !== 200 && answer.status !== 201) {
    const e = apiError(answer);
    throw new CliError(`backup of ${cluster} refused: ${e.message}`, 1);
  }
  let run = answer.body;
  if (!wait) {
    if (io.json) writeJson(io, run);
    else io.out.write(`run ${run.id} started: ${type} backup of ${cluster}. Follow it with: obbackup runs --cluster ${cluster}\n`);
    return 0;
  }
  if (!io.json) io.out.write(`run ${run.id}: ${type} backup of ${cluster}\n`);
  const tty = Boolean(io.out.isTTY) && !io.json;
  let lastLine = '';
  let stopped = false;
  const onSigint = () => {
    stopped = true;
  };
  process.once('SIGINT', onSigint);
  try {
    while (!ENDED.has(run.state)) {
      if (stopped) {
        if (tty) io.out.write('\n');
        io.err.write(`stopped waiting; run ${run.id} goes on in obbackupd (obbackup runs --cluster ${cluster})\n`);
        return 130;
      }
      if (!io.json) {
        const line = `${progressBar(run.progress)}  ${run.state}  ${currentStep(run)}`;
        if (tty) io.out.write(`\r${line.slice(0, (io.out.columns ?? 120) - 1).padEnd(Math.min(lastLine.length, (io.out.columns ?? 120) - 1))}`);
        else if (line !== lastLine) io.out.write(`${line}\n`);
        lastLine = line;
      }
      await io.sleep(intervalMs);
      const next = await client.request<Run>('GET', `/v1/runs/${run.id}`);
      if (next.status !== 200) throw apiError(next);
      run = next.body;
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (tty) io.out.write(`\r${progressBar(run.state === 'succeeded' ? 100 : run.progress)}  ${run.state}${' '.repeat(Math.max(0, lastLine.length - 40))}\n`);
  if (io.json) writeJson(io, run);
  else if (run.state === 'succeeded') io.out.write(`${runSummary(run)}\n`);
  else io.err.write(`${runSummary(run)}\n`);
  return run.state === 'succeeded' ? 0 : 1;
}

// ------------------------------------------------------------------------------------------------ runs, alarms

export interface RunsFilter {
  cluster?: string;
  kind?: string;
  state?: string;
  limit?: number;
}

export async function runs(client: Client, io: Io, filter: RunsFilter): Promise<number> {
  const q = new URLSearchParams();
  if (filter.cluster) q.set('cluster', filter.cluster);
  if (filter.kind) q.set('kind', filter.kind);
  if (filter.state) q.set('state', filter.state);
  q.set('limit', String(filter.limit ?? 20));
  const page = await client.get<{ items: Run[] }>(`/v1/runs?${q}`);
  if (io.json) {
    writeJson(io, page);
    return 0;
  }
  if (page.items.length === 0) {
    io.out.write('No runs yet.\n');
    return 0;
  }
  const rows = page.items.map((r) => [
    String(r.id),
    r.kind,
    r.type ?? '-',
    r.cluster,
    r.trigger,
    r.state,
    r.state === 'running' ? percent(r.progress) : r.state === 'succeeded' ? '100%' : '-',
    shortTime(r.scheduled_at),
    shortTime(r.finished_at),
    r.error ?? r.reason ?? (r.state === 'running' ? currentStep(r) : ''),
  ]);
  io.out.write(table(['ID', 'KIND', 'TYPE', 'CLUSTER', 'TRIGGER', 'STATE', 'PROGRESS', 'SCHEDULED (UTC)', 'FINISHED', 'NOTE'], rows, io.out.columns));
  return 0;
}

export async function alarms(client: Client, io: Io, options: { all: boolean; cluster?: string; limit?: number }): Promise<number> {
  const q = new URLSearchParams();
  if (!options.all) q.set('state', 'active');
  if (options.cluster) q.set('cluster', options.cluster);
  q.set('limit', String(options.limit ?? 50));
  const page = await client.get<{ items: Alarm[] }>(`/v1/alarms?${q}`);
  if (io.json) {
    writeJson(io, page);
    return 0;
  }
  if (page.items.length === 0) {
    io.out.write(options.all ? 'No alarms have been raised.\n' : 'No active alarms.\n');
    return 0;
  }
  const rows = page.items.map((a) => [
    String(a.id),
    a.state,
    a.severity,
    a.name,
    a.storage ? `storage ${a.storage}` : (a.cluster ?? '-'),
    shortTime(a.raised_at),
    shortTime(a.resolved_at),
    a.message,
  ]);
  io.out.write(table(['ID', 'STATE', 'SEVERITY', 'ALARM', 'WHERE', 'RAISED (UTC)', 'RESOLVED', 'MESSAGE'], rows, io.out.columns));
  return 0;
}
