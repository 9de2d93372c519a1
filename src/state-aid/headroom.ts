import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { addMonths, type CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { cents, formatMoney, parseDecimalAmount, ZERO, type Money } from '../domain/money';

type Executor = Db | Transaction<Database>;

/**
 * Ceilings per single undertaking over any period of three years (docs/state-aid.md):
 * Regulation (EU) 2023/2831 Art. 3(2), €300,000; SGEI, Regulation (EU) 2023/2832, €750,000.
 */
export const DE_MINIMIS_CEILING = cents(30_000_000n);
export const SGEI_CEILING = cents(75_000_000n);

/** The rolling window as of `date`: grants dated after the same day three years earlier, up to `date`. */
export const windowStart = (date: CalendarDate): CalendarDate => addMonths(date, -36);

/**
 * The structures forming one undertaking with `structureId` in its fund: the same SIREN (the SIRET's
 * first 9 digits) or, without a SIRET, the same RNA number, and every structure a manager linked,
 * followed link by link (a recursive query over both).
 */
export async function undertakingOf(db: Executor, structureId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    WITH RECURSIVE fund_structures AS (
      SELECT id, siret, rna FROM structures WHERE fund_id = (SELECT fund_id FROM structures WHERE id = ${structureId}::uuid)
    ), edges(a, b) AS (
      SELECT s.id, o.id FROM fund_structures s JOIN fund_structures o ON o.id <> s.id AND (
             (s.siret IS NOT NULL AND o.siret IS NOT NULL AND left(o.siret, 9) = left(s.siret, 9))
          OR (s.siret IS NULL AND o.siret IS NULL AND o.rna = s.rna))
      UNION ALL SELECT structure_id, linked_id FROM undertaking_links
      UNION ALL SELECT linked_id, structure_id FROM undertaking_links
    ), members(id) AS (
      SELECT ${structureId}::uuid
      UNION
      SELECT e.b FROM members m JOIN edges e ON e.a = m.id
    )
    SELECT id FROM members ORDER BY id`.execute(db);
  return rows.map((r) => r.id);
}

export interface AidTotals {
  /** Aid counted against the general de minimis ceiling: this fund's loans and declared aid. */
  readonly deMinimis: Money;
  /** SGEI de minimis aid. */
  readonly sgei: Money;
}

/** De minimis aid granted to the undertaking in the window ending `date`: loans' aid grants and declared aid. */
export async function aidInWindow(
  db: Executor,
  members: readonly string[],
  date: CalendarDate,
): Promise<AidTotals> {
  const from = windowStart(date);
  const { rows } = await sql<{ legal_basis: string; total: string }>`
    SELECT legal_basis, sum(amount)::text AS total FROM (
      SELECT legal_basis, amount FROM aid_grants WHERE structure_id = ANY(${[...members]}::uuid[]) AND grant_date > ${from} AND grant_date <= ${date}
      UNION ALL
      SELECT legal_basis, amount FROM declared_aid WHERE structure_id = ANY(${[...members]}::uuid[]) AND grant_date > ${from} AND grant_date <= ${date}
    ) aid WHERE legal_basis IN ('de_minimis', 'sgei_de_minimis') GROUP BY legal_basis`.execute(db);
  // A sum: declared aid may add up beyond what one amount may hold.
  const total = (basis: string) => {
    const sum = rows.find((r) => r.legal_basis === basis)?.total;
    return sum === undefined ? ZERO : parseDecimalAmount(sum);
  };
  return { deMinimis: total('de_minimis'), sgei: total('sgei_de_minimis') };
}

export interface Headroom {
  readonly deMinimis: Money;
  readonly sgei: Money;
}

/**
 * What more may be granted: general de minimis up to €300,000, and, de minimis and SGEI de minimis
 * together, up to €750,000 (the cumulation rule, docs/state-aid.md). Negative once exceeded.
 */
export function headroomOf(totals: AidTotals): Headroom {
  const together = totals.deMinimis + totals.sgei;
  const general = DE_MINIMIS_CEILING - totals.deMinimis;
  const sgei = SGEI_CEILING - together;
  return { deMinimis: cents(general < sgei ? general : sgei), sgei: cents(sgei) };
}

/**
 * 422 when new aid under the loan's legal basis would exceed the undertaking's headroom on the
 * grant date. Block-exemption and no-aid loans are not checked against a de minimis ceiling.
 * `what` names the aid in the message (a restructuring's is the increase, not the whole GGE).
 */
export async function checkHeadroom(
  db: Executor,
  loan: { structure_id: string; legal_basis: string },
  date: CalendarDate,
  granted: Money,
  field: string,
  what = "The loan's gross grant equivalent",
): Promise<void> {
  if (
    granted <= 0n ||
    (loan.legal_basis !== 'de_minimis' && loan.legal_basis !== 'sgei_de_minimis')
  )
    return;
  const headroom = headroomOf(
    await aidInWindow(db, await undertakingOf(db, loan.structure_id), date),
  );
  const left = loan.legal_basis === 'de_minimis' ? headroom.deMinimis : headroom.sgei;
  if (granted > left) {
    const ceiling =
      loan.legal_basis === 'de_minimis' ? 'de minimis (€300,000)' : 'SGEI de minimis (€750,000)';
    throw new DomainError(
      'rule_violation',
      `${what}, ${formatMoney(granted)}, exceeds the undertaking's ${ceiling} headroom of ${formatMoney(left)} over the three years to ${date}.`,
      [
        {
          field,
          message: `the gross grant equivalent ${formatMoney(granted)} exceeds the de minimis headroom ${formatMoney(left)}`,
        },
      ],
      { headroom: formatMoney(left), gross_grant_equivalent: formatMoney(granted) },
    );
  }
}
