import { eventWrites, loanEvent } from '../events/publish-events';
import { auditEvent } from '../audit/record-audit-event';
import { executeWrites } from '../db/writes';
import type { Db } from '../db/connect';
import { parseDate, type CalendarDate } from '../domain/dates';
import { DomainError, type FieldError } from '../domain/errors';
import { disbursementLines } from '../domain/ledger';
import { formatMoney, parseMoney } from '../domain/money';
import { buildSchedule } from '../domain/schedule';
import { checkScheduleAmounts, checkScheduleTerms } from '../domain/schedule-terms';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { lockVisibleLoan } from '../loans/find-visible-loan';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { postJournalEntry } from '../ledger/post-journal-entry';
import { aidAtDisbursement } from '../state-aid/loan-aid';
import { checkHeadroom } from '../state-aid/headroom';
import { termsOfLoan } from '../loans/loan-terms';
import { loanView } from '../loans/loan.view';
import { instalmentsOf } from '../loans/instalments';
import { rebookLoan } from './rebook-loan';
import { insertScheduleVersion, markDisbursed } from './servicing.repository';

export interface DisbursementBody {
  date: string;
  amount: string;
}

/**
 * Pays the loan out: it becomes active, and schedule version 1 is fixed from the actual
 * disbursement date. The whole principal is paid out at once.
 */
export async function disburseLoan(
  db: Db,
  context: RequestContext,
  loanId: string,
  body: DisbursementBody,
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const loan = await lockVisibleLoan(trx, context.actor, loanId);
      assertCanWrite(context.actor);
      if (loan.status !== 'pending')
        throw new DomainError(
          'conflict',
          `The loan is ${loan.status}: only a pending loan can be disbursed.`,
        );

      const date = parseDate(body.date);
      const terms = termsOfLoan(loan, date);
      const broken: FieldError[] = [];
      if (parseMoney(body.amount) !== terms.principal)
        broken.push({
          field: 'amount',
          message: `must be the loan's principal, ${formatMoney(loan.principal)}`,
        });
      if (date > today) broken.push({ field: 'date', message: 'must not be in the future' });
      for (const error of checkScheduleTerms(terms)) {
        if (error.field === 'first_due_date')
          broken.push({ field: 'date', message: 'must be before the loan’s first_due_date' });
        else if (error.field === 'disbursement_date') broken.push({ ...error, field: 'date' });
        else broken.push(error);
      }
      const schedule = broken.length === 0 ? buildSchedule(terms) : undefined;
      if (schedule) broken.push(...checkScheduleAmounts(schedule, terms));
      if (!schedule || broken.length > 0)
        throw new DomainError('rule_violation', 'The disbursement breaks a rule.', broken);

      // State aid (docs/state-aid.md): the GGE of schedule version 1, refused above the headroom.
      const aid = await aidAtDisbursement(trx, loan, date, schedule.rows);
      await checkHeadroom(trx, loan, date, aid.granted, 'amount');
      await insertScheduleVersion(
        trx,
        { loan_id: loan.id, version: 1, reason: 'disbursement', effective_date: date },
        instalmentsOf(loan.id, 1, schedule.rows),
      );
      const active = await markDisbursed(trx, loan.id, {
        disbursed_on: date,
        outstanding_principal: terms.principal,
        schedule_version: 1,
        ...aid.changes,
      });
      await postJournalEntry(trx, {
        fundId: loan.fund_id,
        loanId: loan.id,
        event: 'disbursement',
        valueDate: date,
        lines: disbursementLines(terms.principal),
      });
      // Interest a total deferral capitalises is posted now, each on its due date: the ledger then
      // holds the loan's principal as of any date, as the schedule does.
      const { loan: booked, writes } = await rebookLoan(
        trx,
        active,
        { reason: 'disbursement', effectiveDate: date },
        today,
      );
      const view = loanView(booked);
      const published = eventWrites(context.requestId, [loanEvent('loan.disbursed', booked, view)]);
      await executeWrites(trx, [
        ...writes,
        ...aid.writes,
        ...published,
        ...auditEvent(context, {
          fundId: loan.fund_id,
          stream: loan.id,
          action: 'loan.disbursed',
          entityType: 'loan',
          entityId: loan.id,
          state: view,
        }),
      ]);
      return booked;
    },
    (booked) => ({ status: 200, body: loanView(booked) }),
  );
}
