import { createHash } from 'node:crypto';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { Actor } from '../http/auth';
import { instantFromQuery } from '../http/instant';
import {
  chainHeadsAfter,
  chainSegment,
  oldestOpenTransactionStart,
  type AuditEventRow,
  type ChainHeadRow,
} from './audit.repository';
import { chainCheck, type BrokenChain } from './chain-check';

export interface ChainVerdict {
  readonly fund_id: string;
  readonly valid: boolean;
  readonly events_checked: number;
  readonly first_broken: { seq: number; event_id: string | null; reason: string } | null;
  readonly chains_checked: number;
  readonly broken_chains: readonly BrokenChain[];
  readonly anchor: { as_of: string; heads: number; digest: string };
}

/** A fund the key may see, or a 404: src/funds/find-visible-fund.ts, passed in (funds sit above audit). */
export type FindVisibleFund = (db: Db, actor: Actor, fundId: string) => Promise<{ id: string }>;

const BATCH = 1000;
const NIL = '00000000-0000-0000-0000-000000000000';
/** How far the API hosts' clocks (occurred_at) and PostgreSQL's (xact_start, now()) may disagree. */
const CLOCK_MARGIN_MS = 5_000;

/**
 * The latest instant up to which every event is committed, so that a digest as of it can be
 * recomputed identically later: an event's occurred_at is taken inside its transaction, so it is no
 * earlier than that transaction's start, and every transaction not yet committed is open now or
 * starts later. The margin covers clocks that disagree.
 */
async function anchorCutoff(db: Db): Promise<Date> {
  return new Date((await oldestOpenTransactionStart(db)).getTime() - CLOCK_MARGIN_MS);
}

/** A keyset-paginated query's rows, read BATCH at a time (`read` gets the last row read), taken one by one. */
function rowsInBatches<T>(read: (after: T | undefined) => Promise<T[]>) {
  let rows: T[] = [];
  let index = 0;
  let more = true;
  const peek = async (): Promise<T | undefined> => {
    if (index === rows.length && more) {
      rows = await read(rows.at(-1));
      index = 0;
      more = rows.length === BATCH;
    }
    return rows[index];
  };
  const take = async (): Promise<T> => {
    const row = (await peek())!;
    index += 1;
    return row;
  };
  return { peek, take };
}

/**
 * Recomputes each of a fund's chains (its own, each loan's) from its first event, checks its end
 * against its head, and reports every broken chain; with the anchor as of `asOf` (at most the cutoff).
 */
export async function verifyAuditChain(db: Db, fundId: string, asOf?: Date): Promise<ChainVerdict> {
  // Read before the snapshot is taken: a transaction that commits in between is then in the snapshot.
  const cutoff = await anchorCutoff(db);
  const anchorAt = asOf && asOf < cutoff ? asOf : cutoff;
  // One snapshot, so that each head is read as of the same moment as its chain (PGlite, whose one
  // connection this transaction holds, has no other writer meanwhile).
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const events = rowsInBatches<AuditEventRow>((after) =>
        chainSegment(trx, fundId, after ?? { stream: NIL, seq: 0 }, BATCH),
      );
      const heads = rowsInBatches<ChainHeadRow>((after) =>
        chainHeadsAfter(trx, fundId, after?.stream ?? NIL, BATCH),
      );
      const broken: BrokenChain[] = [];
      const digest = createHash('sha256');
      let eventsChecked = 0;
      let chains = 0;
      let anchoredChains = 0;
      for (
        let event = await events.peek(), head = await heads.peek();
        event || head;
        event = await events.peek(), head = await heads.peek()
      ) {
        // Every stream that has events, a head or both, in stream order (uuid order is lowercase text order).
        const stream = event && (!head || event.stream < head.stream) ? event.stream : head!.stream;
        const chain = chainCheck(
          stream,
          head?.stream === stream ? await heads.take() : undefined,
          anchorAt,
        );
        while ((await events.peek())?.stream === stream) chain.add(await events.take());
        const end = chain.end();
        chains += 1;
        eventsChecked += end.events;
        if (end.broken) broken.push(end.broken);
        if (end.anchored) {
          // The anchor's line for this chain, as openapi.yaml (AuditAnchor) defines it.
          digest.update(`${stream} ${end.anchored.seq} ${end.anchored.hash}\n`);
          anchoredChains += 1;
        }
      }
      const first = broken[0];
      return {
        fund_id: fundId,
        valid: first === undefined,
        events_checked: eventsChecked,
        first_broken: first
          ? { seq: first.seq, event_id: first.event_id, reason: first.reason }
          : null,
        chains_checked: chains,
        broken_chains: broken,
        anchor: {
          as_of: anchorAt.toISOString(),
          heads: anchoredChains,
          digest: digest.digest('hex'),
        },
      };
    });
}

/** The chain of a fund the key may see (admin, its manager or auditor; their own by default), or a 404. */
export async function verifyFundChain(
  db: Db,
  actor: Actor,
  query: { fund_id?: string; as_of?: string },
  findVisibleFund: FindVisibleFund,
): Promise<ChainVerdict> {
  const asOf = instantFromQuery(query.as_of, 'as_of');
  const named = query.fund_id ?? actor.fundId ?? undefined;
  if (named === undefined) {
    throw new DomainError('invalid_request', 'Name the fund whose chain to verify.', [
      { field: 'fund_id', in: 'query', message: 'is required for the admin' },
    ]);
  }
  const fund = await findVisibleFund(db, actor, named);
  return verifyAuditChain(db, fund.id, asOf);
}
