import { z } from 'zod';
import { BACKUP_TYPES } from './schedule.js';

/** "Backup now": POST /v1/clusters/{name}/backups. */
export const backupRequest = z.strictObject({
  type: z.enum(BACKUP_TYPES, { message: 'must be "full" or "incremental"' }).default('full'),
});
export type BackupRequest = z.output<typeof backupRequest>;
