// Parameters the simulator knows, with their defaults. Cluster-level ones apply to the whole cluster;
// tenant-level ones (4.x) are kept per tenant.

export interface ParamSpec {
  name: string;
  def: string;
  scope: 'CLUSTER' | 'TENANT';
  section: string;
  info: string;
  dataType?: string;
}

const p = (name: string, def: string, scope: 'CLUSTER' | 'TENANT', section: string, info: string, dataType = 'STRING'): ParamSpec => ({ name, def, scope, section, info, dataType });

export const COMMON_PARAMS: ParamSpec[] = [
  p('cluster', 'obcluster', 'CLUSTER', 'OBSERVER', 'Name of the cluster'),
  p('cluster_id', '1', 'CLUSTER', 'OBSERVER', 'ID of the cluster', 'INT'),
  p('min_observer_version', '', 'CLUSTER', 'ROOT_SERVICE', 'the min observer version'),
  p('enable_upgrade_mode', 'False', 'CLUSTER', 'OBSERVER', 'specifies whether upgrade mode is turned on', 'BOOL'),
  p('memory_limit', '0M', 'CLUSTER', 'OBSERVER', 'the size of the memory reserved for internal use', 'CAPACITY'),
  p('syslog_level', 'WDIAG', 'CLUSTER', 'OBSERVER', 'specifies the current level of logging'),
];

export const OB3_PARAMS: ParamSpec[] = [
  p('backup_dest', '', 'CLUSTER', 'OBSERVER', 'backup dest'),
  p('backup_dest_option', '', 'CLUSTER', 'OBSERVER', 'backup dest option'),
  p('backup_backup_dest', '', 'CLUSTER', 'OBSERVER', 'backup backup dest'),
  p('backup_backup_dest_option', '', 'CLUSTER', 'OBSERVER', 'backup backup dest option'),
  p('backup_log_archive_option', 'OPTIONAL COMPRESSION=ENABLE', 'CLUSTER', 'OBSERVER', 'backup log archive option, support MANDATORY/OPTIONAL, COMPRESSION'),
  p('backup_recovery_window', '0', 'CLUSTER', 'OBSERVER', 'backup expired day limit, 0 means not expired', 'TIME'),
  p('auto_delete_expired_backup', 'False', 'CLUSTER', 'OBSERVER', 'control if auto delete expired backup', 'BOOL'),
  p('log_archive_checkpoint_interval', '120s', 'CLUSTER', 'OBSERVER', 'control interval of generating log archive checkpoint for cold partition', 'TIME'),
  p('backup_concurrency', '0', 'CLUSTER', 'OBSERVER', 'backup concurrency limit.', 'INT'),
  p('backup_net_limit', '0M', 'CLUSTER', 'OBSERVER', 'backup net limit for whole cluster', 'CAPACITY'),
  p('backup_zone', '', 'CLUSTER', 'OBSERVER', 'specified zones that can do backup'),
  p('backup_region', '', 'CLUSTER', 'OBSERVER', 'specified region that can do backup'),
  p('log_archive_concurrency', '0', 'CLUSTER', 'OBSERVER', 'concurrency for log_archive_sender and log_archive_spiter', 'INT'),
  p('gc_wait_archive', 'True', 'CLUSTER', 'OBSERVER', 'control whether partition GC need to wait for all partition log be archived', 'BOOL'),
  p('enable_log_archive', 'False', 'CLUSTER', 'OBSERVER', 'control if enable log archive', 'BOOL'),
  p('_backup_idle_time', '5m', 'CLUSTER', 'OBSERVER', 'max backup idle time', 'TIME'),
  p('_backup_retry_timeout', '10m', 'CLUSTER', 'OBSERVER', 'control backup retry timeout', 'TIME'),
];

export const OB4_PARAMS: ParamSpec[] = [
  p('log_archive_concurrency', '0', 'TENANT', 'LOGSERVICE', 'log archive concurrency, 0 means adaptive', 'INT'),
  p('archive_lag_target', '120s', 'TENANT', 'LOGSERVICE', 'max lag of archive checkpoint', 'TIME'),
  p('ha_low_thread_score', '0', 'TENANT', 'OBSERVER', 'high availability low thread score', 'INT'),
  p('ha_high_thread_score', '0', 'TENANT', 'OBSERVER', 'high availability high thread score', 'INT'),
  p('backup_data_file_size', '4G', 'CLUSTER', 'OBSERVER', 'backup data file size', 'CAPACITY'),
  p('_backup_task_keep_alive_interval', '10s', 'CLUSTER', 'OBSERVER', 'backup task keep alive interval', 'TIME'),
];

/** '120s', '5m', '1d', '7d' -> microseconds; plain numbers are microseconds */
export function parseDurationUs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'us').toLowerCase();
  const mult: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 };
  return n * mult[unit];
}
