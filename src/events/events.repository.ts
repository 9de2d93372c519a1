import type { Selectable } from 'kysely';
import type { Db } from '../db/connect';
import type { EventsTable } from '../db/schema';
import { oneOf } from '../domain/one-of';
import { EVENT_TYPES, type EventType } from './event-types';

/** An event of the feed as stored; its type checked against the closed list partners subscribe to. */
export type EventRow = Omit<Selectable<EventsTable>, 'type'> & { readonly type: EventType };

const rowToEvent = (row: Selectable<EventsTable>): EventRow => ({
  ...row,
  type: oneOf(EVENT_TYPES, row.type, 'events.type'),
});

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
export async function findEvents(db: Db, filter: EventFilter): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll();
  if (filter.fundId !== undefined) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId !== undefined)
    query = query.where('structure_id', '=', filter.structureId);
  if (filter.types !== undefined && filter.types.length > 0)
    query = query.where('type', 'in', filter.types);
  if (filter.loanId !== undefined) query = query.where('loan_id', '=', filter.loanId);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  const rows = await query.orderBy('seq').limit(filter.limit).execute();
  return rows.map(rowToEvent);
}

export async function findEventById(db: Db, id: string): Promise<EventRow | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToEvent(row);
}
