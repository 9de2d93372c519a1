import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { RequestContext } from '../http/auth';
import { eventHash, GENESIS_HASH } from './audit-chain';
import {
  insertChainEvents,
  lockChainHead,
  setChainHead,
  startChainHeads,
} from './audit.repository';

/** A change to chain: the entity as the API shows it after the change (see AuditedChange). */
export interface ChainedChange {
  readonly action: string;
  readonly entity_type: string;
  readonly entity_id: string;
  readonly state: unknown;
}

/** Events appended to a chain after (seq, hash), hashed here as PostgreSQL hashes one the API appends (audit-chain.ts). */
function chain(
  context: RequestContext,
  fundId: string,
  stream: string,
  seq: number,
  hash: string,
  changes: readonly ChainedChange[],
) {
  const events = [];
  for (const change of changes) {
    const event = {
      fund_id: fundId,
      stream,
      seq: seq + 1,
      occurred_at: new Date(),
      actor_key_id: context.actor.keyId,
      request_id: context.requestId || null,
      ...change,
      state: JSON.parse(JSON.stringify(change.state)) as unknown,
      prev_hash: hash,
    };
    hash = eventHash(event);
    seq += 1;
    events.push({ ...event, hash });
  }
  return events;
}

/**
 * New chains in bulk (an import's loans, each its own stream with at least one change), from the
 * genesis hash, with their heads: what recordAuditEvent would have made of them one by one.
 */
export async function recordNewChains(
  trx: Transaction<Database>,
  context: RequestContext,
  streams: readonly { fundId: string; stream: string; changes: readonly ChainedChange[] }[],
): Promise<void> {
  const chains = streams.map((s) => chain(context, s.fundId, s.stream, 0, GENESIS_HASH, s.changes));
  await insertChainEvents(trx, chains.flat());
  await startChainHeads(
    trx,
    chains.map((events) => events.at(-1)!),
  );
}

/** Changes appended to the fund's own chain in bulk, last: its head is locked only from here to the commit, as the API's changes do. */
export async function recordOnFundChain(
  trx: Transaction<Database>,
  context: RequestContext,
  fundId: string,
  changes: readonly ChainedChange[],
): Promise<void> {
  const head = (await lockChainHead(trx, fundId)) ?? { seq: 0, hash: GENESIS_HASH };
  const events = chain(context, fundId, fundId, head.seq, head.hash, changes);
  await insertChainEvents(trx, events);
  await setChainHead(trx, events.at(-1)!);
}
