import { eventWrites, loanEvent } from '../events/publish-events';
import type { Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { auditEvent } from '../audit/record-audit-event';
import { executeWrites } from '../db/writes';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { parseDate, type CalendarDate } from '../domain/dates';
import { MAX_ANNUAL_RATE, parseRate } from '../domain/rate';
import { DomainError, type FieldError } from '../domain/errors';
import { assertCanWrite, seesStructure, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { rebookLoan } from './rebook-loan';
import { aidAtRestructuring, saveLoanAid } from '../state-aid/loan-aid';
import { checkHeadroom } from '../state-aid/headroom';
import { loanStateView } from './repayment.view';
import { restructuringView } from './restructuring.view';
import { checkEffectiveDate } from './servicing-dates';
import { insertRestructuring, type Loan } from './servicing.repository';
import { lockLoanWithHistory, type LoanHistory } from './loan-history';

export interface RestructuringBody {
  type: 'moratorium' | 'extension' | 'rate_change';
  effective_date: string;
  reason: string;
  /** moratorium: how many deferral periods to insert (`deferral_periods` says the same). */
  periods?: number;
  deferral_periods?: number;
  deferral_type?: 'partial' | 'total';
  /** extension: the periods left after the effective date, or the loan's new term (every instalment). */
  remaining_periods?: number;
  term_periods?: number;
  annual_rate_percent?: string;
  capitalise_arrears?: boolean;
}

const FIELDS_OF: Record<RestructuringBody['type'], readonly (keyof RestructuringBody)[]> = {
  moratorium: ['periods', 'deferral_periods', 'deferral_type'],
  extension: ['remaining_periods', 'term_periods'],
  rate_change: ['annual_rate_percent'],
};

/** What each type needs: one of these fields, exactly one. */
const ONE_OF: Record<RestructuringBody['type'], readonly (keyof RestructuringBody)[]> = {
  moratorium: ['periods', 'deferral_periods'],
  extension: ['remaining_periods', 'term_periods'],
  rate_change: ['annual_rate_percent'],
};

function checkTypeFields(body: RestructuringBody): FieldError[] {
  const broken: FieldError[] = [];
  const given = ONE_OF[body.type].filter((field) => body[field] !== undefined);
  const samePeriods =
    body.type === 'moratorium' && given.length === 2 && body.periods === body.deferral_periods;
  if (given.length === 0)
    broken.push({ field: ONE_OF[body.type][0]!, message: `is required for a ${body.type}` });
  if (given.length > 1 && !samePeriods)
    for (const field of given)
      broken.push({ field, message: `give one of ${given.join(', ')}, not both` });
  if (
    body.annual_rate_percent !== undefined &&
    parseRate(body.annual_rate_percent) > MAX_ANNUAL_RATE
  ) {
    broken.push({ field: 'annual_rate_percent', message: 'must be at most 100' });
  }
  for (const [type, fields] of Object.entries(FIELDS_OF)) {
    if (type === body.type) continue;
    for (const field of fields)
      if (body[field] !== undefined) broken.push({ field, message: `applies only to a ${type}` });
  }
  return broken;
}

/** POST /v1/loans/{id}/restructurings, in its own transaction. */
export async function restructureLoan(
  db: Db,
  context: RequestContext,
  loanId: string,
  body: RestructuringBody,
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const locked = await lockLoanWithHistory(trx, loanId);
      if (!locked || !seesStructure(context.actor, locked.loan.fund_id, locked.loan.structure_id))
        throw new DomainError('not_found', 'No such loan.');
      assertCanWrite(context.actor);
      return applyRestructuring(trx, context, locked, body, today, null);
    },
    (view) => ({ status: 201, body: view }),
  );
}

/**
 * DOMAIN.md "Restructuring": a new schedule version replaces the instalments falling due after the
 * effective date; the loan is flagged restructured. Used alone and by a portfolio moratorium.
 */
export async function applyRestructuring(
  trx: Transaction<Database>,
  context: RequestContext,
  { loan, history }: { loan: Loan; history: LoanHistory },
  body: RestructuringBody,
  today: CalendarDate,
  moratoriumId: string | null,
) {
  if (loan.status !== 'active')
    throw new DomainError(
      'conflict',
      `The loan is ${loan.status}: only an active loan can be restructured.`,
    );
  const date = parseDate(body.effective_date);
  const broken: FieldError[] = checkEffectiveDate(loan, history, date, today, 'effective_date');
  broken.push(...checkTypeFields(body));
  const blamed =
    ONE_OF[body.type].find((field) => body[field] !== undefined) ?? ONE_OF[body.type][0]!;
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The restructuring breaks a rule.', broken);

  const restructuring = await insertRestructuring(trx, {
    id: uuidv7(),
    loan_id: loan.id,
    type: body.type,
    effective_date: date,
    reason: body.reason,
    periods: body.type === 'moratorium' ? (body.periods ?? body.deferral_periods)! : null,
    deferral_type: body.type === 'moratorium' ? (body.deferral_type ?? 'partial') : null,
    remaining_periods: body.type === 'extension' ? (body.remaining_periods ?? null) : null,
    term_periods: body.type === 'extension' ? (body.term_periods ?? null) : null,
    annual_rate_percent: body.type === 'rate_change' ? parseRate(body.annual_rate_percent!) : null,
    capitalise_arrears: body.capitalise_arrears ?? false,
    moratorium_id: moratoriumId,
    schedule_version: loan.schedule_version + 1,
  });
  const {
    loan: rebooked,
    servicing,
    newVersion,
    writes,
  } = await rebookLoan(
    trx,
    loan,
    { reason: 'restructuring', effectiveDate: date, blame: { field: blamed } },
    today,
    {
      history: { ...history, restructurings: [...history.restructurings, restructuring] },
    },
  );
  if (servicing.ignored.has(restructuring.id) || !newVersion) {
    const field = body.type === 'extension' ? blamed : 'effective_date';
    throw new DomainError('rule_violation', 'The restructuring changes nothing.', [
      {
        field,
        message:
          body.type === 'extension'
            ? 'must leave at least one period after the deferral periods still ahead'
            : 'must leave instalments falling due after it to reschedule',
      },
    ]);
  }
  // State aid (docs/state-aid.md): the GGE over the new actual schedule; an increase is new aid on
  // the effective date, refused above the headroom as a disbursement's is (naming the changed field).
  const aid = await aidAtRestructuring(trx, loan, date, servicing.rows);
  if (aid)
    await checkHeadroom(
      trx,
      loan,
      date,
      aid.granted,
      blamed,
      'The new aid of the restructuring (the increase of the loan’s gross grant equivalent)',
    );
  if (aid) await saveLoanAid(trx, loan.id, aid);
  const view = { ...restructuringView(restructuring), loan: loanStateView(rebooked) };
  const published = eventWrites(context.requestId, [loanEvent('loan.restructured', loan, view)]);
  await executeWrites(trx, [
    ...writes,
    ...(aid?.writes ?? []),
    ...published,
    ...auditEvent(context, {
      fundId: loan.fund_id,
      stream: loan.id,
      action: 'loan.restructured',
      entityType: 'loan',
      entityId: loan.id,
      state: view,
    }),
  ]);
  return view;
}
