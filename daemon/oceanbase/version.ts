// Version detection as OCP-Express does it (reference §0): min_observer_version from the sys parameter
// table, then GV$OB_PARAMETERS, then @@version_comment; "3.x or 4.x" from the OB version's major digit,
// never from version() (which is `5.7.25-…` on 4.x).
import { ObError } from './errors.js';
import type { Row } from './rows.js';
import { RowReader } from './rows.js';
import type { ClusterIdentity, ObMajor } from './types.js';

export type Select = (sql: string) => Promise<Row[]>;

const DOTTED = /(\d+(?:\.\d+)+)/;

/** `4.2.1.0-xyz` → `4.2.1.0`; null if it holds no dotted version */
export function cleanVersion(text: string | null | undefined): string | null {
  if (!text) return null;
  const m = DOTTED.exec(text.trim());
  return m ? m[1] : null;
}

/** `OceanBase_CE 4.2.1.0 (r…) (Built …)` → `4.2.1.0` (token #2, as OCP-Express reads it) */
export function versionFromComment(comment: string | null | undefined): string | null {
  if (!comment) return null;
  const token = comment.trim().split(/\s+/)[1];
  return cleanVersion(token);
}

/** `5.7.25-OceanBase-v4.2.1.0` → `4.2.1.0`; `3.1.5-OceanBase CE` → `3.1.5` */
export function versionFromServerVersion(v: string | null | undefined): string | null {
  if (!v) return null;
  const tagged = /OceanBase[-_ ]?(?:CE[-_ ])?v(\d+(?:\.\d+)+)/i.exec(v);
  if (tagged) return tagged[1];
  if (/OceanBase/i.test(v)) {
    const lead = cleanVersion(v.split('-')[0]);
    // a MySQL compatibility number (5.x, 8.x) is not an OceanBase version
    if (lead && !/^[58]\./.test(lead)) return lead;
  }
  return null;
}

export function majorOf(version: string): ObMajor | null {
  const major = Number(version.split('.')[0]);
  if (major === 3 || major === 4) return major;
  return null;
}

async function tryFirstValue(select: Select, sql: string): Promise<string | null> {
  try {
    const rows = await select(sql);
    if (rows.length === 0) return null;
    const r = new RowReader(rows[0]);
    const first = Object.keys(rows[0])[0];
    return r.str('v') ?? (first === undefined ? null : r.str(first));
  } catch (e) {
    // only a refused query moves on to the next source; a dead connection ends detection
    if (e instanceof ObError && (e.kind === 'unreachable' || e.kind === 'connection_lost' || e.kind === 'auth')) throw e;
    return null;
  }
}

/** Asks the cluster what it is. Throws `not_supported` for anything but OceanBase 3.x / 4.x. */
export async function detectIdentity(select: Select, where: string): Promise<ClusterIdentity> {
  const versionComment = await tryFirstValue(select, 'SELECT @@version_comment AS v');
  const serverVersion = await tryFirstValue(select, 'SELECT version() AS v');
  const fromParams =
    cleanVersion(
      await tryFirstValue(
        select,
        "SELECT MAX(value) AS v FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name = 'min_observer_version'",
      ),
    ) ??
    cleanVersion(
      await tryFirstValue(select, "SELECT MIN(value) AS v FROM oceanbase.GV$OB_PARAMETERS WHERE name = 'min_observer_version'"),
    );
  const version = fromParams ?? versionFromComment(versionComment) ?? versionFromServerVersion(serverVersion);
  if (version === null) {
    throw new ObError('not_supported', `${where}: this server does not report an OceanBase version; is it an OceanBase sys tenant?`);
  }
  const major = majorOf(version);
  if (major === null) {
    throw new ObError('not_supported', `${where}: OceanBase ${version} is not supported (3.x and 4.x are)`);
  }
  return { major, version, versionComment, serverVersion };
}
