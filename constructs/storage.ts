import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { StorageInput } from '../model/index.js';
import { Storage } from './bindings/storage/index.js';
import { validateWithModel } from './validation.js';

interface CommonStorageProps {
  /**
   * Storage configuration name (a letter, then 2-32 letters, digits or '_'; no '-').
   * @default the construct id
   */
  readonly name?: string;
  /**
   * Usage (percent) above which obbackupd raises a capacity alarm and backups stop starting.
   * @default 80
   */
  readonly capacityAlarmThreshold?: number;
  /**
   * Provider configuration to use.
   * @default the stack's default obbackup provider
   */
  readonly provider?: TerraformProvider;
}

export interface FileStorageProps extends CommonStorageProps {
  /** Absolute directory, mounted on every OBServer (NFS) and on the obbackupd host. */
  readonly path: string;
}

export interface OssStorageProps extends CommonStorageProps {
  /** OSS bucket name. */
  readonly bucket: string;
  /**
   * Object key prefix inside the bucket.
   * @default the bucket root
   */
  readonly prefix?: string;
  /** OSS endpoint, e.g. 'oss-cn-hangzhou.aliyuncs.com' or 'http://127.0.0.1:9000'. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  /**
   * Write-only in obbackupd; pass a sensitive TerraformVariable rather than a literal so it is not
   * written into the synthesized configuration.
   */
  readonly accessKeySecret: string;
}

/**
 * Where backups go (OCP's storage configuration): a file path or an OSS bucket. obbackupd tests it
 * (write, read, list, delete a probe object) when it is created or changed.
 */
export class BackupStorage extends Construct {
  /** A directory (NFS) storage. */
  public static file(scope: Construct, id: string, props: FileStorageProps): BackupStorage {
    return new BackupStorage(scope, id, { type: 'file', path: props.path, capacity_alarm_threshold: props.capacityAlarmThreshold }, props);
  }

  /** An OSS bucket storage. */
  public static oss(scope: Construct, id: string, props: OssStorageProps): BackupStorage {
    const path = props.prefix ? `${props.bucket}/${props.prefix}` : props.bucket;
    return new BackupStorage(
      scope,
      id,
      {
        type: 'oss',
        path,
        capacity_alarm_threshold: props.capacityAlarmThreshold,
        endpoint: props.endpoint,
        access_key_id: props.accessKeyId,
        access_key_secret: props.accessKeySecret,
      },
      props,
    );
  }

  /** The storage name as given (a token when it is only known at deploy time). */
  public readonly name: string;
  public readonly type: 'file' | 'oss';
  /** The generated `obbackup_storage` resource, for attributes and escape hatches. */
  public readonly resource: Storage;

  private constructor(scope: Construct, id: string, spec: Omit<StorageInput, 'name'>, common: CommonStorageProps) {
    super(scope, id);
    this.name = common.name ?? id;
    this.type = spec.type;
    this.resource = new Storage(this, 'Default', {
      name: this.name,
      type: spec.type,
      path: spec.path,
      capacityAlarmThreshold: spec.capacity_alarm_threshold,
      endpoint: spec.endpoint,
      accessKeyId: spec.access_key_id,
      accessKeySecret: spec.access_key_secret,
      provider: common.provider,
    });
    const full: StorageInput = { name: this.name, ...spec };
    validateWithModel(this, 'storage', () => full as Record<string, unknown>);
  }

  /** A reference to the registered name: using it makes Terraform create the storage first. */
  public get nameRef(): string {
    return this.resource.name;
  }
}
