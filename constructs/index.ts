/**
 * obbackup CDKTF constructs: OceanBase backup policies as code.
 *
 *   new ObBackupProvider(stack, 'obbackup');
 *   const password = new TerraformVariable(stack, 'ob_password', { type: 'string', sensitive: true });
 *   const cluster = new ObCluster(stack, 'prod', { host: '10.0.0.1', password: password.stringValue });
 *   const nfs = BackupStorage.file(stack, 'nfs', { path: '/backup' });
 *   new BackupPolicy(stack, 'nightly', { cluster, storage: nfs, schedule: Schedule.weekly() });
 */
export * as bindings from './bindings/index.js';
export { ObCluster, type ObClusterProps } from './cluster.js';
export {
  BackupPolicy,
  type AlarmOptions,
  type BackupMode,
  type BackupPolicyProps,
  type LogArchiveOptions,
  type RetentionOptions,
  type SecondaryBackupOptions,
} from './policy.js';
export { ObBackupProvider, type ObBackupProviderProps } from './provider.js';
export {
  Schedule,
  type MonthlyScheduleOptions,
  type ScheduleDay,
  type ScheduleTimeOptions,
  type Weekday,
  type WeeklyScheduleOptions,
} from './schedule.js';
export { BackupStorage, type FileStorageProps, type OssStorageProps } from './storage.js';
