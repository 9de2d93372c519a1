import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { CalendarDate } from '../domain/dates';
import { parseMoney } from '../domain/money';
import { assertCanWrite, seesFund, type RequestContext } from '../http/auth';
import { checkFundingSource } from './funding-source-rules';
import { fundingSourceView } from './funding-source.view';
import {
  findFundingSourceById,
  lockFundingSource,
  updateFundingSourceRow,
  type FundingSource,
} from './funding.repository';

/** What a PATCH may change: the origin, programme and start of a resource are what it is. */
export interface UpdateFundingSourceBody {
  label?: string;
  amount_committed?: string;
  end_date?: string | null;
}

/**
 * PATCH /v1/funds/{fund_id}/funding-sources/{source_id}: a merge patch of the label, the amount
 * committed (a top-up or a cut: the fund's mix, the default split of loans made from then on, follows;
 * existing loans keep theirs) or the end date. Checked and written under the row's lock.
 */
export async function updateFundingSource(
  db: Db,
  context: RequestContext,
  fundId: string,
  sourceId: string,
  body: UpdateFundingSourceBody,
): Promise<FundingSource> {
  const found = await findFundingSourceById(db, sourceId);
  if (!found || found.fund_id !== fundId || !seesFund(context.actor, found.fund_id))
    throw new DomainError('not_found', 'No such funding source.');
  assertCanWrite(context.actor);
  return db.transaction().execute(async (trx) => {
    const before = (await lockFundingSource(trx, sourceId))!;
    const amount =
      body.amount_committed === undefined
        ? before.amount_committed
        : parseMoney(body.amount_committed);
    const merged = {
      ...before,
      label: body.label ?? before.label,
      amount_committed: amount,
      end_date:
        body.end_date === undefined ? before.end_date : (body.end_date as CalendarDate | null),
    };
    const broken = checkFundingSource(merged);
    if (broken.length > 0)
      throw new DomainError('rule_violation', 'The funding source breaks a business rule.', broken);
    const after = await updateFundingSourceRow(trx, sourceId, {
      label: merged.label,
      amount_committed: merged.amount_committed,
      end_date: merged.end_date,
    });
    await recordAuditEvent(trx, context, {
      fundId,
      action: 'funding_source.updated',
      entityType: 'funding_source',
      entityId: after.id,
      state: fundingSourceView(after),
    });
    return after;
  });
}
