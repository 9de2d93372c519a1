import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { ExactDecimal } from '../domain/exact-decimal';
import { cents, ZERO, type Money } from '../domain/money';
import { findVisibleFund, type Fund } from '../funds/find-visible-fund';
import type { Actor } from '../http/auth';
import { divisions, type Level, type Placement } from './divisions';
import { communeFigures, type CommuneFigures } from './territories.repository';

/**
 * `official`: a territory of the level, by its current code. `no_epci` (level epci): a known commune
 * that belongs to no EPCI, by its commune code. `unknown_commune`: a commune code the dataset does
 * not know (neither current, nor an arrondissement, nor a former code), as recorded, at every level:
 * its loans are counted, never dropped or guessed at, so that the rows add up to the fund's totals.
 */
export type TerritoryStatus = 'official' | 'no_epci' | 'unknown_commune';

export interface Territory {
  readonly code: string;
  readonly name: string | null;
  readonly status: TerritoryStatus;
  readonly loanCount: number;
  readonly disbursed: Money;
  readonly outstanding: Money;
  /** FTE, exact to the hundredth. */
  readonly jobsFte: ExactDecimal;
  readonly structureCount: number;
}

export interface TerritoryBreakdown {
  readonly fund: Fund;
  readonly level: Level;
  readonly asOf: CalendarDate;
  readonly territories: readonly Territory[];
}

/** The territory a commune code counts in at a level. */
function territoryOf(
  placement: Placement | undefined,
  communeCode: string,
  level: Level,
): Pick<Territory, 'code' | 'name' | 'status'> {
  if (!placement) return { code: communeCode, name: null, status: 'unknown_commune' };
  const division = placement[level];
  if (!division)
    return { code: placement.commune.code, name: placement.commune.name, status: 'no_epci' };
  return { code: division.code, name: division.name, status: 'official' };
}

/** Commune figures summed into the level's territories, in code order within each status (official first). */
export function rollUp(
  rows: readonly CommuneFigures[],
  level: Level,
  place: (code: string) => Placement | undefined,
): Territory[] {
  const byKey = new Map<string, Territory>();
  for (const row of rows) {
    const where = territoryOf(place(row.commune_code), row.commune_code, level);
    const key = `${where.status}:${where.code}`;
    const was = byKey.get(key) ?? {
      ...where,
      loanCount: 0,
      disbursed: ZERO,
      outstanding: ZERO,
      jobsFte: new ExactDecimal(0),
      structureCount: 0,
    };
    byKey.set(key, {
      ...was,
      loanCount: was.loanCount + row.loan_count,
      structureCount: was.structureCount + row.structure_count, // a structure has one commune: counted in one row
      disbursed: cents(was.disbursed + row.disbursed),
      outstanding: cents(was.outstanding + row.outstanding),
      jobsFte: was.jobsFte.plus(row.jobs_fte),
    });
  }
  const order: Record<TerritoryStatus, number> = { official: 0, no_epci: 1, unknown_commune: 2 };
  return [...byKey.values()].sort(
    (a, b) => order[a.status] - order[b.status] || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

/** GET /v1/funds/{id}/territories: the admin, the fund's manager and auditor; anyone else 404. */
export async function getTerritories(
  db: Db,
  actor: Actor,
  fundId: string,
  level: Level,
  asOf: CalendarDate,
  reads: Db = db,
): Promise<TerritoryBreakdown> {
  const fund = await findVisibleFund(db, actor, fundId);
  const rows = await communeFigures(reads, fund.id, asOf);
  const { place } = divisions();
  return { fund, level, asOf, territories: rollUp(rows, level, place) };
}
