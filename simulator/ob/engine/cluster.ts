// The simulated cluster: tenants, parameters, sessions, the SQL front door, simulated time and persistence.
// Version-specific backup behaviour lives in ob3.ts / ob4.ts.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SimClock } from '../clock.js';
import { ObError, accessDenied, noDatabaseSelected, noSuchTable, obError, syntaxError, unknownDatabase, unknownFunction, unknownSystemVariable, unknownTenant } from '../errors.js';
import { cols, type Row, type TableDef } from '../sql/catalog.js';
import { executeSelect, type EvalContext } from '../sql/exec.js';
import { SqlSyntaxError } from '../sql/lexer.js';
import { Cursor, parseSelect } from '../sql/parser.js';
import { SqlTime, formatTime, like, type SqlValue } from '../sql/values.js';
import { nativePasswordMatches, type StatementResult, type WireHandler, type WireSession } from '../wire.js';
import { COMMON_PARAMS, OB3_PARAMS, OB4_PARAMS, type ParamSpec } from './params.js';
import { DEFAULT_TUNABLES, type SessionState, type Tenant, type Tunables, type VersionEngine } from './types.js';

export interface ClusterOptions {
  obVersion: string;
  password: string;
  tenants: string[];
  dataDir?: string;
  timeScale?: number;
  startTimeMs?: number;
  tunables?: Partial<Tunables>;
  clusterName?: string;
}

export interface StatementFault {
  kind: 'timeout' | 'drop' | 'slow' | 'error';
  /** statements the fault applies to (case-insensitive regular expression); every statement when absent */
  match?: string;
  /** how many statements it hits; unlimited when absent */
  times?: number;
  /** slow: real milliseconds to wait before answering */
  delayMs?: number;
  /** error: the MySQL errno and text to answer with */
  code?: number;
  message?: string;
}

const SERVER_IP = '127.0.0.1';
const SERVER_PORT = 2882;
const ZONE = 'zone1';

const SESSION_VAR_DEFAULTS: Record<string, string | number> = {
  autocommit: 1,
  ob_query_timeout: 10_000_000,
  ob_trx_timeout: 86_400_000_000,
  ob_trx_idle_timeout: 86_400_000_000,
  ob_read_consistency: 'STRONG',
  time_zone: 'SYSTEM',
  system_time_zone: 'UTC',
  sql_mode: 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE',
  character_set_client: 'utf8mb4',
  character_set_connection: 'utf8mb4',
  character_set_results: 'utf8mb4',
  character_set_server: 'utf8mb4',
  collation_connection: 'utf8mb4_general_ci',
  collation_server: 'utf8mb4_general_ci',
  tx_isolation: 'READ-COMMITTED',
  transaction_isolation: 'READ-COMMITTED',
  tx_read_only: 0,
  transaction_read_only: 0,
  max_allowed_packet: 16_777_216,
  net_buffer_length: 16_384,
  wait_timeout: 28_800,
  interactive_timeout: 28_800,
  lower_case_table_names: 1,
  sql_select_limit: '18446744073709551615',
  ob_compatibility_mode: 'MYSQL',
  license: '',
  ob_enable_trace_log: 0,
  ob_log_level: 'disabled',
  query_cache_size: 1_048_576,
  query_cache_type: 'OFF',
  init_connect: '',
  sql_auto_is_null: 0,
  names: 'utf8mb4',
  ob_timestamp_service: 'GTS',
};

const READ_ONLY_VARS = new Set(['version', 'version_comment', 'system_time_zone', 'lower_case_table_names', 'license']);

export class ObCluster implements WireHandler {
  readonly clock: SimClock;
  readonly tunables: Tunables;
  readonly major: 3 | 4;
  /** the OceanBase version with four components, e.g. 4.2.1.0 */
  readonly fullVersion: string;
  readonly clusterName: string;
  readonly tenants: Tenant[] = [];
  readonly clusterParams = new Map<string, string>();
  readonly tenantParams = new Map<number, Map<string, string>>();
  readonly paramSpecs: ParamSpec[];
  upgrading = false;
  engine!: VersionEngine;
  readonly statementFaults: StatementFault[] = [];
  /** simulated time the state has been advanced to */
  private cursorMs: number;
  private lock: Promise<void> = Promise.resolve();
  private dirty = false;
  private readonly sessions = new Set<SessionState>();
  private readonly password: string;
  readonly dataDir?: string;
  /** events of interest for tests and logs */
  readonly log: { atMs: number; text: string }[] = [];

