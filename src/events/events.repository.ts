import type { Selectable } from 'kysely';
import type { Db } from '../db/connect';
import type { EventsTable } from '../db/schema';

export type EventRow = Selectable<EventsTable>;

export interface EventFilter {
  readonly fundId?: string;
  readonly structureId?: string;
  readonly types?: readonly string[];
  readonly loanId?: string;
  /** Events created at or after this instant. */
  readonly since?: Date;
  readonly afterSeq?: string;
  readonly limit: number;
}

/** One page (plus one row) of events, oldest first: a feed to follow with its cursor. */
export function findEvents(db: Db, filter: EventFilter): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll();
  if (filter.fundId !== undefined) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId !== undefined)
    query = query.where('structure_id', '=', filter.structureId);
  if (filter.types !== undefined && filter.types.length > 0)
    query = query.where('type', 'in', filter.types);
  if (filter.loanId !== undefined) query = query.where('loan_id', '=', filter.loanId);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  return query.orderBy('seq').limit(filter.limit).execute();
}

export function findEventById(db: Db, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}
