import type { Construct } from 'constructs';
import { ObbackupProvider } from './bindings/provider/index.js';

export interface ObBackupProviderProps {
  /**
   * URL of obbackupd, e.g. 'http://127.0.0.1:7788'.
   * @default OBBACKUP_ENDPOINT in the environment of `terraform` / `cdktf deploy`, else 'http://127.0.0.1:7788'
   */
  readonly endpoint?: string;
  /**
   * API bearer token. A value given here is written into the synthesized configuration; prefer the
   * environment variable or a sensitive TerraformVariable.
   * @default OBBACKUP_TOKEN in the environment of `terraform` / `cdktf deploy`
   */
  readonly token?: string;
  /**
   * Alias, to use several obbackupd daemons in one stack (pass the provider to each construct).
   * @default no alias (the default provider configuration)
   */
  readonly alias?: string;
}

/**
 * The obbackup Terraform provider (`obbackup.local/oceanbase/obbackup`), talking to one obbackupd.
 * Every stack with obbackup constructs needs one.
 */
export class ObBackupProvider extends ObbackupProvider {
  public constructor(scope: Construct, id: string, props: ObBackupProviderProps = {}) {
    super(scope, id, { endpoint: props.endpoint, token: props.token, alias: props.alias });
  }
}
