// terraform-provider-obbackup: start-up and plan cost, measured side by side in the same run.
//   1. spawn-to-handshake of the bundled provider next to bare `node -e` printing one line (goal <= 2.0x,
//      stretch 1.5x);
//   2. `terraform plan` (refresh on, no changes) of 100 policies next to the same plan of 1 policy
//      (goal <= 1.3x), against a real obbackupd (in-process, SQLite);
//   3. the plan of 100 policies next to a plan of 100 `terraform_data` resources (reported).
// Runs are interleaved so machine load hits every variant alike; medians are reported.
//
//   npx tsx bench/provider.ts [--runs 7] [--spawns 21]
import { spawn } from 'node:child_process';
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
    workspaces.push(one, data);
    many.write(policiesConfig(100));
    data.write(dataConfig(100));
    for (const tf of [many, data]) {
      const init = await tf.run(['init']);
      if (init.code !== 0) throw new Error(init.stderr);
    }
    const applyMany = await many.run(['apply', '-auto-approve', '-parallelism=20']);
    if (applyMany.code !== 0) throw new Error(applyMany.stderr);
    console.log(`apply of 100 clusters + 100 policies + 1 storage: ${(applyMany.ms / 1000).toFixed(1)} s`);
    // The 1-policy workspace uses its own names so both live in the same daemon.
    one.write(policiesConfig(1).replaceAll('cluster-${count.index}', 'solo-cluster').replaceAll('policy-${count.index}', 'solo-policy').replaceAll('nfs_main', 'nfs_solo'));
    if ((await one.run(['init'])).code !== 0) throw new Error('init failed');
    const applyOne = await one.run(['apply', '-auto-approve']);
    if (applyOne.code !== 0) throw new Error(applyOne.stderr);
    const applyData = await data.run(['apply', '-auto-approve']);
    if (applyData.code !== 0) throw new Error(applyData.stderr);

    const t100: number[] = [];
    const t1: number[] = [];
    const tData: number[] = [];
    for (let i = 0; i < runs; i++) {
      t1.push(await plan(one));
      t100.push(await plan(many));
      tData.push(await plan(data));
    }
    const planRatio = median(t100) / median(t1);
    const dataRatio = median(t100) / median(tData);
    console.log(`terraform plan, 100 policies: ${median(t100).toFixed(0)} ms; 1 policy: ${median(t1).toFixed(0)} ms -> ${planRatio.toFixed(2)}x (goal <= 1.3x)`);
    console.log(`terraform plan, 100 policies vs 100 terraform_data (${median(tData).toFixed(0)} ms): ${dataRatio.toFixed(2)}x`);
    return {
      spawn_ms: { provider: median(provider), bare_node: median(bare), ratio: spawnRatio },
      plan_ms: { policies_100: median(t100), policies_1: median(t1), terraform_data_100: median(tData), ratio_100_vs_1: planRatio, ratio_vs_terraform_data: dataRatio },
    };
  } finally {
    for (const tf of workspaces) tf.cleanup();
    await daemon.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(process.argv.slice(2));
}
