import { eventWrites, loanEvent } from '../events/publish-events';
import { auditEvent } from '../audit/record-audit-event';
import { executeWrites } from '../db/writes';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { lockVisibleLoan } from '../loans/find-visible-loan';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { rebookLoan } from './rebook-loan';
import { loanStateView, repaymentView } from './repayment.view';
import {
  allocationsOfLoan,
  findRepayment,
  lockRepayment,
  markRepaymentReversed,
} from './servicing.repository';

/**
 * Undoes a repayment (DOMAIN.md: never deleted, reversed with a reason): it stays visible, marked
 * reversed with what it had paid; its journal entry is cancelled by an opposite one, and every later
 * repayment is re-allocated in value-date order, their entries corrected the same way.
 */
export async function reverseRepayment(
  db: Db,
  context: RequestContext,
  loanId: string,
  repaymentId: string,
  reason: string,
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const loan = await lockVisibleLoan(trx, context.actor, loanId);
      const repayment = await lockRepayment(trx, loan.id, repaymentId);
      if (!repayment) throw new DomainError('not_found', 'No such repayment on this loan.');
      assertCanWrite(context.actor);
      if (repayment.reversed_at)
        throw new DomainError(
          'conflict',
          `This repayment was already reversed on ${repayment.reversed_at.toISOString()}.`,
        );

      await markRepaymentReversed(trx, repayment.id, reason);
      const { loan: rebooked, writes } = await rebookLoan(
        trx,
        loan,
        {
          reason: 'reversal',
          effectiveDate: repayment.value_date,
          blame: { in: 'path', field: 'repayment_id' },
        },
        today,
      );
      const reversed = (await findRepayment(trx, loan.id, repayment.id))!;
      const view = {
        ...repaymentView(reversed, await allocationsOfLoan(trx, loan.id)),
        loan: loanStateView(rebooked),
      };
      const published = eventWrites(context.requestId, [
        loanEvent('repayment.reversed', loan, view),
      ]);
      await executeWrites(trx, [
        ...writes,
        ...published,
        ...auditEvent(context, {
          fundId: loan.fund_id,
          stream: loan.id,
          action: 'repayment.reversed',
          entityType: 'repayment',
          entityId: repayment.id,
          state: view,
        }),
      ]);
      return view;
    },
    (view) => ({ status: 200, body: view }),
  );
}
