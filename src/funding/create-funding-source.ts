import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { parseMoney } from '../domain/money';
import { findVisibleFund } from '../funds/find-visible-fund';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { checkFundingSource, type FundingSourceFields } from './funding-source-rules';
import { fundingSourceView } from './funding-source.view';
import { insertFundingSource } from './funding.repository';

/** POST /v1/funds/{fund_id}/funding-sources: the fund's manager (or the admin) records a resource of the fund. */
export async function createFundingSource(
  db: Db,
  context: RequestContext,
  fundId: string,
  body: FundingSourceFields,
  idempotency?: IdempotentRequest,
) {
  await findVisibleFund(db, context.actor, fundId);
  assertCanWrite(context.actor);
  const amount = parseMoney(body.amount_committed);
  const broken = checkFundingSource({ ...body, amount_committed: amount });
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The funding source breaks a business rule.', broken);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const source = await insertFundingSource(trx, {
        id: uuidv7(),
        fund_id: fundId,
        origin: body.origin,
        programme_code: body.programme_code ?? null,
        priority: body.priority ?? null,
        label: body.label,
        amount_committed: amount,
        // dates checked by openapi.yaml's format
        start_date: body.start_date as CalendarDate,
        end_date: (body.end_date ?? null) as CalendarDate | null,
      });
      await recordAuditEvent(trx, context, {
        fundId,
        action: 'funding_source.created',
        entityType: 'funding_source',
        entityId: source.id,
        state: fundingSourceView(source),
      });
      return source;
    },
    (source) => ({ status: 201, body: fundingSourceView(source) }),
  );
}
