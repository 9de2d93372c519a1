import { csvField } from '../http/csv';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { formatMoney } from '../domain/money';
import { findVisibleFund } from '../funds/find-visible-fund';
import type { RequestContext } from '../http/auth';
import { findVisibleStructure } from './declare-aid';
import {
  aidInWindow,
  DE_MINIMIS_CEILING,
  headroomOf,
  SGEI_CEILING,
  undertakingOf,
  windowStart,
} from './headroom';
import { aidGrantView, declaredAidView } from './state-aid.view';
import { findAidGrantsOf, findDeclaredAid, findFundAidRegister } from './state-aid.repository';

/** GET /v1/structures/{id}/state-aid: the undertaking's de minimis aid over the three years to `asOf`, and its headroom. */
export async function structureStateAid(
  db: Db,
  context: RequestContext,
  structureId: string,
  asOf: CalendarDate,
) {
  const structure = await findVisibleStructure(db, context, structureId);
  const members = await undertakingOf(db, structure.id);
  const totals = await aidInWindow(db, members, asOf);
  const headroom = headroomOf(totals);
  const from = windowStart(asOf);
  const within = (date: string) => date > from && date <= asOf;
  const grants = (await findAidGrantsOf(db, members)).filter((g) => within(g.grant_date));
  const declared = (await Promise.all(members.map((id) => findDeclaredAid(db, id))))
    .flat()
    .filter((d) => within(d.grant_date));
  return {
    structure_id: structure.id,
    siren: structure.siret?.slice(0, 9) ?? null,
    rna: structure.siret ? null : structure.rna,
    as_of: asOf,
    window_after: from,
    undertaking_structure_ids: members,
    de_minimis_ceiling: formatMoney(DE_MINIMIS_CEILING),
    sgei_ceiling: formatMoney(SGEI_CEILING),
    de_minimis_received: formatMoney(totals.deMinimis),
    sgei_received: formatMoney(totals.sgei),
    de_minimis_headroom: formatMoney(headroom.deMinimis),
    sgei_headroom: formatMoney(headroom.sgei),
    aid_grants: grants.map(aidGrantView),
    declared_aid: declared.map(declaredAidView),
  };
}

export const REGISTER_COLUMNS = [
  'siren',
  'rna',
  'legal_name',
  'structure_id',
  'loan_id',
  'grant_date',
  'gross_grant_equivalent',
  'reason',
  'legal_basis',
] as const;

/** The register as CSV (RFC 4180, CRLF), every cell neutralised against formula injection. */
export function registerCsv(register: Awaited<ReturnType<typeof fundAidRegister>>): string {
  const lines = [
    REGISTER_COLUMNS.join(','),
    ...register.items.map((item) => REGISTER_COLUMNS.map((c) => csvField(item[c] ?? '')).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** GET /v1/funds/{id}/state-aid: aid granted per beneficiary between two dates, what the national register asks. */
export async function fundAidRegister(
  db: Db,
  context: RequestContext,
  fundId: string,
  from: string,
  to: string,
) {
  await findVisibleFund(db, context.actor, fundId);
  if (from > to)
    throw new DomainError('rule_violation', 'The period ends before it starts.', [
      { field: 'to', message: 'must not be before from', in: 'query' },
    ]);
  const rows = await findFundAidRegister(db, fundId, from, to);
  return {
    fund_id: fundId,
    from,
    to,
    items: rows.map((r) => ({
      siren: r.siret?.slice(0, 9) ?? null,
      rna: r.siret ? null : r.rna,
      legal_name: r.legal_name,
      structure_id: r.structure_id,
      loan_id: r.loan_id,
      grant_date: r.grant_date,
      gross_grant_equivalent: formatMoney(r.amount),
      reason: r.reason,
      legal_basis: r.legal_basis,
    })),
  };
}
