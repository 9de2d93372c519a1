import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, AuditEventsTable } from '../db/schema';

export type AuditEventRow = Selectable<AuditEventsTable>;

/** Serialises appends to one fund's chain until the transaction ends. */
export async function lockFundChain(trx: Transaction<Database>, fundId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`audit:${fundId}`}, 0))`.execute(trx);
}

export async function findChainHead(trx: Transaction<Database>, fundId: string) {
  return trx.selectFrom('audit_events').select(['seq', 'hash']).where('fund_id', '=', fundId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

export async function insertAuditEvent(trx: Transaction<Database>, row: Omit<AuditEventRow, 'id'>): Promise<void> {
  await trx.insertInto('audit_events').values({ ...row, state: JSON.stringify(row.state) }).execute();
}

/** Events oldest first, keyset-paginated on id; `fundIds` undefined means every fund. */
export async function listAuditEvents(db: Db, filter: { fundIds: string[] | undefined; afterId: string | undefined; limit: number }) {
  let query = db.selectFrom('audit_events').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundIds) query = query.where('fund_id', 'in', filter.fundIds);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}

/** One fund's chain in order, from seq `afterSeq` + 1. */
export async function chainSegment(db: Db, fundId: string, afterSeq: number, limit: number) {
  return db.selectFrom('audit_events').selectAll().where('fund_id', '=', fundId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
}
