import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { formatMoney } from '../domain/money';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { findVisibleLoan } from './find-visible-loan';
import { leverageColumns, type LeverageBody } from './loan-leverage';
import { loanView } from './loan.view';
import { lockLoanForUpdate, updateLoan } from './loans.repository';
import { type Loan } from './loan-rows';

/**
 * PATCH /v1/loans/{id}: the fund's manager (or the admin) records the financing the loan unlocked,
 * whatever the loan's status (leverage is often known after disbursement). A JSON merge patch of
 * those members only; the loan's terms never change here. A structure key reads its loan but may not
 * edit it (403), an auditor neither. Audited with the values before and after; a patch that changes
 * nothing writes nothing.
 */
export async function updateLoanLeverage(
  db: Db,
  context: RequestContext,
  loanId: string,
  body: LeverageBody,
): Promise<Loan> {
  await findVisibleLoan(db, context.actor, loanId); // 404 outside the key's scope
  assertCanWrite(context.actor);
  const changes = leverageColumns(body);
  return db.transaction().execute(async (trx) => {
    const before = await lockLoanForUpdate(trx, loanId);
    if (!before) throw new DomainError('not_found', 'No such loan.');
    const changed = Object.entries(changes).filter(
      ([column, value]) => before[column as keyof typeof changes] !== value,
    );
    if (changed.length === 0) return before;
    const after = await updateLoan(trx, loanId, Object.fromEntries(changed));
    await recordAuditEvent(trx, context, {
      fundId: after.fund_id,
      stream: after.id,
      action: 'loan.leverage_updated',
      entityType: 'loan',
      entityId: after.id,
      state: {
        ...loanView(after),
        changes: changed.map(([field, value]) => ({
          field,
          from: formatMoney(before[field as keyof typeof changes]),
          to: formatMoney(value),
        })),
      },
    });
    return after;
  });
}
