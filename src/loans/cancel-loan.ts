import { eventWrites, loanEvent } from '../events/publish-events';
import { executeWrites } from '../db/writes';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { loanView } from './loan.view';
import { lockVisibleLoan } from './find-visible-loan';
import { updateLoan } from './loans.repository';

/** A pending loan that will not be disbursed; cancelling it twice changes nothing. */
export async function cancelLoan(
  db: Db,
  context: RequestContext,
  loanId: string,
  today: CalendarDate,
  reason?: string,
  idempotency?: IdempotentRequest,
) {
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const loan = await lockVisibleLoan(trx, context.actor, loanId);
      assertCanWrite(context.actor);
      if (loan.status === 'cancelled') return loan;
      if (loan.status !== 'pending')
        throw new DomainError(
          'conflict',
          `The loan is ${loan.status}: only a pending loan can be cancelled.`,
        );
      const cancelled = await updateLoan(trx, loan.id, {
        status: 'cancelled',
        cancelled_on: today,
      });
      await executeWrites(
        trx,
        eventWrites(context.requestId, [
          loanEvent('loan.cancelled', cancelled, loanView(cancelled)),
        ]),
      );
      await recordAuditEvent(trx, context, {
        fundId: loan.fund_id,
        stream: loan.id,
        action: 'loan.cancelled',
        entityType: 'loan',
        entityId: loan.id,
        state: { ...loanView(cancelled), reason: reason ?? null },
      });
      return cancelled;
    },
    (loan) => ({ status: 200, body: loanView(loan) }),
  );
}
