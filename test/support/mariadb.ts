/**
 * A private MariaDB for tests: a fresh datadir in a temp dir (mariadb-install-db), mariadbd on
 * 127.0.0.1 at a free port with its own socket, run as the current user, stopped and removed at the
 * end. Set OBBACKUP_TEST_MYSQL_URL (an account that may create databases) to use a running server
 * instead. If MariaDB is missing or cannot start, this throws: tests that need it fail, never skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import mysql from 'mysql2/promise';

export interface MariaDb {
  /** Creates an empty database with its own user; returns its mysql:// store URL. */
  createDatabase(): Promise<string>;
  /** Runs SQL as an administrator (for tests that inspect rows). */
  query<T = unknown>(statement: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install it with `scripts/install-mariadb.sh` (or `apt-get install -y mariadb-server`)';

function findBinary(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (dir && fs.existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

let counter = 0;
const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;

async function fromExternalServer(url: string): Promise<MariaDb> {
  const admin = await mysql.createConnection({ uri: url, multipleStatements: false });
  const created: string[] = [];
  return {
    async createDatabase() {
      const name = uniqueName('obbackup_test');
      await admin.query(`CREATE DATABASE \`${name}\``);
      created.push(name);
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async query(statement, params) {
      const [rows] = await admin.query(statement, params);
      return rows as never;
    },
    async stop() {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

async function startPrivateServer(): Promise<MariaDb> {
  const mariadbd = findBinary(['mariadbd', 'mysqld']);
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
  if (!mariadbd || !installDb) throw new Error(`MariaDB is required by this test but mariadbd was not found; ${INSTALL_HINT}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-mariadb-'));
  const datadir = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const errorLog = path.join(dir, 'error.log');
  // mariadbd refuses to run as root unless told to; as any other user it runs as that user.
  const asUser = process.getuid?.() === 0 ? ['--user=root'] : [];
  const cleanupDir = () => fs.rmSync(dir, { recursive: true, force: true });

  const install = spawnSync(
    installDb,
    ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asUser],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (install.status !== 0) {
    cleanupDir();
    throw new Error(`mariadb-install-db failed (exit ${install.status}): ${(install.stderr || install.stdout).trim().slice(-800)}`);
  }

  const port = await freePort();
  const child: ChildProcess = spawn(
    mariadbd,
    [
      '--no-defaults',
      ...asUser,
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      `--tmpdir=${dir}`,
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      // Test data is disposable: skip the per-commit fsync.
      '--innodb-flush-log-at-trx-commit=2',
    ],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
    cleanupDir();
  };
  process.once('exit', killOnExit);

  let admin: mysql.Connection | undefined;
  const deadline = Date.now() + 30_000;
  while (!admin) {
    if (exited) {
      const log = tail(errorLog);
      process.removeListener('exit', killOnExit);
      cleanupDir();
      throw new Error(`mariadbd exited during start-up:\n${log}`);
    }
    try {
      admin = await mysql.createConnection({ socketPath: socket, user: 'root' });
    } catch (err) {
      if (Date.now() > deadline) {
        killOnExit();
        process.removeListener('exit', killOnExit);
        throw new Error(`mariadbd did not accept connections within 30 s: ${(err as Error).message}\n${tail(errorLog)}`);
      }
      await delay(50);
    }
  }

  return {
    async createDatabase() {
      const name = uniqueName('obbackup');
      // A password with URL-reserved characters exercises the store URL's decoding.
      const password = `p@ss:${randomBytes(6).toString('hex')}/x`;
      await admin!.query(`CREATE DATABASE \`${name}\``);
      await admin!.query(`CREATE USER '${name}'@'127.0.0.1' IDENTIFIED BY ?`, [password]);
      await admin!.query(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${name}'@'127.0.0.1'`);
      return `mysql://${name}:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}`;
    },
    async query(statement, params) {
      const [rows] = await admin!.query(statement, params);
      return rows as never;
    },
    async stop() {
      await admin!.end().catch(() => {});
      if (!exited) {
        child.kill('SIGTERM');
        const stopped = await Promise.race([
          new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
          delay(15_000).then(() => false),
        ]);
        if (!stopped && !exited) child.kill('SIGKILL');
      }
      process.removeListener('exit', killOnExit);
      cleanupDir();
    },
  };
}

export async function startMariaDb(): Promise<MariaDb> {
  const external = process.env.OBBACKUP_TEST_MYSQL_URL;
  return external ? fromExternalServer(external) : startPrivateServer();
}

let shared: { server: Promise<MariaDb>; users: number } | undefined;

/** One server per test file, shared by its suites: call release() as often as acquire(). */
export async function acquireMariaDb(): Promise<MariaDb> {
  if (!shared) shared = { server: startMariaDb(), users: 0 };
  shared.users++;
  try {
    return await shared.server;
  } catch (err) {
    shared = undefined;
    throw err;
  }
}

export async function releaseMariaDb(): Promise<void> {
  if (!shared) return;
  if (--shared.users > 0) return;
  const { server } = shared;
  shared = undefined;
  await (await server).stop();
}
