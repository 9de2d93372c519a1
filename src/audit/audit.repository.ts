import { sql, type Selectable, type Transaction } from 'kysely';
import { insertRows } from '../db/bulk-insert';
import type { Db } from '../db/connect';
import type { AuditEventsTable, Database } from '../db/schema';
import type { Write } from '../db/writes';
import { chainHashSql } from './audit-chain';

export type AuditEventRow = Selectable<AuditEventsTable>;

/**
 * Appending an event to its chain (its stream: a loan, or the fund), as two writes of one statement: the head row advances (the
 * first event starts it from the genesis hash) and the event is inserted with its seq, prev_hash and
 * hash, chainHashSql: the definition eventHash computes in TS (audit-chain.ts).
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
        VALUES (${row.stream}::uuid, ${row.fund_id}::uuid, 1, ${genesis}, ${chainHashSql(sql`${genesis}`, sql`'1'`, text)})
        ON CONFLICT (stream) DO UPDATE SET seq = h.seq + 1, prev_hash = h.hash,
          hash = ${chainHashSql(sql`h.hash`, sql`(h.seq + 1)::text`, text)}
        RETURNING seq, prev_hash, hash`,
    },
    {
      query: sql`INSERT INTO audit_events (fund_id, stream, seq, occurred_at, actor_key_id, action, entity_type, entity_id, request_id, state, prev_hash, hash)
        SELECT ${row.fund_id}::uuid, ${row.stream}::uuid, audit_head.seq, ${row.occurred_at}::timestamptz, ${row.actor_key_id}, ${row.action}, ${row.entity_type}, ${row.entity_id}::uuid,
          ${row.request_id}, ${JSON.stringify(row.state)}::jsonb, audit_head.prev_hash, audit_head.hash FROM audit_head`,
    },
  ];
}

/** Events already chained and hashed (an import's), in bulk. */
export async function insertChainEvents(
  trx: Transaction<Database>,
  events: readonly Omit<AuditEventRow, 'id'>[],
): Promise<void> {
  await insertRows(trx, 'audit_events', events);
}

type ChainEnd = Pick<AuditEventRow, 'stream' | 'fund_id' | 'seq' | 'prev_hash' | 'hash'>;

/** The heads of new chains, at their last events. */
export async function startChainHeads(
  trx: Transaction<Database>,
  lasts: readonly ChainEnd[],
): Promise<void> {
  await sql`INSERT INTO audit_chain_heads (stream, fund_id, seq, prev_hash, hash)
    SELECT stream, fund_id, seq, prev_hash, hash FROM jsonb_to_recordset(${JSON.stringify(lasts)}::jsonb)
      AS h(stream uuid, fund_id uuid, seq integer, prev_hash text, hash text)`.execute(trx);
}

/** A chain's head, locked until the commit; undefined before its first event. */
export async function lockChainHead(
  trx: Transaction<Database>,
  stream: string,
): Promise<{ seq: number; hash: string } | undefined> {
  const { rows } = await sql<{
    seq: number;
    hash: string;
  }>`SELECT seq, hash FROM audit_chain_heads WHERE stream = ${stream}::uuid FOR UPDATE`.execute(
    trx,
  );
  return rows[0];
}

/** A chain's head moved to its last event (made if the chain had none). */
export async function setChainHead(trx: Transaction<Database>, last: ChainEnd): Promise<void> {
  await sql`INSERT INTO audit_chain_heads AS h (stream, fund_id, seq, prev_hash, hash)
    VALUES (${last.stream}::uuid, ${last.fund_id}::uuid, ${last.seq}::integer, ${last.prev_hash}, ${last.hash})
    ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, prev_hash = excluded.prev_hash, hash = excluded.hash`.execute(
    trx,
  );
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
