import { describe, expect, it } from 'vitest';
import { ObError, isConnectionLoss, toObError } from '../../daemon/oceanbase/errors.js';
import { hasUriCredentials, redact, redactUri, sameDestination, stripUriCredentials, uriSecrets } from '../../daemon/oceanbase/redact.js';

const OSS = 'oss://bkt/backup/prod?host=oss-cn-hangzhou.aliyuncs.com&access_id=LTAIabc123&access_key=S3cr3tKeyValue';

describe('redaction', () => {
  it('masks access_id and access_key in a URI and keeps the rest', () => {
    expect(redactUri(OSS)).toBe('oss://bkt/backup/prod?host=oss-cn-hangzhou.aliyuncs.com&access_id=***&access_key=***');
  });

  it('masks credentials inside SQL text and LOG_ARCHIVE_DEST option strings', () => {
    const sql = `ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=${OSS} BINDING=OPTIONAL PIECE_SWITCH_INTERVAL=1d' TENANT = t1`;
    const out = redact(sql);
    expect(out).not.toContain('S3cr3tKeyValue');
    expect(out).not.toContain('LTAIabc123');
    expect(out).toContain('BINDING=OPTIONAL');
    expect(out).toContain('TENANT = t1');
  });

  it('masks encryption passwords and password assignments', () => {
    expect(redact("SET ENCRYPTION ON IDENTIFIED BY 'my pass''word' ONLY")).toBe("SET ENCRYPTION ON IDENTIFIED BY '***' ONLY");
    expect(redact('mysql://u:x@h password=hunter22 next')).toBe('mysql://u:x@h password=*** next');
  });

  it('masks every known literal secret wherever it appears', () => {
    expect(redact("Access denied for 'root' using Pa55word!", ['Pa55word!'])).toBe("Access denied for 'root' using ***");
  });

  it('strips credential parameters, keeping host and others', () => {
    expect(stripUriCredentials(OSS)).toBe('oss://bkt/backup/prod?host=oss-cn-hangzhou.aliyuncs.com');
    expect(stripUriCredentials('oss://b/p?access_id=a&access_key=b')).toBe('oss://b/p');
    expect(stripUriCredentials('file:///data/backup')).toBe('file:///data/backup');
  });

  it('lists the credential values of a URI', () => {
    expect(uriSecrets(OSS)).toEqual(['LTAIabc123', 'S3cr3tKeyValue']);
    expect(uriSecrets('file:///x')).toEqual([]);
    expect(hasUriCredentials(OSS)).toBe(true);
    expect(hasUriCredentials('oss://b/p?host=h')).toBe(false);
  });

  it('compares destinations as the database shows them back', () => {
    // 3.x shows the full URI: a changed key is a change
    expect(sameDestination(OSS, OSS)).toBe(true);
    expect(sameDestination(OSS, OSS.replace('S3cr3tKeyValue', 'other'))).toBe(false);
    // 4.x hides credentials: compare what is shown
    expect(sameDestination('oss://bkt/backup/prod?host=oss-cn-hangzhou.aliyuncs.com', OSS)).toBe(true);
    expect(sameDestination('oss://bkt/backup/prod', OSS)).toBe(true);
    expect(sameDestination('oss://bkt/backup/other', OSS)).toBe(false);
    expect(sameDestination('file:///data/b/', 'file:///data/b')).toBe(true);
    expect(sameDestination(null, 'file:///data/b')).toBe(false);
    expect(sameDestination('', 'file:///data/b')).toBe(false);
  });
});

/** mysql2's error for a server ERR packet */
function serverError(errno: number, sqlMessage: string): Error {
  return Object.assign(new Error(sqlMessage), { errno, sqlMessage, code: 'ER_UNKNOWN', sqlState: 'HY000', sql: 'x' });
}

const where = 'cluster "prod" at 10.0.0.1:2881';

