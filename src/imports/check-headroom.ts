import { sql } from 'kysely';
import type { Db } from '../db/connect';
import { grossGrantEquivalent } from '../domain/gge';
import { formatMoney, cents, type Money } from '../domain/money';
import { buildSchedule } from '../domain/schedule';
import type { Product } from '../products/find-product';
import { headroomOf, windowStart } from '../state-aid/headroom';
import {
  collateralOf,
  findBaseRatesOfFund,
  loanAidColumns,
  ratesFor,
  ratingOf,
} from '../state-aid/loan-aid';
import type { CheckedLoans } from './check-loans';
import type { CsvRow } from './read-csv';

interface AidLine {
  readonly group: string;
  readonly date: string;
  readonly basis: 'de_minimis' | 'sgei_de_minimis';
  readonly amount: Money;
}

/** A structure's undertaking before links: its SIREN (the SIRET's first 9 digits), else its RNA number. */
const undertakingKey = (siret: unknown, rna: unknown) =>
  typeof siret === 'string' ? `siren:${siret.slice(0, 9)}` : `rna:${String(rna)}`;

/**
 * The undertaking of each structure the new loans name, as undertakingOf (src/state-aid/headroom.ts)
 * draws it — one SIREN (or, without a SIRET, one RNA number), joined by every link — but for the
 * whole file at once: the fund's structures and links read in two statements, joined in memory
 * (a union-find over SIREN/RNA keys), so that a file of thousands of loans costs no query per loan.
 * A new structure of the file joins the undertaking of the fund's structures with its SIREN.
 * Answers each key's group, and each fund structure's group.
 */
async function undertakingsOf(
  db: Db,
  fundId: string,
): Promise<{ groupOfKey: (key: string) => string; groupOfStructure: Map<string, string> }> {
  const [structures, links] = await Promise.all([
    db
      .selectFrom('structures')
      .select(['id', 'siret', 'rna'])
      .where('fund_id', '=', fundId)
      .execute(),
    db
      .selectFrom('undertaking_links')
      .select(['structure_id', 'linked_id'])
      .where('fund_id', '=', fundId)
      .execute(),
  ]);
  const parent = new Map<string, string>();
  const find = (key: string): string => {
    let root = key;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(key, root);
    return root;
  };
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra, rb);
  };
  // A structure with neither identifier (none should exist) is its own undertaking, as in undertakingOf.
  const keyOfStructure = new Map(
    structures.map((s) => [
      s.id,
      s.siret === null && s.rna === null
        ? `id:${s.id}`
        : undertakingKey(s.siret ?? undefined, s.rna),
    ]),
  );
  for (const { structure_id: a, linked_id: b } of links)
    if (keyOfStructure.has(a) && keyOfStructure.has(b))
      union(keyOfStructure.get(a)!, keyOfStructure.get(b)!);
  return {
    groupOfKey: find,
    groupOfStructure: new Map([...keyOfStructure].map(([id, key]) => [id, find(key)])),
  };
}

/** The de minimis aid (loans' grants and declared aid) the fund holds for these structures, by group. */
async function aidHeld(db: Db, groupOf: ReadonlyMap<string, string>): Promise<AidLine[]> {
  if (groupOf.size === 0) return [];
  const ids = [...groupOf.keys()];
  const { rows } = await sql<{
    structure_id: string;
    grant_date: string;
    legal_basis: 'de_minimis' | 'sgei_de_minimis';
    amount_cents: string;
  }>`
    SELECT structure_id, grant_date::text AS grant_date, legal_basis, round(amount * 100)::text AS amount_cents FROM (
      SELECT structure_id, grant_date, legal_basis, amount FROM aid_grants WHERE structure_id = ANY(${ids}::uuid[])
      UNION ALL
      SELECT structure_id, grant_date, legal_basis, amount FROM declared_aid WHERE structure_id = ANY(${ids}::uuid[])
    ) aid WHERE legal_basis IN ('de_minimis', 'sgei_de_minimis')`.execute(db);
  return rows.map((r) => ({
    group: groupOf.get(r.structure_id)!,
    date: r.grant_date,
    basis: r.legal_basis,
    amount: cents(BigInt(r.amount_cents)),
  }));
}

/**
 * The headroom rule of POST /v1/loans/{id}/disbursement (checkHeadroom, docs/state-aid.md) on the
 * loans the import would create, each disbursed on its disbursement_date: the GGE of schedule
 * version 1 at the base rate then in force (the fund's rates read once), against the undertaking's
 * de minimis aid in the three years to that date — the fund's aid grants, declared aid, and the
 * file's earlier loans of the same undertaking, in line order, as hand entry in that order would
 * count them. An imported loan is de minimis (the file has no legal basis column), with its
 * product's classes. A loan above the headroom is an error on its row, under `principal`.
 */
export async function checkLoanHeadroom(
  db: Db,
  fundId: string,
  loans: CheckedLoans,
  loanRows: readonly CsvRow[],
  products: ReadonlyMap<string, Product>,
): Promise<void> {
  if (loans.created.size === 0) return;
  const rates = await findBaseRatesOfFund(db, fundId);
  const fields = new Map(loanRows.map((r) => [r.row, r.fields]));
  const created = [...loans.created.values()].sort((a, b) => a.row - b.row);
  const keyOf = (row: number) =>
    undertakingKey(fields.get(row)!.structure_siret, fields.get(row)!.structure_rna);

  const { groupOfKey, groupOfStructure } = await undertakingsOf(db, fundId);
  const byGroup = new Map<string, AidLine[]>();
  const linesOf = (group: string) => byGroup.get(group) ?? byGroup.set(group, []).get(group)!;
  for (const line of await aidHeld(db, groupOfStructure)) linesOf(line.group).push(line);

  for (const { row, terms } of created) {
    const date = terms.disbursementDate;
    const base = [...rates].reverse().find((r) => r.effective_date <= date);
    if (!base) continue; // no GGE without a base rate, as at disbursement
    const f = fields.get(row)!;
    const product = products.get(f.product_id as string)!;
    const classes = loanAidColumns({}, product).columns;
    const loanRates = ratesFor(base.rate_percent, ratingOf(classes), collateralOf(classes));
    const gge = grossGrantEquivalent({
      principal: terms.principal,
      grantDate: date,
      rows: buildSchedule(terms).rows,
      referenceRatePercent: loanRates.reference,
      discountRatePercent: loanRates.discount,
    });
    if (gge <= 0n) continue;
    const group = groupOfKey(keyOf(row));
    const lines = linesOf(group);
    const from = windowStart(date);
    const inWindow = (basis: AidLine['basis']) =>
      cents(
        lines
          .filter((l) => l.basis === basis && l.date > from && l.date <= date)
          .reduce((sum, l) => sum + l.amount, 0n),
      );
    const left = headroomOf({
      deMinimis: inWindow('de_minimis'),
      sgei: inWindow('sgei_de_minimis'),
    }).deMinimis;
    if (gge > left) {
      loans.checks.failSettled(
        row,
        'rule_violation',
        'principal',
        `the gross grant equivalent ${formatMoney(gge)} exceeds the de minimis headroom ${formatMoney(left)}`,
      );
      continue;
    }
    lines.push({ group, date, basis: 'de_minimis', amount: gge });
  }
}
