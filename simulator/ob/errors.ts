// Errors as a MySQL client sees them from OceanBase: errno, SQL state, text (src/share/ob_errno.def).

export class ObError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly sqlState = 'HY000',
  ) {
    super(message);
  }
}

/** Backup error texts of ob_errno.def (M3 column); codes with `M1 = -1` reach the client as the absolute OB code. */
export const OB_TEXT: Record<number, string> = {
  4007: 'Not supported feature or function',
  4012: 'Timeout',
  9023: 'cannot start log archive backup',
  9024: 'log archive backup is already disabled',
  9027: 'ob log archive interrupted',
  9029: 'log archive is not running',
  9034: 'log archive already stopped',
  9036: 'Backup is in progress',
  9037: 'log archive status is not valid',
  9040: 'backup can not start',
  9041: 'cancel backup do not allow',
  9042: 'backup data version gap over limit',
  9044: 'delete backup data is in progress',
  9045: 'delete backup set do not allow',
  9046: 'backup set id is not valid',
  9047: 'invalid password for backup',
  9048: 'backup set is isolated by two log archive round',
  9049: 'backup status is stopped, can not cancel',
  9050: 'no backup data to be backuped up',
  9053: 'cancel delete backup do not allow',
  9054: 'backup clean info not exists',
  9059: 'backup backup has reached max backup times',
  9062: 'reach backup backup copy limit',
  9064: 'the archive log and backup data are not continuous',
  9069: 'deleting backup piece is not allowed',
  9070: 'can not connect to backup destination',
  9071: 'no I/O operation permission at the backup destination',
  9080: 'the format file does not exist under the destination',
  9081: 'the content of the format file at the destination does not match',
  9082: 'backup device out of space',
  9091: 'Already in ARCHIVELOG mode',
  9092: 'Already in NOARCHIVELOG mode',
  9095: 'No tablet need backup',
  9115: 'can not connect to storage destination',
};

export function obError(code: number, detail?: string): ObError {
  if (code === 9040 && detail !== undefined) return new ObError(9040, `backup can not start, because ${detail}`);
  if (code === 4012 && detail !== undefined) {
    return new ObError(4012, `Timeout, query has reached the maximum query timeout: ${detail}(us), maybe you can adjust the session variable ob_query_timeout or query_timeout hint, and try again.`);
  }
  const text = OB_TEXT[code];
  if (text === undefined) return new ObError(code, detail ?? `Internal error ${code}`);
  return new ObError(code, detail && code !== 9040 ? `${text}, ${detail}` : text);
}

export function syntaxError(near: string): ObError {
  return new ObError(
    1064,
    `You have an error in your SQL syntax; check the manual that corresponds to your OceanBase version for the right syntax to use near '${near}' at line 1`,
    '42000',
  );
}

export const accessDenied = (user: string, host: string, usingPassword: boolean) =>
  new ObError(1045, `Access denied for user '${user}'@'${host}' (using password: ${usingPassword ? 'YES' : 'NO'})`, '42000');

export const noSuchTable = (schema: string, name: string) => new ObError(1146, `Table '${schema}.${name}' doesn't exist`, '42S02');
export const noDatabaseSelected = () => new ObError(1046, 'No database selected', '3D000');
export const unknownDatabase = (name: string) => new ObError(1049, `Unknown database '${name}'`, '42000');
export const unknownColumn = (name: string, clause: string) => new ObError(1054, `Unknown column '${name}' in '${clause}'`, '42S22');
export const unknownTenant = (name: string) => new ObError(5157, `Unknown tenant '${name}'`);
export const unknownFunction = (name: string) => new ObError(1305, `FUNCTION ${name} does not exist`, '42000');
export const unknownSystemVariable = (name: string) => new ObError(1193, `Unknown system variable '${name}'`, 'HY000');
export const invalidArgument = (what: string) => new ObError(1210, `Incorrect arguments to ${what}`);
export const notSupported = (what: string) => new ObError(1235, `${what} not supported`, '0A000');
export const invalidConfig = (text: string) => new ObError(4147, text);