describe('error mapping', () => {
  const cases: Array<[number, string, string]> = [
    [9036, 'Backup is in progress', 'backup_in_progress'],
    [9040, 'backup can not start, because log archive is not doing. log archive status : STOP.', 'archive_not_doing'],
    [9040, 'backup can not start, because log archive status is not doing.', 'archive_not_doing'],
    [9040, 'backup can not start, because backup dest is not set.', 'dest_not_set'],
    [9040, 'backup can not start, because tenant status is not normal.', 'tenant_not_normal'],
    [9040, 'backup can not start, because cluster upgrading', 'upgrading'],
    [
      9040,
      'backup can not start, because no tenant meets the backup condition, please check the tenant status, log archive status, backup data dest, and backup status for each tenant',
      'no_eligible_tenant',
    ],
    [9040, 'backup can not start, because log archive start timestamp is bigger than frozen timestamp, need major freeze first.', 'major_freeze_needed'],
    [9040, 'backup can not start', 'backup_cannot_start'],
    [9091, 'Already in ARCHIVELOG mode', 'already_archiving'],
    [9092, 'Already in NOARCHIVELOG mode', 'already_not_archiving'],
    [9080, 'the format file does not exist under the destination', 'dest_format_missing'],
    [9081, 'the content of the format file at the destination does not match', 'dest_format_mismatch'],
    [4012, 'Timeout, query has reached the maximum query timeout: 10000000(us)', 'timeout'],
    [1045, "Access denied for user 'root@sys'@'127.0.0.1' (using password: YES)", 'auth'],
    [9050, 'no backup data to be backuped up', 'nothing_to_copy'],
    [9070, 'can not connect to backup destination', 'storage_unreachable'],
    [9082, 'backup device out of space', 'storage_full'],
    [1064, "You have an error in your SQL syntax near 'FOO'", 'syntax'],
    [4016, 'Internal error', 'database'],
  ];
  for (const [code, text, kind] of cases) {
    it(`maps ${code} "${text.slice(0, 40)}…" to ${kind}`, () => {
      const e = toObError(serverError(code, text), { where });
      expect(e).toBeInstanceOf(ObError);
      expect(e.kind).toBe(kind);
      expect(e.code).toBe(code);
      expect(e.message.startsWith(where)).toBe(true);
      expect(e.message).toContain(`OceanBase error ${code}`);
    });
  }

  it('says the database refused the backup because archiving is not DOING', () => {
    const e = toObError(serverError(9040, 'backup can not start, because log archive status is not doing.'), { where });
    expect(e.message).toContain('log archiving is not in DOING state');
  });

  it('never keeps a secret from the statement or the server text', () => {
    const stmt = `ALTER SYSTEM SET DATA_BACKUP_DEST = '${OSS}' TENANT = t1`;
    const e = toObError(serverError(1064, `You have an error in your SQL syntax near '${OSS}'`), { where, statement: stmt, secrets: ['hunter22'] });
    const all = `${e.message} ${e.statement} ${e.serverMessage} ${JSON.stringify(e)}`;
    expect(all).not.toContain('S3cr3tKeyValue');
    expect(all).not.toContain('LTAIabc123');
    expect(e.statement).toContain('access_key=***');
  });

  it('maps network failures to unreachable with the cause', () => {
    const refused = toObError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', syscall: 'connect' }), { where });
    expect(refused.kind).toBe('unreachable');
    expect(refused.message).toContain('connection refused');
    const slow = toObError(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'connect' }), { where });
    expect(slow.kind).toBe('unreachable');
    expect(slow.message).toContain('connect timeout');
    const dns = toObError(Object.assign(new Error('getaddrinfo ENOTFOUND nohost'), { code: 'ENOTFOUND' }), { where });
    expect(dns.message).toContain('host name not found');
  });

  it('maps a client-side query timeout and a dropped connection', () => {
    const t = toObError(Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }), {
      where,
      statement: 'SELECT 1',
      timeoutMs: 2500,
    });
    expect(t.kind).toBe('timeout');
    expect(t.message).toContain('within 2.5s');
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true });
    expect(isConnectionLoss(lost)).toBe(true);
    const w = toObError(lost, { where, statement: 'ALTER SYSTEM BACKUP DATABASE', write: true });
    expect(w.kind).toBe('connection_lost');
    expect(w.mayHaveApplied).toBe(true);
    expect(w.message).toContain('may or may not have been applied');
    expect(w.transient).toBe(true);
    expect(toObError(lost, { where, statement: 'SELECT 1' }).mayHaveApplied).toBe(false);
  });

  it('serialises without a stack', () => {
    const e = toObError(serverError(9036, 'Backup is in progress'), { where });
    expect(Object.keys(e.toJSON()).sort()).toEqual(['code', 'kind', 'message']);
  });
});
