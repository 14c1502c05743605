// The OceanBase driver: connections, version detection, the 3.x and 4.x dialects, error mapping.
export { ObDriver, type BackupRequest, type ObClusterConfig, type ObDriverOptions, type StartedBackup } from './driver.js';
export { ObConnection, type ObConnectionOptions, type ObEndpoint, type ObLogger, type SqlSession } from './connection.js';
export { ObError, toObError, type ObErrorKind } from './errors.js';
export { redact, redactUri, sameDestination, stripUriCredentials } from './redact.js';
export { compactionNeededReason, type CompactionCheckInput } from './dialect-3x.js';
export type { SecondaryRequest } from './dialect.js';
export { formatDuration, parseDurationSeconds } from './sql.js';
export type * from './types.js';
