import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/connect';
import type { AuditEventsTable } from '../db/schema';
import type { Write } from '../db/writes';

export type AuditEventRow = Selectable<AuditEventsTable>;

/**
 * Appending an event to its chain (its stream: a loan, or the fund), as two writes of one statement: the head row advances (the
 * first event starts it from the genesis hash) and the event is inserted with its seq, prev_hash and
 * hash, SHA-256(prev_hash ‖ before ‖ seq ‖ after) computed here as audit-chain.ts computes it.
 * One per statement: a statement cannot advance the same head twice.
 */
export function chainAppendWrites(
  row: Omit<AuditEventRow, 'id' | 'seq' | 'prev_hash' | 'hash'>,
  text: { before: string; after: string },
  genesis: string,
): Write[] {
  return [
    {
      name: 'audit_head',
      query: sql`INSERT INTO audit_chain_heads AS h (stream, fund_id, seq, prev_hash, hash)
        VALUES (${row.stream}::uuid, ${row.fund_id}::uuid, 1, ${genesis}, encode(sha256(convert_to(${genesis} || ${text.before} || '1' || ${text.after}, 'UTF8')), 'hex'))
        ON CONFLICT (stream) DO UPDATE SET seq = h.seq + 1, prev_hash = h.hash,
          hash = encode(sha256(convert_to(h.hash || ${text.before} || (h.seq + 1)::text || ${text.after}, 'UTF8')), 'hex')
        RETURNING seq, prev_hash, hash`,
    },
    {
      query: sql`INSERT INTO audit_events (fund_id, stream, seq, occurred_at, actor_key_id, action, entity_type, entity_id, request_id, state, prev_hash, hash)
        SELECT ${row.fund_id}::uuid, ${row.stream}::uuid, audit_head.seq, ${row.occurred_at}::timestamptz, ${row.actor_key_id}, ${row.action}, ${row.entity_type}, ${row.entity_id}::uuid,
          ${row.request_id}, ${JSON.stringify(row.state)}::jsonb, audit_head.prev_hash, audit_head.hash FROM audit_head`,
    },
  ];
}

/** Events oldest first, keyset-paginated on id; `fundIds` undefined means every fund. */
export async function listAuditEvents(
  db: Db,
  filter: { fundIds: string[] | undefined; afterId: string | undefined; limit: number },
) {
  let query = db.selectFrom('audit_events').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundIds) query = query.where('fund_id', 'in', filter.fundIds);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}

/** A fund's chains in order, stream by stream, after the event (stream, seq) given. */
export async function chainSegment(
  db: Db,
  fundId: string,
  after: { stream: string; seq: number },
  limit: number,
) {
  return db
    .selectFrom('audit_events')
    .selectAll()
    .where('fund_id', '=', fundId)
    .where(sql<boolean>`(stream, seq) > (${after.stream}::uuid, ${after.seq}::integer)`)
    .orderBy('stream')
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export interface ChainHeadRow {
  stream: string;
  seq: number;
  hash: string;
}

/** A fund's chain heads in stream order, after the stream given (src/db/schema.ts does not mirror this table). */
export async function chainHeadsAfter(
  db: Db,
  fundId: string,
  afterStream: string,
  limit: number,
): Promise<ChainHeadRow[]> {
  const { rows } = await sql<ChainHeadRow>`SELECT stream, seq, hash FROM audit_chain_heads
    WHERE fund_id = ${fundId}::uuid AND stream > ${afterStream}::uuid ORDER BY stream LIMIT ${limit}`.execute(
    db,
  );
  return rows;
}

/**
 * now(), or the start of the oldest transaction open on this database in another session if earlier.
 * A role sees the transactions of its own sessions only (others' need pg_read_all_stats). PGlite has
 * one session, this one: there it is now().
 */
export async function oldestOpenTransactionStart(db: Db): Promise<Date> {
  const { rows } = await sql<{
    start: Date;
  }>`SELECT least(now(), (SELECT min(xact_start) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL)) AS start`.execute(
    db,
  );
  return rows[0]!.start;
}
