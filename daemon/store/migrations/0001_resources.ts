import type { Kysely } from 'kysely';
import { columnType, createTable } from '../ddl.js';

/** Clusters, storages and policies; a policy references its cluster and storages, one policy per cluster. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const resourceColumns = <T extends string>(table: T) =>
    createTable(db, table)
      .addColumn('name', columnType.name, (c) => c.primaryKey())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('spec', columnType.json, (c) => c.notNull())
      .addColumn('secrets', columnType.json)
      .addColumn('created_at', columnType.timestamp, (c) => c.notNull())
      .addColumn('updated_at', columnType.timestamp, (c) => c.notNull());

  await resourceColumns('clusters').execute();
  await resourceColumns('storages').execute();
  await resourceColumns('policies')
    .addColumn('cluster', columnType.name, (c) => c.notNull())
    .addColumn('storage', columnType.name, (c) => c.notNull())
    .addColumn('secondary_storage', columnType.name)
    .addUniqueConstraint('policies_cluster_unique', ['cluster'])
    // The API checks references first to name the culprit; the keys guard against races between writers.
    .addForeignKeyConstraint('policies_cluster_fk', ['cluster'], 'clusters', ['name'], (fk) => fk.onDelete('restrict'))
    .addForeignKeyConstraint('policies_storage_fk', ['storage'], 'storages', ['name'], (fk) => fk.onDelete('restrict'))
    .addForeignKeyConstraint('policies_secondary_storage_fk', ['secondary_storage'], 'storages', ['name'], (fk) =>
      fk.onDelete('restrict'),
    )
    .execute();
  await db.schema.createIndex('policies_storage_idx').on('policies').column('storage').execute();
  await db.schema.createIndex('policies_secondary_storage_idx').on('policies').column('secondary_storage').execute();

  await createTable(db, 'settings')
    .addColumn('name', columnType.name, (c) => c.primaryKey())
    .addColumn('value', columnType.json, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['policies', 'storages', 'clusters', 'settings']) await db.schema.dropTable(table).execute();
}
