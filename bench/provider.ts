// terraform-provider-obbackup: start-up and plan cost, measured side by side in the same run.
//   1. spawn-to-handshake of the bundled provider next to bare `node -e` printing one line (goal <= 2.0x,
//      stretch 1.5x);
//   2. `terraform plan` (refresh on, no changes) of 100 policies next to the same plan of 1 policy
//      (goal <= 1.3x), against a real obbackupd (in-process, SQLite);
//   3. the plan of 100 policies next to plans of `terraform_data` resources (reported): the same graph
//      (1 + 100 + 100 objects, each policy-like object referring to its cluster-like one and the storage),
//      and the literal 100 `terraform_data` resources;
//   4. where the time of both policy plans goes (reported): CPU of terraform itself, of the provider
//      processes (all launches of a plan) and of the in-process daemon, from extra instrumented runs.
// Runs are interleaved so machine load hits every variant alike; medians are reported.
//
//   npx tsx bench/provider.ts [--runs 7] [--spawns 21]
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../provider/plugin/serve.js';
import { startTestDaemon } from '../test/support/daemon.js';
import { createTerraformWorkspace, providerBlock } from '../test/support/terraform.js';
import type { TerraformWorkspace } from '../test/support/terraform.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Milliseconds from spawn until the first stdout line; the process is then ended. */
function timeFirstLine(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        const ms = performance.now() - started;
        child.kill('SIGTERM');
        resolve(ms);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`${command} exited ${code} without a line`));
    });
  });
}

function policiesConfig(n: number): string {
  let hcl = `${providerBlock}provider "obbackup" {}\n\nresource "obbackup_storage" "nfs" {\n  name = "nfs_main"\n  type = "file"\n  path = "/backup"\n}\n`;
  hcl += `
resource "obbackup_cluster" "c" {
  count    = ${n}
  name     = "cluster-\${count.index}"
  host     = "10.0.0.1"
  password = "pw"
}

resource "obbackup_policy" "p" {
  count   = ${n}
  name    = "policy-\${count.index}"
  cluster = obbackup_cluster.c[count.index].name
  storage = obbackup_storage.nfs.name
  schedule = {
    period = "weekly"
    time   = "02:00"
    days   = [{ day = 1, type = "full" }, { day = 4, type = "incremental" }]
  }
}
`;
  return hcl;
}

const dataConfig = (n: number) => `resource "terraform_data" "d" {\n  count = ${n}\n  input = "value-\${count.index}"\n}\n`;

/** The policies' graph built from terraform_data: 1 + n + n objects with the same references. */
const dataGraphConfig = (n: number) => `
resource "terraform_data" "storage" {
  input = "nfs_main"
}

resource "terraform_data" "cluster" {
  count = ${n}
  input = { name = "cluster-\${count.index}", host = "10.0.0.1" }
}

resource "terraform_data" "policy" {
  count = ${n}
  input = {
    name     = "policy-\${count.index}"
    cluster  = terraform_data.cluster[count.index].output.name
    storage  = terraform_data.storage.output
    schedule = { period = "weekly", time = "02:00", days = [{ day = 1, type = "full" }, { day = 4, type = "incremental" }] }
  }
}
`;

interface CpuSplit {
  wall: number;
  terraform: number;
  provider: number;
  daemon: number;
}

