import { sql } from 'kysely';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { assignLoanFunding, loanFundingView, type ShareBody } from '../funding/loan-funding';
import { findVisibleLoan } from './find-visible-loan';

/**
 * PUT /v1/loans/{loan_id}/funding: the loan's split replaced as a whole (the fund's manager or the
 * admin; a structure key reads its loan, so it gets 403 like an auditor). Two PUTs of one loan queue
 * on a transaction-scoped advisory lock on the loan's id: the delete-then-insert of one never meets
 * the other's rows.
 */
export async function setLoanFunding(
  db: Db,
  context: RequestContext,
  loanId: string,
  body: { shares: ShareBody[] },
) {
  const loan = await findVisibleLoan(db, context.actor, loanId);
  assertCanWrite(context.actor);
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`loan_funding:${loan.id}`}))`.execute(trx);
    const shares = await assignLoanFunding(trx, loan.fund_id, loan.id, body.shares, 'shares');
    const view = loanFundingView(loan.id, shares);
    await recordAuditEvent(trx, context, {
      fundId: loan.fund_id,
      stream: loan.id,
      action: 'loan.funding_set',
      entityType: 'loan',
      entityId: loan.id,
      state: view,
    });
    return view;
  });
}
