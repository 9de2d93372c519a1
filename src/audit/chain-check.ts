import { GENESIS_HASH, eventHash } from './audit-chain';
import type { AuditEventRow, ChainHeadRow } from './audit.repository';

export interface BrokenChain {
  readonly stream: string;
  readonly seq: number;
  readonly event_id: string | null;
  readonly reason: string;
}

export interface ChainEnd {
  readonly events: number;
  /** The chain's first broken point: a link, or else its end against its head. */
  readonly broken: BrokenChain | undefined;
  /** Its event of highest seq among those that occurred at or before the anchor's instant. */
  readonly anchored: Pick<AuditEventRow, 'seq' | 'hash'> | undefined;
}

/**
 * Checks one chain (stream) as its events come, in seq order: each link as it comes, then its last
 * event against its head row, which moves with every append in the same statement. Deleting or
 * rewriting a chain's last events leaves every link intact; only the head still says where it ended.
 */
export function chainCheck(stream: string, head: ChainHeadRow | undefined, anchorAt: Date) {
  let last: AuditEventRow | undefined;
  let anchored: AuditEventRow | undefined;
  let broken: BrokenChain | undefined;
  let events = 0;
  const breakAt = (seq: number, eventId: string | null, reason: string) =>
    (broken ??= { stream, seq, event_id: eventId, reason });

  function linkFault(event: AuditEventRow): string | undefined {
    const expectedSeq = (last?.seq ?? 0) + 1;
    if (event.seq !== expectedSeq) return `sequence jumps from ${expectedSeq - 1} to ${event.seq}`;
    if (event.prev_hash !== (last?.hash ?? GENESIS_HASH))
      return 'prev_hash is not the hash of the event before';
    if (eventHash(event) !== event.hash) return 'the event does not match its hash: it was altered';
    return undefined;
  }

  function headFault(): string | undefined {
    if (!head) return last ? 'the chain has events but no head: its head was deleted' : undefined;
    if (!last)
      return `the head is at seq ${head.seq} but the chain has no event: its events were deleted`;
    if (head.seq > last.seq)
      return `the head is at seq ${head.seq} but the chain ends at seq ${last.seq}: its last events were deleted`;
    if (head.seq < last.seq)
      return `the chain ends at seq ${last.seq} but its head is at seq ${head.seq}: events were added behind the head's back`;
    if (head.hash !== last.hash)
      return "the head is not the last event's hash: the last event was altered and its hash recomputed";
    return undefined;
  }

  return {
    add(event: AuditEventRow): void {
      events += 1;
      const fault = broken ? undefined : linkFault(event);
      if (fault) breakAt(event.seq, event.id, fault);
      if (event.occurred_at.getTime() <= anchorAt.getTime()) anchored = event;
      last = event;
    },
    end(): ChainEnd {
      const fault = headFault();
      if (fault) breakAt(head?.seq ?? last!.seq, last?.id ?? null, fault);
      return { events, broken, anchored };
    },
  };
}
