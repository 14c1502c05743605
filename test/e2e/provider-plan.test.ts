// Plan-time behaviour with the real terraform binary: model validation errors at the attribute (same
// messages as the API), and a create plan showing defaults and the policy's next runs. Planning a create
// does not contact obbackupd, so no daemon runs here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTerraformWorkspace, providerBlock } from '../support/terraform.js';
import type { TerraformWorkspace } from '../support/terraform.js';

let tf: TerraformWorkspace;

beforeAll(async () => {
  // An endpoint nobody listens on: any daemon call would fail the test.
  tf = await createTerraformWorkspace({ OBBACKUP_ENDPOINT: 'http://127.0.0.1:9', OBBACKUP_TOKEN: 'unused' });
  tf.write(`${providerBlock}provider "obbackup" {}\n`);
  const init = await tf.run(['init']);
  expect(init.code).toBe(0);
}, 120_000);

afterAll(() => tf?.cleanup());

const weekly = `{ period = "weekly", time = "02:00", days = [{ day = 1, type = "full" }, { day = 3, type = "incremental" }] }`;

describe('plan-time validation through model/', () => {
  // [resource address, HCL body, attribute line fragment, message]
  const cases: [string, string, string, string][] = [
    [
      'obbackup_policy.monthly_eleven',
      `name = "p1"\n  cluster = "c1"\n  storage = "s1"\n  schedule = { period = "monthly", time = "01:00", days = [for d in range(1, 12) : { day = d, type = "full" }] }`,
      'schedule = {',
      'a monthly schedule may select at most 10 days, got 11',
    ],
    [
      'obbackup_policy.logical_incremental',
      `name = "p2"\n  cluster = "c2"\n  storage = "s1"\n  mode = "logical"\n  schedule = ${weekly}`,
      'schedule = {',
      'a logical backup supports only full backups',
    ],
    [
      'obbackup_policy.secondary_same',
      `name = "p3"\n  cluster = "c3"\n  storage = "s1"\n  schedule = ${weekly}\n  secondary = { enabled = true, storage = "s1", retention_days = 30, schedule = ${weekly} }`,
      'secondary = {',
      'must differ from the primary storage "s1"',
    ],
    [
      'obbackup_policy.no_archive',
      `name = "p4"\n  cluster = "c4"\n  storage = "s1"\n  schedule = ${weekly}\n  log_archive = { enabled = false }`,
      'log_archive = {',
      'log archiving cannot be turned off for a physical backup',
    ],
    [
      'obbackup_policy.day_eight',
      `name = "p5"\n  cluster = "c5"\n  storage = "s1"\n  schedule = { period = "weekly", time = "02:00", days = [{ day = 8, type = "full" }] }`,
      'schedule = {',
      'must be a weekday 1-7 (1 = Monday, 7 = Sunday)',
    ],
    [
      'obbackup_policy.bad_time',
      `name = "p6"\n  cluster = "c6"\n  storage = "s1"\n  schedule = { period = "weekly", time = "25:00", days = [{ day = 1, type = "full" }] }`,
      'schedule = {',
      'must be a time of day as HH:MM (00:00-23:59)',
    ],
    [
      'obbackup_policy.bad_zone',
      `name = "p7"\n  cluster = "c7"\n  storage = "s1"\n  schedule = { period = "weekly", time = "02:00", timezone = "Mars/Olympus", days = [{ day = 1, type = "full" }] }`,
      'schedule = {',
      'must be an IANA time zone such as "UTC" or "Asia/Shanghai"',
    ],
    [
      'obbackup_policy.secondary_no_schedule',
      `name = "p8"\n  cluster = "c8"\n  storage = "s1"\n  schedule = ${weekly}\n  secondary = { enabled = true, storage = "s2", retention_days = 30 }`,
      'secondary = {',
      'is required when secondary backup is enabled',
    ],
    [
      'obbackup_policy.zero_retention',
      `name = "p9"\n  cluster = "c9"\n  storage = "s1"\n  schedule = ${weekly}\n  cleanup = { enabled = true, retention_days = 0 }`,
      'cleanup = {',
      'must be 1-3650 days',
    ],
    ['obbackup_storage.bad_name', `name = "1bad"\n  type = "file"\n  path = "/backup"`, 'name = "1bad"', 'must start with a letter and contain 2-32 letters, digits or underscores'],
    ['obbackup_storage.bad_type', `name = "s_type"\n  type = "s3"\n  path = "/backup"`, 'type = "s3"', 'must be "file" or "oss"'],
    ['obbackup_storage.oss_no_endpoint', `name = "s_oss"\n  type = "oss"\n  path = "bucket/prefix"\n  access_key_id = "id"\n  access_key_secret = "secret"`, 'resource "obbackup_storage" "oss_no_endpoint"', 'is required for oss storage'],
    ['obbackup_cluster.bad_port', `name = "c_port"\n  host = "10.0.0.1"\n  port = 70000\n  password = "pw"`, 'port = 70000', 'must be 1-65535'],
    ['obbackup_backup.bad_type', `cluster = "c1"\n  type = "differential"`, 'type = "differential"', 'must be "full" or "incremental"'],
  ];

  it(`reports all ${cases.length} invalid configurations in one plan, each at its attribute`, async () => {
    const body = cases
      .map(([address, hcl]) => {
        const [type, name] = address.split('.');
        return `resource "${type}" "${name}" {\n  ${hcl}\n}\n`;
      })
      .join('\n');
    tf.write(`${providerBlock}provider "obbackup" {}\n\n${body}`);
    const plan = await tf.run(['plan']);
    expect(plan.code).toBe(1);
    // One diagnostic block per case: "Error: …", "with ADDRESS,", the config line, then the message.
    const blocks = plan.stderr.split(/\n(?=Error: )/).filter((b) => b.startsWith('Error: '));
    for (const [address, , line, message] of cases) {
      const block = blocks.find((b) => b.includes(`with ${address},`) && b.includes(message));
      expect(block, `${address}: ${message}\n--- stderr ---\n${plan.stderr}`).toBeDefined();
      expect(block).toContain(line);
    }
    expect(plan.stderr).not.toMatch(/panic|Stack|at .*\.ts:\d+/);
  }, 60_000);
});

