import type { Allocation } from '../domain/allocation';
import type { Servicing } from '../domain/servicing';
import type { Settlement } from './servicing.repository';
import type { LoanHistory } from './loan-history';

/** A restructuring whose arrears settlements the replay changed: the rows it now calls for, and the numbers it no longer settles. */
export interface SettlementChange {
  readonly restructuringId: string;
  readonly rows: Omit<Settlement, 'restructuring_id'>[];
  readonly lostNumbers: number[];
}

/** The arrears settlements the replay calls for, where they differ from those stored. */
export function settlementChanges(stored: LoanHistory, servicing: Servicing): SettlementChange[] {
  const storedBy = new Map<string, Settlement[]>();
  for (const row of stored.settlements)
    storedBy.set(row.restructuring_id, [...(storedBy.get(row.restructuring_id) ?? []), row]);
  const changes: SettlementChange[] = [];
  for (const { id } of stored.restructurings) {
    const wanted = servicing.settlements.get(id) ?? [];
    const had = storedBy.get(id) ?? [];
    if (sameSettlements(had, wanted)) continue;
    const kept = new Set(wanted.map((s) => s.number));
    changes.push({
      restructuringId: id,
      rows: wanted.map((s) => ({
        number: s.number,
        interest: s.amounts.interest,
        principal: s.amounts.principal,
      })),
      lostNumbers: had.map((s) => s.number).filter((number) => !kept.has(number)),
    });
  }
  return changes;
}

const sameSettlements = (stored: readonly Settlement[], wanted: readonly Allocation[]) =>
  stored.length === wanted.length &&
  stored.every(
    (row, k) =>
      row.number === wanted[k]!.number &&
      row.interest === wanted[k]!.amounts.interest &&
      row.principal === wanted[k]!.amounts.principal,
  );
