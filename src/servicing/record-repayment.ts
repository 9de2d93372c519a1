import { loanView } from '../loans/loan.view';
import { eventWrites, loanEvent } from '../events/publish-events';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/connect';
import { parseDate, type CalendarDate } from '../domain/dates';
import { DomainError, type FieldError } from '../domain/errors';
import { formatMoney, parseMoney } from '../domain/money';
import { largestRepayment, REPAYMENT_MARGIN_PERCENT } from '../domain/repayment-limit';
import type { PrepaymentChoice, Servicing } from '../domain/servicing';
import { assertCanWrite, seesStructure, type RequestContext } from '../http/auth';
import { runIdempotently, type StoredResponse } from '../idempotency/run-idempotently';
import { appendToHistory } from './append-to-history';
import { rebookLoan } from './rebook-loan';
import { loanStateView, repaymentView } from './repayment.view';
import { scheduledTotalPayable } from './servicing.repository';
import {
  lockedLoanStanding,
  lockLoanWithStandingQuery,
  type LockedStandingRow,
} from './loan-history';

export interface RepaymentBody {
  amount: string;
  value_date: string;
  reference?: string | null;
  prepayment?: PrepaymentChoice;
}

/**
 * Records a repayment once per Idempotency-Key: allocates it (overdue and due instalments oldest
 * first, then the next one), turns the rest into a prepayment, posts the journal entry, and answers
 * 201 with the allocation, what was prepaid, any excess owed back, and where the loan stands.
 */
export async function recordRepayment(
  db: Db,
  context: RequestContext,
  loanId: string,
  body: RepaymentBody,
  idempotencyKey: string,
  today: CalendarDate,
): Promise<StoredResponse> {
  const request = {
    owner: context.actor.keyId,
    key: idempotencyKey,
    fingerprint: { route: 'repayment', loanId, body },
  };
  // The loan's lock and where it stands come with the key's claim, in its statement.
  return runIdempotently<LockedStandingRow>(
    db,
    context,
    request,
    async (trx, row) => {
      const locked = lockedLoanStanding(row);
      if (!locked || !seesStructure(context.actor, locked.loan.fund_id, locked.loan.structure_id))
        throw new DomainError('not_found', 'No such loan.');
      const { loan, standing } = locked;
      assertCanWrite(context.actor);
      if (loan.status === 'pending' || loan.status === 'cancelled')
        throw new DomainError('conflict', `The loan is ${loan.status}: it was never disbursed.`);
      if (loan.status === 'repaid')
        throw new DomainError('conflict', 'The loan is repaid: there is nothing left to repay.');

      const amount = parseMoney(body.amount);
      const valueDate = parseDate(body.value_date);
      const broken: FieldError[] = [];
      if (amount <= 0n) broken.push({ field: 'amount', message: 'must be more than 0.00' });
      const totalPayable =
        standing?.totalPayable ??
        (await scheduledTotalPayable(trx, loan.id, loan.schedule_version));
      const largest = largestRepayment(totalPayable);
      if (amount > largest) {
        broken.push({
          field: 'amount',
          message: `must be at most ${formatMoney(largest)}: everything the loan's schedule asks for (${formatMoney(totalPayable)}) plus ${REPAYMENT_MARGIN_PERCENT} %`,
        });
      }
      if (valueDate > today)
        broken.push({ field: 'value_date', message: 'must not be in the future' });
      if (valueDate < loan.disbursed_on!)
        broken.push({
          field: 'value_date',
          message: `must not be before the disbursement, ${loan.disbursed_on}`,
        });
      if (loan.written_off_on && valueDate < loan.written_off_on) {
        broken.push({
          field: 'value_date',
          message: `must not be before the write-off, ${loan.written_off_on}: later payments are recoveries`,
        });
      }
      if (broken.length > 0)
        throw new DomainError('rule_violation', 'The repayment breaks a rule.', broken);

      const id = uuidv7();
      const newRepayment = {
        id,
        loan_id: loan.id,
        amount,
        value_date: valueDate,
        reference: body.reference ?? null,
        prepayment: body.prepayment ?? 'reduce_instalment',
      };
      const reason = (servicing: Servicing) =>
        (servicing.outcomes.get(id)?.principalPrepaid ?? 0n) > 0n ? 'prepayment' : 'repayment';
      // The common case appends the repayment to where the loan stands; any other replays the loan's history.
      const rebooked =
        appendToHistory(loan, standing, newRepayment, today) ??
        (await rebookLoan(trx, loan, { reason, effectiveDate: valueDate }, today, {
          newRepayment,
        }));
      const view = {
        ...repaymentView(rebooked.repayment!, rebooked.allocations),
        loan: loanStateView(rebooked.loan),
      };
      const events = [loanEvent('repayment.recorded', loan, view)];
      if (rebooked.loan.status === 'repaid')
        events.push(loanEvent('loan.repaid', loan, loanView(rebooked.loan)));
      const writes = [...rebooked.writes, ...eventWrites(context.requestId, events)];
      return {
        status: 201,
        body: view,
        writes,
        audit: {
          fundId: loan.fund_id,
          stream: loan.id,
          action: 'repayment.recorded',
          entityType: 'repayment',
          entityId: id,
          state: view,
        },
      };
    },
    (proceed) => lockLoanWithStandingQuery(loanId, proceed),
  );
}
