import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ImpactSnapshotsTable } from '../db/schema';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { formatMoney, parseMoney, type Money } from '../domain/money';

/** A snapshot as the application holds it: jobs in FTE exactly (numeric(10,2)), revenue as money. */
export interface ImpactSnapshot {
  readonly id: string;
  readonly fund_id: string;
  readonly structure_id: string;
  readonly snapshot_date: CalendarDate;
  readonly jobs_fte: ExactDecimal;
  readonly jobs_created: ExactDecimal;
  readonly jobs_maintained: ExactDecimal;
  readonly still_active: boolean;
  readonly revenue: Money | null;
  readonly recorded_by: string;
  readonly created_at: Date;
}

export function rowToImpactSnapshot(row: Selectable<ImpactSnapshotsTable>): ImpactSnapshot {
  return {
    ...row,
    snapshot_date: parseDate(row.snapshot_date),
    jobs_fte: parseExactDecimal(row.jobs_fte),
    jobs_created: parseExactDecimal(row.jobs_created),
    jobs_maintained: parseExactDecimal(row.jobs_maintained),
    revenue: row.revenue === null ? null : parseMoney(row.revenue),
  };
}

export async function insertImpactSnapshot(
  trx: Transaction<Database>,
  snapshot: Omit<ImpactSnapshot, 'created_at'>,
): Promise<ImpactSnapshot> {
  const row = await trx
    .insertInto('impact_snapshots')
    .values({
      ...snapshot,
      jobs_fte: snapshot.jobs_fte.toFixed(2),
      jobs_created: snapshot.jobs_created.toFixed(2),
      jobs_maintained: snapshot.jobs_maintained.toFixed(2),
      revenue: snapshot.revenue === null ? null : formatMoney(snapshot.revenue),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToImpactSnapshot(row);
}

/** A structure's snapshots, oldest first (a structure reports about once a year: a few dozen rows at most). */
export async function listImpactSnapshots(
  db: Db,
  structureId: string,
  filter: { from?: string; to?: string },
): Promise<ImpactSnapshot[]> {
  let query = db
    .selectFrom('impact_snapshots')
    .selectAll()
    .where('structure_id', '=', structureId)
    .orderBy('snapshot_date');
  if (filter.from) query = query.where('snapshot_date', '>=', filter.from);
  if (filter.to) query = query.where('snapshot_date', '<=', filter.to);
  return (await query.execute()).map(rowToImpactSnapshot);
}
