import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { ClusterInput } from '../model/index.js';
import { Cluster } from './bindings/cluster/index.js';
import { validateWithModel } from './validation.js';

export interface ObClusterProps {
  /**
   * Cluster name: the identity in obbackupd and for `terraform import` (a letter, then 2-63 letters,
   * digits, '-' or '_').
   * @default the construct id
   */
  readonly name?: string;
  /** Host name or IP address of an OBServer (or OBProxy) of the cluster. */
  readonly host: string;
  /**
   * MySQL protocol port.
   * @default 2881
   */
  readonly port?: number;
  /**
   * User of the sys tenant.
   * @default 'root@sys'
   */
  readonly user?: string;
  /**
   * Password of `user`. Write-only in obbackupd; pass a sensitive TerraformVariable rather than a literal
   * so it is not written into the synthesized configuration.
   */
  readonly password: string;
  /**
   * 4.x: the tenants to back up.
   * @default every user tenant of the cluster
   */
  readonly tenants?: string[];
  /**
   * Provider configuration to use.
   * @default the stack's default obbackup provider
   */
  readonly provider?: TerraformProvider;
}

/** An OceanBase cluster (3.x or 4.x) registered with obbackupd through its sys tenant. */
export class ObCluster extends Construct {
  /** The cluster name as given (a token when it is only known at deploy time). */
  public readonly name: string;
  /** The generated `obbackup_cluster` resource, for attributes and escape hatches. */
  public readonly resource: Cluster;

  public constructor(scope: Construct, id: string, props: ObClusterProps) {
    super(scope, id);
    this.name = props.name ?? id;
    // The contract's cluster fields have the same names in camelCase, so one object serves both.
    const spec: ClusterInput = {
      name: this.name,
      host: props.host,
      port: props.port,
      user: props.user,
      password: props.password,
      tenants: props.tenants,
    };
    // Child id "Default" keeps the Terraform address short: obbackup_cluster.<id>.
    this.resource = new Cluster(this, 'Default', { ...spec, name: this.name, provider: props.provider });
    validateWithModel(this, 'cluster', () => spec as Record<string, unknown>);
  }

  /** A reference to the registered name: using it makes Terraform create the cluster first. */
  public get nameRef(): string {
    return this.resource.name;
  }
}
