import { v7 as uuidv7 } from 'uuid';
import { eventWrites, loanEvent } from '../events/publish-events';
import { executeWrites } from '../db/writes';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { assertCanWrite, seesFund, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { findProduct, productTakesLoans } from '../products/find-product';
import type { ScheduleTermsBody } from '../schedules/schedule-terms.input';
import { findStructure } from '../structures/find-structure';
import { assignLoanFunding, loanFundingView, type ShareBody } from '../funding/loan-funding';
import { checkLoanTerms, termsColumns } from './loan-terms';
import { loanView } from './loan.view';
import { insertLoan } from './loans.repository';
import { leverageColumns, type LeverageBody } from './loan-leverage';
import { checkHeadroom } from '../state-aid/headroom';
import { expectedAid, loanAidColumns, type LoanAidBody } from '../state-aid/loan-aid';

const deactivated = () =>
  new DomainError('rule_violation', 'The product is deactivated: it takes no new loans.', [
    { field: 'product_id', message: 'is deactivated: it takes no new loans' },
  ]);

/** `funding`: the loan's split across the fund's sources (docs/funding.md); the fund's mix when absent. */
export type CreateLoanBody = ScheduleTermsBody &
  LoanAidBody & { product_id: string; structure_id: string; funding?: ShareBody[] } & LeverageBody;

/** A pending loan from a product for a structure; its terms within the product's ranges. */
export async function createLoan(
  db: Db,
  context: RequestContext,
  body: CreateLoanBody,
  idempotency?: IdempotentRequest,
) {
  const product = await findProduct(db, body.product_id);
  if (!product || !seesFund(context.actor, product.fund_id))
    throw new DomainError('not_found', 'No such product.', [
      { field: 'product_id', message: 'not found' },
    ]);
  const structure = await findStructure(db, body.structure_id);
  if (!structure || !seesFund(context.actor, structure.fund_id)) {
    throw new DomainError('not_found', 'No such structure.', [
      { field: 'structure_id', message: 'not found' },
    ]);
  }
  assertCanWrite(context.actor);
  if (structure.fund_id !== product.fund_id) {
    throw new DomainError(
      'rule_violation',
      'The structure and the product belong to different funds.',
      [{ field: 'structure_id', message: 'is not in the product’s fund' }],
    );
  }
  if (!product.active) throw deactivated();
  const {
    rating_class: _r,
    collateral_class: _c,
    legal_basis: _l,
    aid_scheme_reference: _a,
    ...termsBody
  } = body;
  const { terms, broken } = checkLoanTerms(termsBody, product);
  const aid = loanAidColumns(body, product);
  broken.push(...aid.broken);
  if (broken.length > 0)
    throw new DomainError(
      'rule_violation',
      'The loan’s terms break the product’s ranges or a schedule rule.',
      broken,
    );

  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      if (!(await productTakesLoans(trx, product.id))) throw deactivated(); // deactivated since it was read
      // State aid (docs/state-aid.md): the GGE it would grant on its expected date, within the headroom.
      const granted = await expectedAid(trx, product.fund_id, aid.columns, terms);
      if (granted !== undefined)
        await checkHeadroom(
          trx,
          { structure_id: structure.id, legal_basis: aid.columns.legal_basis },
          terms.disbursementDate,
          granted,
          'principal',
        );
      const loan = await insertLoan(trx, {
        id: uuidv7(),
        fund_id: product.fund_id,
        product_id: product.id,
        structure_id: structure.id,
        kind: product.kind,
        ...termsColumns(terms),
        ...leverageColumns(body),
        ...aid.columns,
      });
      const funding = await assignLoanFunding(trx, loan.fund_id, loan.id, body.funding, 'funding');
      await executeWrites(
        trx,
        eventWrites(context.requestId, [loanEvent('loan.created', loan, loanView(loan))]),
      );
      // The split joins the audited state when there is one (a fund without sources audits the loan as before).
      const state =
        funding.length === 0
          ? loanView(loan)
          : { ...loanView(loan), funding: loanFundingView(loan.id, funding).shares };
      await recordAuditEvent(trx, context, {
        fundId: loan.fund_id,
        stream: loan.id,
        action: 'loan.created',
        entityType: 'loan',
        entityId: loan.id,
        state,
      });
      return loan;
    },
    (loan) => ({ status: 201, body: loanView(loan) }),
  );
}