/** `sh`'s `times`: "0m1.230000s 0m0.040000s" (user, system) to milliseconds. */
function shTimes(line: string): number {
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((ms, m) => ms + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
}

/**
 * One plan with its CPU split: terraform and everything it waited for (sh's `times`), the provider
 * processes (a preloaded script adds each one's CPU to a file at exit; Terraform passes its environment
 * on), and this process, which hosts the daemon, during the plan.
 */
async function planCpu(tf: TerraformWorkspace): Promise<CpuSplit> {
  const cpuFile = join(tf.root, 'provider-cpu.txt');
  const preload = join(tf.root, 'provider-cpu.cjs');
  writeFileSync(preload, `process.on('exit', () => { const u = process.cpuUsage(); require('fs').appendFileSync(${JSON.stringify(cpuFile)}, String((u.user + u.system) / 1000) + '\\n'); });\n`);
  rmSync(cpuFile, { force: true });
  const env = { ...tf.env, NODE_OPTIONS: `${tf.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() };
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    const child = spawn('sh', ['-c', 'terraform plan -no-color -detailed-exitcode >/dev/null; code=$?; times >&2; exit $code'], { cwd: tf.workdir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? -1, stderr: err }));
  });
  const wall = performance.now() - started;
  const own = process.cpuUsage(ownBefore);
  if (code !== 0) throw new Error(`instrumented plan was not empty (exit ${code}): ${stderr.slice(-500)}`);
  const children = shTimes(stderr.trim().split('\n').at(-1) ?? '');
  const provider = readFileSync(cpuFile, 'utf8').trim().split('\n').reduce((sum, l) => sum + Number(l), 0);
  return { wall, terraform: children - provider, provider, daemon: (own.user + own.system) / 1000 };
}

function medianSplit(runs: CpuSplit[]): CpuSplit {
  return { wall: median(runs.map((r) => r.wall)), terraform: median(runs.map((r) => r.terraform)), provider: median(runs.map((r) => r.provider)), daemon: median(runs.map((r) => r.daemon)) };
}

const describeSplit = (s: CpuSplit) =>
  `wall ${s.wall.toFixed(0)} ms; CPU terraform ${s.terraform.toFixed(0)} ms, provider ${s.provider.toFixed(0)} ms, daemon ${s.daemon.toFixed(0)} ms`;

async function plan(tf: TerraformWorkspace): Promise<number> {
  const r = await tf.run(['plan', '-detailed-exitcode']);
  if (r.code !== 0) throw new Error(`plan was not empty (exit ${r.code}): ${r.stderr || r.stdout.slice(-500)}`);
  return r.ms;
}

export async function run(argv: string[] = []) {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string' }, spawns: { type: 'string' } } });
  const runs = Number(values.runs ?? 7);
  const spawns = Number(values.spawns ?? 21);

  const daemon = await startTestDaemon('sqlite', { logLevel: 'warn' });
  const env = { OBBACKUP_ENDPOINT: daemon.url, OBBACKUP_TOKEN: daemon.token };
  const many = await createTerraformWorkspace(env);
  const workspaces: TerraformWorkspace[] = [many];
  try {
    // 1. spawn to handshake
    const pluginEnv = { ...process.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '6' };
    const bare: number[] = [];
    const provider: number[] = [];
    for (let i = 0; i < spawns; i++) {
      bare.push(await timeFirstLine(process.execPath, ['-e', 'console.log("1|6|unix|/tmp/x|grpc")'], process.env));
      provider.push(await timeFirstLine(many.pkg.executable, [], pluginEnv));
    }
    const spawnRatio = median(provider) / median(bare);
    console.log(`spawn to handshake (median of ${spawns}): provider ${median(provider).toFixed(0)} ms, bare node -e ${median(bare).toFixed(0)} ms -> ${spawnRatio.toFixed(2)}x (goal <= 2.0x, stretch 1.5x)`);

    // 2 and 3: plans with state, no changes
    const one = await createTerraformWorkspace(env);
    const data = await createTerraformWorkspace(env);
    const graph = await createTerraformWorkspace(env);
    workspaces.push(one, data, graph);
    many.write(policiesConfig(100));
    data.write(dataConfig(100));
    graph.write(dataGraphConfig(100));
    for (const tf of [many, data, graph]) {
      const init = await tf.run(['init']);
      if (init.code !== 0) throw new Error(init.stderr);
    }
    const applyMany = await many.run(['apply', '-auto-approve', '-parallelism=20']);
    if (applyMany.code !== 0) throw new Error(applyMany.stderr);
    console.log(`apply of 100 clusters + 100 policies + 1 storage: ${(applyMany.ms / 1000).toFixed(1)} s`);
    // The 1-policy workspace uses its own names so both live in the same daemon.
    one.write(policiesConfig(1).replaceAll('cluster-${count.index}', 'solo-cluster').replaceAll('policy-${count.index}', 'solo-policy').replaceAll('nfs_main', 'nfs_solo'));
    if ((await one.run(['init'])).code !== 0) throw new Error('init failed');
    for (const tf of [one, data, graph]) {
      const apply = await tf.run(['apply', '-auto-approve']);
      if (apply.code !== 0) throw new Error(apply.stderr);
    }

    const t100: number[] = [];
    const t1: number[] = [];
    const tData: number[] = [];
    const tGraph: number[] = [];
    for (let i = 0; i < runs; i++) {
      t1.push(await plan(one));
      t100.push(await plan(many));
      tData.push(await plan(data));
      tGraph.push(await plan(graph));
    }
    const planRatio = median(t100) / median(t1);
    const dataRatio = median(t100) / median(tData);
    const graphRatio = median(t100) / median(tGraph);
    console.log(`terraform plan, 100 policies: ${median(t100).toFixed(0)} ms; 1 policy: ${median(t1).toFixed(0)} ms -> ${planRatio.toFixed(2)}x (goal <= 1.3x)`);
    console.log(`terraform plan, 100 policies vs the same graph of 201 terraform_data (${median(tGraph).toFixed(0)} ms): ${graphRatio.toFixed(2)}x`);
    console.log(`terraform plan, 100 policies vs 100 terraform_data (${median(tData).toFixed(0)} ms): ${dataRatio.toFixed(2)}x`);

    // 4. CPU split, from separate instrumented runs (interleaved, medians)
    const cpu1: CpuSplit[] = [];
    const cpu100: CpuSplit[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
      cpu1.push(await planCpu(one));
      cpu100.push(await planCpu(many));
    }
    const split1 = medianSplit(cpu1);
    const split100 = medianSplit(cpu100);
    console.log(`where the time goes, 1 policy:    ${describeSplit(split1)}`);
    console.log(`where the time goes, 100 policies: ${describeSplit(split100)}`);
    return {
      spawn_ms: { provider: median(provider), bare_node: median(bare), ratio: spawnRatio },
      plan_ms: {
        policies_100: median(t100),
        policies_1: median(t1),
        terraform_data_100: median(tData),
        terraform_data_graph_201: median(tGraph),
        ratio_100_vs_1: planRatio,
        ratio_vs_terraform_data: dataRatio,
        ratio_vs_terraform_data_graph: graphRatio,
      },
      cpu_ms: { policies_1: split1, policies_100: split100 },
    };
  } finally {
    for (const tf of workspaces) tf.cleanup();
    await daemon.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(process.argv.slice(2));
}