  constructor(readonly options: ClusterOptions) {
    const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(options.obVersion);
    if (!m || (m[1] !== '3' && m[1] !== '4')) throw new Error(`--ob-version must be a 3.x or 4.x version, got '${options.obVersion}'`);
    this.major = Number(m[1]) as 3 | 4;
    this.fullVersion = [m[1], m[2], m[3] ?? '0', m[4] ?? '0'].join('.');
    this.clusterName = options.clusterName ?? 'obcluster';
    this.password = options.password;
    this.dataDir = options.dataDir;
    this.tunables = { ...DEFAULT_TUNABLES, ...(options.tunables ?? {}) };
    this.clock = new SimClock(options.startTimeMs ?? Date.now(), options.timeScale ?? 1);
    this.cursorMs = this.clock.nowMs();
    this.paramSpecs = [...COMMON_PARAMS, ...(this.major === 3 ? OB3_PARAMS : OB4_PARAMS)];
    this.createTenants(options.tenants);
    this.clusterParams.set('cluster', this.clusterName);
    this.clusterParams.set('min_observer_version', this.major === 3 ? this.fullVersion.split('.').slice(0, 3).join('.') : this.fullVersion);
  }

  private createTenants(names: string[]): void {
    const createUs = this.cursorMs * 1000;
    this.tenants.push({ id: 1, name: 'sys', type: 'SYS', status: 'NORMAL', createUs, logMode: 'NOARCHIVELOG' });
    let id = 1002;
    for (const raw of names) {
      const name = raw.trim();
      if (!name) continue;
      if (this.major === 4) this.tenants.push({ id: id - 1, name: `META$${id}`, type: 'META', status: 'NORMAL', createUs, logMode: 'NOARCHIVELOG' });
      this.tenants.push({ id, name, type: 'USER', status: 'NORMAL', createUs, logMode: 'NOARCHIVELOG' });
      id += 2;
    }
  }

  get serverVersion(): string {
    return this.major === 4 ? '5.7.25' : '5.6.25';
  }

  /** current simulated time of the model, in ms */
  nowMs(): number {
    return this.cursorMs;
  }

  nowUs(): number {
    return Math.floor(this.cursorMs * 1000);
  }

  userTenants(): Tenant[] {
    return this.tenants.filter((t) => t.type === 'USER');
  }

