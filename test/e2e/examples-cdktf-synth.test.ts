// `cdktf synth` of each example from a copy outside the repository, as a user runs it: telemetry and
// update checks off, inside a network namespace with only loopback where the machine allows one. The
// stack it writes equals the in-process synthesis the unit snapshots cover.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { cdktfEnv, copyExample, EXAMPLES, exampleStack, offlinePrefix, runCdktf } from '../support/example-app.js';

// Settings the examples read, cleared so the CLI run uses the same defaults as the in-process one.
const EXAMPLE_SETTINGS = /^(OBBACKUP_ENDPOINT|OB_|OSS_|BACKUP_DIR)/;

/** Key-sorted, without cdktf's "//" metadata and the local backend (it holds this machine's path). */
function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value)
    .filter(([k]) => k !== '//' && k !== 'backend')
    .sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(entries.map(([k, v]) => [k, comparable(v)]));
}

describe('examples synth with the cdktf CLI', () => {
  const prefix = offlinePrefix();

  it.each(EXAMPLES)('%s', async (name) => {
    const copy = copyExample(name);
    try {
      const env = Object.fromEntries(Object.entries(cdktfEnv(copy.dir)).filter(([k]) => !EXAMPLE_SETTINGS.test(k)));
      const run = await runCdktf(copy.dir, ['synth'], env, prefix);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`Generated Terraform code for the stacks: ${name}`);
      const written = JSON.parse(readFileSync(join(copy.dir, 'cdktf.out', 'stacks', name, 'cdk.tf.json'), 'utf8'));
      expect(written.terraform.backend.local).toBeDefined();
      expect(comparable(written)).toEqual(comparable(JSON.parse(Testing.synth(exampleStack(name)))));
    } finally {
      copy.remove();
    }
  }, 120_000);
});
