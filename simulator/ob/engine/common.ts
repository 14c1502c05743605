// Helpers shared by the 3.x and 4.x engines.
import { SqlTime } from '../sql/values.js';
import type { BackupStorage } from '../storage.js';

export function bytesDisplay(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

export const ts = (us: number | null | undefined): SqlTime | null => (us === null || us === undefined ? null : new SqlTime(us));

/** SCN of a µs timestamp: nanoseconds since the epoch */
export const scn = (us: number | null | undefined): bigint | null => (us === null || us === undefined ? null : BigInt(Math.floor(us)) * 1000n);

/** 'YYYYMMDDThhmmss' in UTC, as OceanBase stamps file names */
export function fileStamp(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

/** Writes `bytes` of filler split into files of at most `fileBytes` under `dir`, starting at file index `from`. */
export function filler(bytes: number, label: string): Buffer {
  const head = Buffer.from(`obsim ${label}\n`);
  const buf = Buffer.alloc(Math.max(0, bytes), 0x2e);
  head.copy(buf, 0, 0, Math.min(head.length, buf.length));
  return buf;
}

export interface FormatFile {
  cluster_name: string;
  cluster_id: number;
  tenant_id: number;
  dest_type: 'DATA' | 'LOG';
  dest_id: number;
  incarnation: number;
}

/**
 * The destination rules of reference §1 (4.x): a directory with our format file is reused, a directory with a
 * format file of another tenant, cluster or kind is refused (9081), a non-empty directory without one is refused
 * (9080), an empty one gets a format file.
 */
export async function claimDestination(storage: BackupStorage, fileName: string, want: FormatFile): Promise<'claimed' | 'reused'> {
  const { obError } = await import('../errors.js');
  await storage.probe();
  const names = ['format.obbak', 'format.obarc', 'format'];
  for (const n of names) {
    const data = await storage.read(n);
    if (!data) continue;
    let found: Partial<FormatFile> = {};
    try {
      found = JSON.parse(data.toString('utf8')) as FormatFile;
    } catch {
      throw obError(9081);
    }
    if (n !== fileName || found.cluster_name !== want.cluster_name || found.tenant_id !== want.tenant_id || found.dest_type !== want.dest_type) {
      throw obError(9081);
    }
    return 'reused';
  }
  const existing = await storage.list('');
  if (existing.length > 0) throw obError(9080);
  await storage.write(fileName, JSON.stringify(want));
  return 'claimed';
}