  tenantByName(name: string): Tenant {
    const t = this.tenants.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!t) throw unknownTenant(name);
    return t;
  }

  tenantById(id: number): Tenant | undefined {
    return this.tenants.find((t) => t.id === id);
  }

  param(name: string, tenantId?: number): string {
    const spec = this.paramSpecs.find((s) => s.name === name);
    if (spec?.scope === 'TENANT' && tenantId !== undefined) return this.tenantParams.get(tenantId)?.get(name) ?? spec.def;
    return this.clusterParams.get(name) ?? spec?.def ?? '';
  }

  setParam(name: string, value: string, tenantId?: number): void {
    const spec = this.paramSpecs.find((s) => s.name === name);
    if (spec?.scope === 'TENANT' && tenantId !== undefined) {
      let m = this.tenantParams.get(tenantId);
      if (!m) this.tenantParams.set(tenantId, (m = new Map()));
      m.set(name, value);
    } else {
      this.clusterParams.set(name, value);
    }
    this.markDirty();
  }

  note(text: string): void {
    this.log.push({ atMs: this.cursorMs, text });
    if (this.log.length > 1000) this.log.shift();
  }

  markDirty(): void {
    this.dirty = true;
  }

  // ---------------------------------------------------------------- time

  /** Advances the model to the clock's current time, firing every transition in order. */
  sync(): Promise<void> {
    const run = this.lock.then(async () => {
      const target = this.clock.nowMs();
      for (;;) {
        const at = this.engine.nextEventAt();
        if (at === null || at > target) break;
        this.cursorMs = Math.max(this.cursorMs, at);
        await this.engine.fire(this.cursorMs);
        this.dirty = true;
      }
      this.cursorMs = Math.max(this.cursorMs, target);
      if (this.dirty) await this.persist();
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` under the model lock at the current time (statements mutate state here). */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.sync();
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    const result = await run;
    await this.sync();
    return result;
  }

  // ---------------------------------------------------------------- persistence

  private statePath(): string | null {
    return this.dataDir ? join(this.dataDir, 'obsim-state.json') : null;
  }

  async load(): Promise<boolean> {
    const path = this.statePath();
    if (!path) return false;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return false;
    }
    const s = JSON.parse(text) as {
      fullVersion: string;
      clockMs: number;
      tenants: Tenant[];
      clusterParams: [string, string][];
      tenantParams: [number, [string, string][]][];
      upgrading: boolean;
      engine: unknown;
    };
    if (s.fullVersion.split('.')[0] !== this.fullVersion.split('.')[0]) {
      throw new Error(`${path} holds the state of an OceanBase ${s.fullVersion} cluster; start obsim with that major version or another --data-dir`);
    }
    this.tenants.splice(0, this.tenants.length, ...s.tenants);
    this.clusterParams.clear();
    for (const [k, v] of s.clusterParams) this.clusterParams.set(k, v);
    this.clusterParams.set('min_observer_version', this.major === 3 ? this.fullVersion.split('.').slice(0, 3).join('.') : this.fullVersion);
    this.tenantParams.clear();
    for (const [id, kvs] of s.tenantParams) this.tenantParams.set(id, new Map(kvs));
    this.upgrading = s.upgrading;
    this.engine.restore(s.engine);
    // simulated time never goes backwards across a restart
    if (s.clockMs > this.clock.nowMs()) this.clock.set(s.clockMs);
    this.cursorMs = Math.max(s.clockMs, this.cursorMs);
    return true;
  }

  async persist(): Promise<void> {
    this.dirty = false;
    const path = this.statePath();
    if (!path) return;
    const state = {
      fullVersion: this.fullVersion,
      clockMs: this.cursorMs,
      tenants: this.tenants,
      clusterParams: [...this.clusterParams],
      tenantParams: [...this.tenantParams].map(([id, m]) => [id, [...m]]),
      upgrading: this.upgrading,
      engine: this.engine.snapshot(),
    };
    await mkdir(this.dataDir!, { recursive: true });
    const tmp = `${path}.tmp`;
    await writeFile(tmp, JSON.stringify(state));
    await rename(tmp, path);
  }

  // ---------------------------------------------------------------- sessions

  login(info: { user: string; database: string; host: string; scramble: Buffer; token: Buffer; connectionId: number; bypass?: boolean }): WireSession & SessionState {
    // user forms: root, root@sys, root@sys#cluster (through OBProxy), root@sys:clusterid is not modelled
    const m = /^([^@#:]+)(?:@([^#:]+))?(?:[#:](.+))?$/.exec(info.user);
    const user = m?.[1] ?? info.user;
    const tenant = m?.[2] ?? 'sys';
    if (!m || user !== 'root' || tenant.toLowerCase() !== 'sys' || !(info.bypass || nativePasswordMatches(this.password, info.scramble, info.token))) {
      throw accessDenied(info.user, info.host, info.token.length > 0);
    }
    if (info.database && info.database.toLowerCase() !== 'oceanbase' && info.database.toLowerCase() !== 'information_schema') {
      throw unknownDatabase(info.database);
    }
    const tz = () => this.tzOffset(session);
    const session: SessionState & WireSession = {
      connectionId: info.connectionId,
      user,
      tenant: 'sys',
      database: info.database ? info.database.toLowerCase() : null,
      vars: new Map(),
      userVars: new Map(),
      encryption: { mode: 'NONE', passwd: '' },
      decryption: [],
      tzOffsetMinutes: tz,
    };
    this.sessions.add(session);
    return session;
  }

  closed(session: WireSession): void {
    this.sessions.delete(session as SessionState & WireSession);
  }

  useDatabase(session: WireSession, db: string): void {
    const lower = db.toLowerCase();
    if (lower !== 'oceanbase' && lower !== 'information_schema') throw unknownDatabase(db);
    session.database = lower;
  }

  private tzOffset(s: SessionState): number {
    const tz = String(s.vars.get('time_zone') ?? 'SYSTEM');
    const m = /^([+-])(\d{1,2}):(\d{2})$/.exec(tz);
    if (m) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
    // SYSTEM: the offset of the host's zone at the current simulated time
    return -new Date(this.cursorMs).getTimezoneOffset();
  }

  sessionVar(s: SessionState, name: string): SqlValue {
    if (name === 'version') return this.versionString();
    if (name === 'version_comment') return this.versionComment();
    if (name === 'hostname') return 'obsim';
    if (name === 'port') return SERVER_PORT;
    if (s.vars.has(name)) return s.vars.get(name)!;
    if (name in SESSION_VAR_DEFAULTS) return SESSION_VAR_DEFAULTS[name];
    throw unknownSystemVariable(name);
  }

  versionString(): string {
    // §0: 4.x reports a MySQL-compatible version; 3.x reports the OceanBase version itself
    return this.major === 4 ? `5.7.25-OceanBase_CE-v${this.fullVersion}` : `${this.fullVersion.split('.').slice(0, 3).join('.')}-OceanBase CE`;
  }

  versionComment(): string {
    const product = this.major === 4 ? 'OceanBase_CE' : 'OceanBase';
    return `${product} ${this.fullVersion} (r100000000-obsim) (Built Jan  1 2024 00:00:00)`;
  }

  // ---------------------------------------------------------------- statements

  async execute(wireSession: WireSession, sql: string, internal = false): Promise<StatementResult | 'drop'> {
    const s = wireSession as WireSession & SessionState;
    const fault = internal ? undefined : this.takeStatementFault(sql);
    if (fault) {
      if (fault.kind === 'drop') return 'drop';
      if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
      if (fault.kind === 'timeout') throw obError(4012, String(this.sessionVar(s, 'ob_query_timeout')));
      if (fault.kind === 'error') throw new ObError(fault.code ?? 4016, fault.message ?? OB_TEXT_FALLBACK(fault.code ?? 4016));
    }
    try {
      return await this.exclusive(() => this.dispatch(s, sql));
    } catch (e) {
      if (e instanceof SqlSyntaxError) throw syntaxError(e.near);
      throw e;
    }
  }

  private takeStatementFault(sql: string): StatementFault | undefined {
    const i = this.statementFaults.findIndex((f) => !f.match || new RegExp(f.match, 'i').test(sql));
    if (i < 0) return undefined;
    const f = this.statementFaults[i];
    if (f.times !== undefined) {
      f.times--;
      if (f.times <= 0) this.statementFaults.splice(i, 1);
    }
    return f;
  }

  private async dispatch(s: SessionState, sql: string): Promise<StatementResult> {
    const c: Cursor = new Cursor(sql);
    if (c.isKw('SELECT')) return this.select(s, c);
    if (c.isOp('(')) {
      c.next();
      if (c.isKw('SELECT')) {
        const stmt = parseSelect(c);
        c.expectOp(')');
        c.expectEnd();
        return { kind: 'rows', ...executeSelect(stmt, this.evalContext(s)) };
      }
      c.fail();
    }
    if (c.acceptKw('SET')) return this.set(s, c);
    if (c.acceptKw('SHOW')) return this.show(s, c);
    if (c.acceptKw('USE')) {
      const db = c.expectIdent();
      c.expectEnd();
      this.useDatabase(s as unknown as WireSession, db);
      return { kind: 'ok' };
    }
    if (c.acceptKw('DESC') || c.acceptKw('DESCRIBE')) return this.describe(s, c);
    if (c.acceptKw('ALTER', 'SYSTEM')) {
      const r = await this.engine.alterSystem(c, s);
      this.markDirty();
      return r;
    }
    if (c.acceptKw('BEGIN') || c.acceptKw('COMMIT') || c.acceptKw('ROLLBACK') || c.acceptKw('START', 'TRANSACTION')) {
      c.acceptKw('WORK');
      c.expectEnd();
      return { kind: 'ok' };
    }
    c.fail();
  }

  private select(s: SessionState, c: Cursor): StatementResult {
    const stmt = parseSelect(c);
    c.acceptKw('FOR', 'UPDATE');
    c.expectEnd();
    return { kind: 'rows', ...executeSelect(stmt, this.evalContext(s)) };
  }

  evalContext(s: SessionState): EvalContext {
    return {
      nowUsec: () => this.nowUs(),
      tzOffsetMinutes: () => this.tzOffset(s),
      resolveTable: (schema, name) => this.resolveTable(s, schema, name),
      sysvar: (name) => this.sessionVar(s, name),
      uservar: (name) => (s.userVars.get(name) ?? null) as SqlValue,
      special: (name, args) => this.specialFunction(s, name, args),
    };
  }

  private specialFunction(s: SessionState, name: string, args: SqlValue[]): SqlValue | undefined {
    switch (name) {
      case 'VERSION':
        return this.versionString();
      case 'OB_VERSION':
        // §0: not available on 3.x
        if (this.major === 3) throw unknownFunction('oceanbase.ob_version');
        return this.fullVersion;
      case 'DATABASE':
      case 'SCHEMA':
        return s.database;
      case 'USER':
      case 'SESSION_USER':
      case 'SYSTEM_USER':
        return `${s.user}@127.0.0.1`;
      case 'CURRENT_USER':
        return `${s.user}@%`;
      case 'CONNECTION_ID':
        return s.connectionId;
      case 'LAST_INSERT_ID':
        return 0;
      case 'HOST_IP':
        return SERVER_IP;
      case 'RPC_PORT':
        return SERVER_PORT;
      default:
        void args;
        return undefined;
    }
  }

  private resolveTable(s: SessionState, schema: string | undefined, name: string): TableDef {
    const db = schema?.toLowerCase() ?? s.database;
    if (!db) throw noDatabaseSelected();
    if (db !== 'oceanbase') throw noSuchTable(db, name);
    const table = this.allTables().get(name.toUpperCase());
    if (!table) throw noSuchTable(db, name);
    return table;
  }

  allTables(): Map<string, TableDef> {
    const map = new Map<string, TableDef>();
    for (const t of [...this.commonTables(), ...this.engine.tables()]) map.set(t.name.toUpperCase(), t);
    // tenant-side DBA_ views, as seen from the sys tenant: its own rows, without TENANT_ID
    for (const t of [...map.values()]) {
      if (!t.name.toUpperCase().startsWith('CDB_')) continue;
      const dbaName = `DBA_${t.name.slice(4)}`;
      if (map.has(dbaName.toUpperCase())) continue;
      map.set(dbaName.toUpperCase(), {
        name: dbaName,
        columns: t.columns.filter((col) => col.name !== 'TENANT_ID'),
        rows: () => t.rows().filter((r) => r.TENANT_ID === 1),
      });
    }
    return map;
  }

  private set(s: SessionState, c: Cursor): StatementResult {
    if (c.acceptKw('ENCRYPTION')) {
      // SET ENCRYPTION ON IDENTIFIED BY 'pwd' ONLY | SET ENCRYPTION OFF
      if (c.acceptKw('OFF')) {
        s.encryption = { mode: 'NONE', passwd: '' };
      } else {
        c.expectKw('ON');
        c.expectKw('IDENTIFIED', 'BY');
        const pwd = c.expectString();
        c.expectKw('ONLY');
        s.encryption = { mode: 'PASSWORD', passwd: pwd };
      }
      c.expectEnd();
      return { kind: 'ok' };
    }
    if (c.acceptKw('DECRYPTION')) {
      c.expectKw('IDENTIFIED', 'BY');
      s.decryption = [c.expectString()];
      while (c.acceptOp(',')) s.decryption.push(c.expectString());
      c.expectEnd();
      return { kind: 'ok' };
    }
    if (c.acceptKw('NAMES')) {
      const cs = c.expectName();
      if (c.acceptKw('COLLATE')) c.expectName();
      s.vars.set('character_set_client', cs);
      c.expectEnd();
      return { kind: 'ok' };
    }
    do {
      let scope: 'session' | 'global' = 'session';
      let name: string;
      const t = c.peek();
      if (t.kind === 'sysvar') {
        c.next();
        const m = /^(global|session|local)\.(.+)$/i.exec(t.text);
        if (m) scope = m[1].toLowerCase() === 'global' ? 'global' : 'session';
        name = (m ? m[2] : t.text).toLowerCase();
      } else if (t.kind === 'var') {
        c.next();
        if (!c.acceptOp('=')) c.expectOp(':=');
        const v = this.constantValue(s, c);
        s.userVars.set(t.text.toLowerCase(), v as string | number | null);
        continue;
      } else {
        if (c.acceptKw('GLOBAL')) scope = 'global';
        else if (c.acceptKw('SESSION') || c.acceptKw('LOCAL')) scope = 'session';
        name = c.expectIdent().toLowerCase();
      }
      if (!c.acceptOp('=')) c.expectOp(':=');
      let value: SqlValue;
      if (c.isKw('DEFAULT')) {
        c.next();
        value = SESSION_VAR_DEFAULTS[name] ?? null;
      } else if (c.peek().kind === 'ident' && !(c.peek(1).kind === 'op' && c.peek(1).text === '(')) {
        value = c.next().text;
      } else {
        value = this.constantValue(s, c);
      }
      if (!(name in SESSION_VAR_DEFAULTS) && !READ_ONLY_VARS.has(name)) throw unknownSystemVariable(name);
      if (READ_ONLY_VARS.has(name)) throw new ObError(1238, `Variable '${name}' is a read only variable`, 'HY000');
      if (name === 'ob_query_timeout' || name === 'ob_trx_timeout') {
        if (typeof value !== 'number' || value < 0) throw new ObError(1232, `Incorrect argument type to variable '${name}'`, '42000');
      }
      if (name === 'time_zone' && typeof value === 'string' && value.toUpperCase() !== 'SYSTEM' && !/^[+-]\d{1,2}:\d{2}$/.test(value)) {
        throw new ObError(1298, `Unknown or incorrect time zone: '${value}'`, 'HY000');
      }
      // GLOBAL values are not kept per tenant by the simulator; they apply to this session too
      void scope;
      s.vars.set(name, value as string | number);
    } while (c.acceptOp(','));
    c.expectEnd();
    return { kind: 'ok' };
  }

  private constantValue(s: SessionState, c: Cursor): SqlValue {
    const start = c.position;
    // reuse the SELECT evaluator for the right-hand side: SELECT <expr>
    const text = c.sql.slice(c.peek().pos);
    let depth = 0;
    let end = text.length;
    const sub = new Cursor(text);
    while (!sub.atEnd()) {
      const t = sub.peek();
      if (t.kind === 'op' && t.text === '(') depth++;
      if (t.kind === 'op' && t.text === ')') depth--;
      if (t.kind === 'op' && t.text === ',' && depth === 0) {
        end = t.pos;
        break;
      }
      sub.next();
    }
    const exprText = text.slice(0, end);
    const rs = executeSelect(parseSelect(new Cursor(`SELECT ${exprText}`)), this.evalContext(s));
    // move the outer cursor past the expression
    while (!c.atEnd() && c.peek().pos < c.tokens[start].pos + end) c.next();
    return rs.rows[0]?.[0] ?? null;
  }

  private show(s: SessionState, c: Cursor): StatementResult {
    let scope = 'session';
    if (c.acceptKw('GLOBAL')) scope = 'global';
    else c.acceptKw('SESSION');
    void scope;
    if (c.acceptKw('VARIABLES')) {
      const filter = this.showFilter(c);
      const names = new Set([...Object.keys(SESSION_VAR_DEFAULTS), ...s.vars.keys(), 'version', 'version_comment']);
      const rows = [...names]
        .sort()
        .map((n) => [n, String(this.sessionVar(s, n))])
        .filter(([n]) => filter(n));
      return { kind: 'rows', columns: cols('Variable_name', 'Value'), rows };
    }
    if (c.acceptKw('PARAMETERS')) {
      const filter = this.showFilter(c, true);
      let tenantFilter: number | undefined;
      if (c.acceptKw('TENANT')) {
        c.acceptOp('=');
        tenantFilter = this.tenantByName(c.expectName()).id;
      }
      c.expectEnd();
      const rows = this.parameterRows(tenantFilter)
        .filter((r) => filter(String(r.name)))
        .map((r) => [r.zone, r.svr_type, r.svr_ip, r.svr_port, r.name, r.data_type, r.value, r.info, r.section, r.scope, r.source, r.edit_level]);
      return {
        kind: 'rows',
        columns: cols('zone', 'svr_type', 'svr_ip', 'svr_port:int', 'name', 'data_type', 'value', 'info', 'section', 'scope', 'source', 'edit_level'),
        rows: rows as SqlValue[][],
      };
    }
    if (c.acceptKw('DATABASES') || c.acceptKw('SCHEMAS')) {
      c.expectEnd();
      return { kind: 'rows', columns: cols('Database'), rows: [['information_schema'], ['oceanbase']] };
    }
    if (c.acceptKw('TABLES')) {
      const filter = this.showFilter(c);
      if (!s.database) throw noDatabaseSelected();
      const names = s.database === 'oceanbase' ? [...this.allTables().values()].map((t) => t.name).filter(filter).sort() : [];
      return { kind: 'rows', columns: cols(`Tables_in_${s.database}`), rows: names.map((n) => [n]) };
    }
    if (c.acceptKw('WARNINGS') || c.acceptKw('ERRORS')) {
      c.expectEnd();
      return { kind: 'rows', columns: cols('Level', 'Code:int', 'Message'), rows: [] };
    }
    if (c.acceptKw('TENANT')) {
      c.expectEnd();
      return { kind: 'rows', columns: cols('Current tenant name'), rows: [[s.tenant]] };
    }
    c.fail();
  }

  private showFilter(c: Cursor, allowEnd = false): (name: string) => boolean {
    if (c.acceptKw('LIKE')) {
      const pattern = c.expectString();
      if (!allowEnd) c.expectEnd();
      return (n) => like(n, pattern);
    }
    if (c.acceptKw('WHERE')) {
      // SHOW VARIABLES WHERE Variable_name = 'x'
      c.expectKw('VARIABLE_NAME');
      c.expectOp('=');
      const value = c.expectString();
      if (!allowEnd) c.expectEnd();
      return (n) => n.toLowerCase() === value.toLowerCase();
    }
    if (!allowEnd) c.expectEnd();
    return () => true;
  }

  private describe(s: SessionState, c: Cursor): StatementResult {
    const first = c.expectIdent();
    let schema: string | undefined;
    let name = first;
    if (c.acceptOp('.')) {
      schema = first;
      name = c.expectIdent();
    }
    c.expectEnd();
    const t = this.resolveTable(s, schema, name);
    const typeName: Record<string, string> = { int: 'bigint(20)', uint64: 'bigint(20) unsigned', double: 'double', decimal: 'decimal(20,2)', varchar: 'varchar(4096)', text: 'longtext', timestamp: 'timestamp(6)', datetime: 'datetime(6)', null: 'null' };
    return {
      kind: 'rows',
      columns: cols('Field', 'Type', 'Null', 'Key', 'Default', 'Extra'),
      rows: t.columns.map((col) => [col.name, typeName[col.type], 'YES', '', null, '']),
    };
  }

  // ---------------------------------------------------------------- shared tables

  parameterRows(tenantFilter?: number): Row[] {
    const rows: Row[] = [];
    for (const spec of this.paramSpecs) {
      const base = { zone: ZONE, svr_type: 'observer', svr_ip: SERVER_IP, svr_port: SERVER_PORT, name: spec.name, data_type: spec.dataType ?? 'STRING', info: spec.info, section: spec.section, scope: spec.scope, source: 'DEFAULT', edit_level: 'DYNAMIC_EFFECTIVE' };
      if (spec.scope === 'TENANT') {
        for (const t of this.tenants) {
          if (t.type === 'META' || (tenantFilter !== undefined && t.id !== tenantFilter)) continue;
          rows.push({ ...base, tenant_id: t.id, value: this.param(spec.name, t.id) });
        }
      } else if (tenantFilter === undefined || tenantFilter === 1 || this.major === 4) {
        rows.push({ ...base, tenant_id: null, value: this.param(spec.name) });
      }
    }
    return rows;
  }

  private commonTables(): TableDef[] {
    const ts = (us: number) => new SqlTime(us);
    const tables: TableDef[] = [
      {
        name: '__all_tenant',
        columns: cols('gmt_create:timestamp', 'gmt_modified:timestamp', 'tenant_id:int', 'tenant_name', 'zone_list', 'primary_zone', 'locked:int', 'collation_type:int', 'info', 'read_only:int', 'locality', 'compatibility_mode:int', 'status'),
        rows: () =>
          this.tenants
            .filter((t) => this.major === 4 || t.type !== 'META')
            .map((t) => ({ gmt_create: ts(t.createUs), gmt_modified: ts(t.createUs), tenant_id: t.id, tenant_name: t.name, zone_list: ZONE, primary_zone: 'RANDOM', locked: 0, collation_type: 0, info: t.type === 'SYS' ? 'system tenant' : '', read_only: 0, locality: `FULL{1}@${ZONE}`, compatibility_mode: 0, status: t.status === 'NORMAL' ? 'TENANT_STATUS_NORMAL' : `TENANT_STATUS_${t.status}` })),
      },
      {
        name: '__all_virtual_sys_parameter_stat',
        columns: cols('zone', 'svr_type', 'svr_ip', 'svr_port:int', 'name', 'data_type', 'value', 'value_strict', 'info', 'need_reboot:int', 'section', 'visible_level', 'scope', 'source', 'edit_level'),
        rows: () => this.parameterRows().filter((r) => r.scope === 'CLUSTER').map((r) => ({ ...r, value_strict: null, need_reboot: 0, visible_level: 'SYS' })),
      },
      {
        name: '__all_server',
        columns: cols('svr_ip', 'svr_port:int', 'id:int', 'zone', 'inner_port:int', 'status', 'with_rootserver:int', 'build_version', 'start_service_time:int'),
        rows: () => [{ svr_ip: SERVER_IP, svr_port: SERVER_PORT, id: 1, zone: ZONE, inner_port: 2881, status: 'ACTIVE', with_rootserver: 1, build_version: `${this.fullVersion}_1-obsim`, start_service_time: 1 }],
      },
    ];
    if (this.major === 4) {
      tables.push(
        {
          name: 'DBA_OB_TENANTS',
          columns: cols('TENANT_ID:int', 'TENANT_NAME', 'TENANT_TYPE', 'CREATE_TIME:timestamp', 'MODIFY_TIME:timestamp', 'PRIMARY_ZONE', 'LOCALITY', 'PREVIOUS_LOCALITY', 'COMPATIBILITY_MODE', 'STATUS', 'IN_RECYCLEBIN', 'LOCKED', 'TENANT_ROLE', 'SWITCHOVER_STATUS', 'SWITCHOVER_EPOCH:int', 'SYNC_SCN:uint64', 'REPLAYABLE_SCN:uint64', 'READABLE_SCN:uint64', 'RECOVERY_UNTIL_SCN:uint64', 'LOG_MODE', 'ARBITRATION_SERVICE_STATUS', 'UNIT_NUM:int', 'COMPATIBLE', 'MAX_LS_ID:int'),
          rows: () =>
            this.tenants.map((t) => {
              const scn = BigInt(this.nowUs()) * 1000n;
              return {
                TENANT_ID: t.id, TENANT_NAME: t.name, TENANT_TYPE: t.type, CREATE_TIME: ts(t.createUs), MODIFY_TIME: ts(t.createUs), PRIMARY_ZONE: 'RANDOM', LOCALITY: `FULL{1}@${ZONE}`, PREVIOUS_LOCALITY: null, COMPATIBILITY_MODE: 'MYSQL', STATUS: t.status, IN_RECYCLEBIN: 'NO', LOCKED: 'NO', TENANT_ROLE: 'PRIMARY', SWITCHOVER_STATUS: 'NORMAL', SWITCHOVER_EPOCH: 0,
                SYNC_SCN: t.type === 'USER' ? scn : null, REPLAYABLE_SCN: t.type === 'USER' ? scn : null, READABLE_SCN: t.type === 'USER' ? scn : null, RECOVERY_UNTIL_SCN: t.type === 'USER' ? 4611686018427387903n : null,
                LOG_MODE: t.logMode, ARBITRATION_SERVICE_STATUS: 'DISABLED', UNIT_NUM: 1, COMPATIBLE: this.fullVersion, MAX_LS_ID: t.type === 'USER' ? 1001 : 1,
              };
            }),
        },
        {
          name: 'GV$OB_PARAMETERS',
          columns: cols('SVR_IP', 'SVR_PORT:int', 'ZONE', 'SCOPE', 'TENANT_ID:int', 'NAME', 'DATA_TYPE', 'VALUE', 'INFO', 'SECTION', 'EDIT_LEVEL', 'DEFAULT_VALUE', 'ISDEFAULT'),
          rows: () =>
            this.parameterRows().map((r) => ({ SVR_IP: r.svr_ip, SVR_PORT: r.svr_port, ZONE: r.zone, SCOPE: r.scope, TENANT_ID: r.tenant_id, NAME: r.name, DATA_TYPE: r.data_type, VALUE: r.value, INFO: r.info, SECTION: r.section, EDIT_LEVEL: r.edit_level, DEFAULT_VALUE: this.paramSpecs.find((p) => p.name === r.name)?.def ?? '', ISDEFAULT: (this.paramSpecs.find((p) => p.name === r.name)?.def ?? '') === r.value ? 'YES' : 'NO' })),
        },
      );
    }
    return tables;
  }
}

function OB_TEXT_FALLBACK(code: number): string {
  return obError(code).message;
}

export { formatTime };
