import { createQueryId, type CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database, ResourceRow, ResourceTable } from './schema.js';

/** A write-only field at rest: AES-256-GCM ciphertext plus its keyed fingerprint. */
export interface SealedSecret {
  ciphertext: string;
  fingerprint: string;
}

/** A stored resource as the API works with it (JSON columns parsed). */
export interface StoredResource {
  name: string;
  version: number;
  spec: Record<string, unknown>;
  secrets: Record<string, SealedSecret>;
  created_at: string;
  updated_at: string;
}

/** Extra columns a table keeps next to the JSON spec (policies: what they reference). */
export type IndexedColumns = Record<string, string | null>;

export type Executor = Kysely<Database> | Transaction<Database>;

function fromRow(row: ResourceRow): StoredResource {
  return {
    name: row.name,
    version: Number(row.version),
    spec: JSON.parse(row.spec) as Record<string, unknown>,
    secrets: row.secrets ? (JSON.parse(row.secrets) as Record<string, SealedSecret>) : {},
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function toRow(r: StoredResource): ResourceRow {
  return {
    name: r.name,
    version: r.version,
    spec: JSON.stringify(r.spec),
    secrets: Object.keys(r.secrets).length > 0 ? JSON.stringify(r.secrets) : null,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/**
 * Reads and writes of clusters, storages and policies; the same queries on both stores. Writes take an
 * executor so the caller groups its checks and writes in one transaction.
 */
export class ResourceRepository {
  /** `lockingReads`: the store supports SELECT … FOR UPDATE (MySQL); SQLite serializes writers instead. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly lockingReads: boolean,
  ) {}

  /** Point reads are the API's hot path: their SQL is compiled once per table, only the name changes. */
  private readonly pointReads = new Map<ResourceTable, CompiledQuery<ResourceRow>>();

  async get(table: ResourceTable, name: string, opts: { executor?: Executor; lock?: boolean } = {}) {
    const executor = opts.executor ?? this.db;
    let row: ResourceRow | undefined;
    if (opts.lock && this.lockingReads) {
      row = await executor.selectFrom(table as 'clusters').selectAll().where('name', '=', name).forUpdate().executeTakeFirst();
    } else {
      let compiled = this.pointReads.get(table);
      if (!compiled) {
        compiled = this.db.selectFrom(table as 'clusters').selectAll().where('name', '=', '').compile();
        this.pointReads.set(table, compiled);
      }
      const result = await executor.executeQuery<ResourceRow>({ ...compiled, parameters: [name], queryId: createQueryId() });
      row = result.rows[0];
    }
    return row ? fromRow(row) : undefined;
  }

  /** By name; with `page`, at most `limit` of them, those after the name `after`. */
  async list(table: ResourceTable, executor: Executor = this.db, page?: { limit: number; after?: string }): Promise<StoredResource[]> {
    let query = executor.selectFrom(table as 'clusters').selectAll().orderBy('name');
    if (page?.after !== undefined) query = query.where('name', '>', page.after);
    if (page) query = query.limit(page.limit);
    return (await query.execute()).map(fromRow);
  }

  async insert(executor: Executor, table: ResourceTable, record: StoredResource, columns: IndexedColumns = {}) {
    await executor
      .insertInto(table as 'clusters')
      .values({ ...toRow(record), ...columns })
      .execute();
  }

  /** Replaces the row if it is still at `expectedVersion`; false when another writer got there first. */
  async update(executor: Executor, table: ResourceTable, record: StoredResource, expectedVersion: number, columns: IndexedColumns = {}) {
    const { name, created_at: _created, ...changes } = toRow(record);
    const result = await executor
      .updateTable(table as 'clusters')
      .set({ ...changes, ...columns })
      .where('name', '=', name)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(executor: Executor, table: ResourceTable, name: string, expectedVersion?: number) {
    let query = executor.deleteFrom(table as 'clusters').where('name', '=', name);
    if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Names of the policies that use a cluster, or a storage as primary or secondary. */
  async policiesUsing(executor: Executor, kind: 'cluster' | 'storage', name: string, lock = false): Promise<string[]> {
    let query = executor.selectFrom('policies').select('name');
    query =
      kind === 'cluster'
        ? query.where('cluster', '=', name)
        : query.where((eb) => eb.or([eb('storage', '=', name), eb('secondary_storage', '=', name)]));
    if (lock && this.lockingReads) query = query.forUpdate();
    const rows = await query.orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  /**
   * With `lock`, keeps the row from being deleted until the transaction ends. FOR UPDATE rather than a
   * shared lock: MariaDB has no FOR SHARE, and every MySQL-protocol store (OceanBase too) has FOR UPDATE.
   */
  async exists(executor: Executor, table: ResourceTable, name: string, lock = false): Promise<boolean> {
    let query = executor.selectFrom(table as 'clusters').select('name').where('name', '=', name);
    if (lock && this.lockingReads) query = query.forUpdate();
    return (await query.executeTakeFirst()) !== undefined;
  }
}
