import { COMPONENTS, type Allocation } from '../domain/allocation';
import type { RepaymentOutcome, Servicing } from '../domain/servicing';
import { UNSTORED_SEQ } from './servicing-events';
import type { AllocationAmounts, RepaymentSplit } from './servicing-rows';
import type { RepaymentAllocation, Repayment } from './servicing.repository';
import type { LoanHistory } from './loan-history';

/** A repayment to record: replayed as the latest fact, then stored with its allocation. */
export type NewRepayment = Omit<
  Repayment,
  'seq' | 'created_at' | 'reversed_at' | 'reversal_reason' | 'kind' | 'principal_prepaid' | 'excess'
>;

/** A stored repayment the replay allocated anew: its split and allocations, and the instalment numbers it no longer pays. */
export interface Reallocation {
  readonly id: string;
  readonly split: RepaymentSplit;
  readonly rows: AllocationAmounts[];
  readonly lostNumbers: number[];
}

/** What the replay made of one repayment, as the rows that store it. */
export function outcomeRows(outcome: RepaymentOutcome): {
  split: RepaymentSplit;
  rows: AllocationAmounts[];
} {
  const split: RepaymentSplit = {
    kind: outcome.recovered > 0n ? 'recovery' : 'repayment',
    principal_prepaid: outcome.principalPrepaid,
    excess: outcome.excess,
  };
  const rows = outcome.allocations.map((a) => ({ number: a.number, ...a.amounts }));
  return { split, rows };
}

/** The new repayment as it will be once stored (the database gives it its seq). */
export const unstoredRepayment = (repayment: NewRepayment, split: RepaymentSplit): Repayment => ({
  ...repayment,
  ...split,
  seq: UNSTORED_SEQ,
  created_at: new Date(),
  reversed_at: null,
  reversal_reason: null,
});

/** The new repayment as the replay allocated it: its row, its allocations, and the same as rows of the loan's allocations. */
export function recordedRepayment(servicing: Servicing, repayment: NewRepayment) {
  const { split, rows } = outcomeRows(servicing.outcomes.get(repayment.id)!);
  return {
    repayment: unstoredRepayment(repayment, split),
    rows,
    allocations: rows.map((a): RepaymentAllocation => ({ repayment_id: repayment.id, ...a })),
  };
}

/** Every standing repayment's allocations, and the repayments the replay allocated differently from how they are stored. */
export function reallocations(
  stored: LoanHistory,
  servicing: Servicing,
): { allocations: RepaymentAllocation[]; reallocated: Reallocation[] } {
  const storedBy = new Map<string, RepaymentAllocation[]>();
  for (const a of stored.allocations)
    storedBy.set(a.repayment_id, [...(storedBy.get(a.repayment_id) ?? []), a]);
  const allocations: RepaymentAllocation[] = [];
  const reallocated: Reallocation[] = [];
  for (const repayment of stored.repayments) {
    const outcome = servicing.outcomes.get(repayment.id)!;
    const { split, rows } = outcomeRows(outcome);
    allocations.push(...rows.map((row) => ({ repayment_id: repayment.id, ...row })));
    const had = storedBy.get(repayment.id) ?? [];
    const unchanged =
      split.kind === repayment.kind &&
      outcome.principalPrepaid === repayment.principal_prepaid &&
      outcome.excess === repayment.excess &&
      sameAllocations(had, outcome.allocations);
    if (unchanged) continue;
    const kept = new Set(rows.map((row) => row.number));
    const lostNumbers = had.map((a) => a.number).filter((number) => !kept.has(number));
    reallocated.push({ id: repayment.id, split, rows, lostNumbers });
  }
  return { allocations, reallocated };
}

const sameAllocations = (stored: readonly RepaymentAllocation[], replayed: readonly Allocation[]) =>
  stored.length === replayed.length &&
  stored.every(
    (row, k) =>
      row.number === replayed[k]!.number &&
      COMPONENTS.every((c) => row[c] === replayed[k]!.amounts[c]),
  );
