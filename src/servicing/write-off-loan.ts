import { loanView } from '../loans/loan.view';
import { eventWrites, loanEvent } from '../events/publish-events';
import { auditEvent } from '../audit/record-audit-event';
import { executeWrites } from '../db/writes';
import type { Db } from '../db/connect';
import { parseDate, type CalendarDate } from '../domain/dates';
import { formatMoney } from '../domain/money';
import { DomainError } from '../domain/errors';
import { assertCanWrite, seesStructure, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { rebookLoan } from './rebook-loan';
import { checkEffectiveDate } from './servicing-dates';
import { markWrittenOff } from './servicing.repository';
import { lockLoanWithHistory } from './loan-history';

export interface WriteOffBody {
  date: string;
  reason: string;
}

/**
 * DOMAIN.md "Write-off": the outstanding principal on that date becomes a loss (loan losses /
 * loans receivable) and the loan is closed; payments value-dated from then on are recoveries.
 */
export async function writeOffLoan(
  db: Db,
  context: RequestContext,
  loanId: string,
  body: WriteOffBody,
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
      const { loan, history } = locked;
      assertCanWrite(context.actor);
      if (loan.status !== 'active')
        throw new DomainError(
          'conflict',
          `The loan is ${loan.status}: only an active loan can be written off.`,
        );
      const date = parseDate(body.date);
      const broken = checkEffectiveDate(loan, history, date, today, 'date');
      if (broken.length > 0)
        throw new DomainError('rule_violation', 'The write-off breaks a rule.', broken);

      const marked = await markWrittenOff(trx, loan.id, date, body.reason);
      const { loan: written, writes } = await rebookLoan(
        trx,
        marked,
        { reason: 'write_off', effectiveDate: date },
        today,
        { history },
      );
      const state = {
        id: written.id,
        status: written.status,
        written_off_on: date,
        written_off_principal:
          written.written_off_principal === null
            ? null
            : formatMoney(written.written_off_principal),
        reason: body.reason,
      };
      const published = eventWrites(context.requestId, [
        loanEvent('loan.written_off', written, loanView(written)),
      ]);
      await executeWrites(trx, [
        ...writes,
        ...published,
        ...auditEvent(context, {
          fundId: loan.fund_id,
          stream: loan.id,
          action: 'loan.written_off',
          entityType: 'loan',
          entityId: loan.id,
          state,
        }),
      ]);
      return written;
    },
    (written) => ({ status: 200, body: loanView(written) }),
  );
}
