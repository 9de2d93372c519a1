import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { listScope, seesOwner, type Actor } from '../http/auth';
import { instantFromQuery } from '../http/instant';
import type { Page } from '../http/pagination';
import { findEventById, findEvents, type EventRow } from './events.repository';

export type { EventRow };

export interface EventQuery {
  fund_id?: string;
  type?: string;
  loan_id?: string;
  since?: string;
}

/** One page (plus one row) of the events the key may see: its fund's, or its structure's own. */
export function listEvents(
  db: Db,
  actor: Actor,
  query: EventQuery,
  page: Page,
): Promise<EventRow[]> {
  const scope = listScope(actor, query.fund_id);
  const types = query.type
    ?.split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  return findEvents(db, {
    ...scope,
    types,
    loanId: query.loan_id,
    since: instantFromQuery(query.since, 'since'),
    afterSeq: page.after,
    limit: page.limit + 1,
  });
}

/** An event the key may see (a structure key: its own loans'), else a 404. */
export async function findVisibleEvent(db: Db, actor: Actor, id: string): Promise<EventRow> {
  const event = await findEventById(db, id);
  if (!event || !seesOwner(actor, event.fund_id, event.structure_id))
    throw new DomainError('not_found', 'No such event.');
  return event;
}
