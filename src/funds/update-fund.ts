import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { STRICT_OUTBOUND, type OutboundPolicy } from '../http/outbound';
import { webhookUrlErrors } from '../http/webhook-url-field';
import { findVisibleFund } from './find-visible-fund';
import { fundView } from './fund.view';
import { updateFundSettings, type Fund } from './funds.repository';

export interface UpdateFundBody {
  name?: string;
  reminder_days_before?: number[];
  reminder_days_after?: number[];
  reminder_channels?: ('webhook' | 'email')[];
  webhook_url?: string | null;
}

/**
 * PATCH /v1/funds/{id}: the fund's manager (or the admin) changes its name and reminder settings;
 * absent fields are kept, `webhook_url: null` removes the webhook. Reminders already made keep
 * their offsets; the next scan uses the new ones. Territory and currency do not change.
 */
export async function updateFund(
  db: Db,
  context: RequestContext,
  fundId: string,
  body: UpdateFundBody,
  outbound: OutboundPolicy = STRICT_OUTBOUND,
): Promise<Fund> {
  await findVisibleFund(db, context.actor, fundId);
  assertCanWrite(context.actor);
  const broken = webhookUrlErrors(body.webhook_url, outbound);
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The fund’s webhook URL is refused.', broken);
  return db.transaction().execute(async (trx) => {
    const fund = await updateFundSettings(trx, fundId, body);
    await recordAuditEvent(trx, context, {
      fundId,
      action: 'fund.updated',
      entityType: 'fund',
      entityId: fundId,
      state: fundView(fund),
    });
    return fund;
  });
}
