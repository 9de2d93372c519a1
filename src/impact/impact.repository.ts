import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ImpactSnapshotsTable } from '../db/schema';

export type ImpactSnapshotRow = Selectable<ImpactSnapshotsTable>;

export async function insertImpactSnapshot(
  trx: Transaction<Database>,
  snapshot: Omit<ImpactSnapshotRow, 'created_at'>,
): Promise<ImpactSnapshotRow> {
  return trx
    .insertInto('impact_snapshots')
    .values(snapshot)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A structure's snapshots, oldest first (a structure reports about once a year: a few dozen rows at most). */
export async function listImpactSnapshots(
  db: Db,
  structureId: string,
  filter: { from?: string; to?: string },
): Promise<ImpactSnapshotRow[]> {
  let query = db
    .selectFrom('impact_snapshots')
    .selectAll()
    .where('structure_id', '=', structureId)
    .orderBy('snapshot_date');
  if (filter.from) query = query.where('snapshot_date', '>=', filter.from);
  if (filter.to) query = query.where('snapshot_date', '<=', filter.to);
  return query.execute();
}