describe('a valid create plan', () => {
  it('shows defaults from model/, the next runs, and no secret', async () => {
    tf.write(`${providerBlock}provider "obbackup" {}

resource "obbackup_cluster" "prod" {
  name     = "prod-ob4"
  host     = "10.0.0.1"
  password = "pw-not-shown"
}

resource "obbackup_storage" "nfs" {
  name = "nfs_main"
  type = "file"
  path = "/backup"
}

resource "obbackup_policy" "nightly" {
  name    = "nightly"
  cluster = obbackup_cluster.prod.name
  storage = obbackup_storage.nfs.name
  schedule = {
    period   = "weekly"
    time     = "02:00"
    timezone = "Asia/Shanghai"
    days     = [{ day = 1, type = "full" }, { day = 3, type = "incremental" }]
  }
}
`);
    const plan = await tf.run(['plan']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');
    expect(plan.stdout).not.toContain('pw-not-shown');
    expect(plan.stdout).toMatch(/password\s+= \(write-only attribute\)/);
    expect(plan.stdout).toMatch(/port\s+= 2881/);
    expect(plan.stdout).toMatch(/user\s+= "root@sys"/);
    expect(plan.stdout).toMatch(/catch_up\s+= "once"/);
    expect(plan.stdout).toMatch(/retention_days\s+= 7/);
    // next runs: Monday and Wednesday 02:00 in Shanghai = 18:00 UTC the day before (Sunday, Tuesday).
    const runs = [...plan.stdout.matchAll(/\+ at\s+= "(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"\s*\n\s*\+ type\s+= "(full|incremental)"/g)];
    expect(runs.length).toBe(5);
    for (const [, at, type] of runs) {
      const d = new Date(at);
      expect(d.getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(d.getUTCHours()).toBe(18);
      expect(d.getUTCDay() === 0 ? 'full' : d.getUTCDay() === 2 ? 'incremental' : 'other').toBe(type);
    }
  }, 60_000);
});
