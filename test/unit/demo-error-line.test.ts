// The demo reports a failed `cdktf deploy` as one line taken from Terraform's error block.
import { describe, expect, it } from 'vitest';
import { firstErrorLine } from '../../cli/demo.js';

describe('firstErrorLine', () => {
  it('reads cdktf CI output: stack-name prefix, source lines, wrapped detail', () => {
    const output = [
      'quickstart  obbackup_cluster.cluster (cluster/Default): Refreshing state... [name=quickstart-ob4]',
      'quickstart  Error: Cannot reach obbackupd',
      '',
      '              with obbackup_cluster.cluster (cluster/Default),',
      '              on cdk.tf.json line 43, in resource.obbackup_cluster.cluster (cluster/Default):',
      '              43:       }',
      '',
      '            cannot reach obbackupd at http://127.0.0.1:1: bad port. Check that the daemon',
      '            is running and that `endpoint` (or OBBACKUP_ENDPOINT) points at it.',
      '',
      '            Error: Cannot reach obbackupd',
      '0 Stacks deploying     1 Stack done     0 Stacks waiting',
    ].join('\n');
    expect(firstErrorLine(output)).toBe(
      'Cannot reach obbackupd: cannot reach obbackupd at http://127.0.0.1:1: bad port. Check that the daemon is running and that `endpoint` (or OBBACKUP_ENDPOINT) points at it.',
    );
  });

  it('reads terraform box output with colours', () => {
    const output = '\x1b[31m╷\x1b[0m\n│ \x1b[1mError: \x1b[0mInvalid value\n│ \n│   with obbackup_policy.p,\n│   on main.tf line 3:\n│    3: x\n│ \n│ schedule.days: a monthly schedule may select\n│ at most 10 days, got 11\n╵\n';
    expect(firstErrorLine(output)).toBe('Invalid value: schedule.days: a monthly schedule may select at most 10 days, got 11');
  });

  it('gives a summary without detail as is, and nothing when there is no error', () => {
    expect(firstErrorLine('stack  Error: Backend initialization required\n')).toBe('Backend initialization required');
    expect(firstErrorLine('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.\n')).toBeUndefined();
  });

  it('cuts a very long detail', () => {
    const line = firstErrorLine(`Error: x\n\n${'y'.repeat(1000)}\n`)!;
    expect(line.length).toBe(400);
    expect(line.endsWith('...')).toBe(true);
  });
});
