import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError, type FieldError } from '../domain/errors';
import { isValidDepartmentCode, isValidRegionCode } from '../domain/structure-identifiers';
import type { RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { STRICT_OUTBOUND, type OutboundPolicy } from '../http/outbound';
import { webhookUrlErrors } from '../http/webhook-url-field';
import { fundView } from './fund.view';
import { insertFund } from './funds.repository';

export interface CreateFundBody {
  name: string;
  region_code: string;
  department_codes: string[];
  currency?: 'EUR';
  reminder_days_before?: number[];
  reminder_days_after?: number[];
  reminder_channels?: ('webhook' | 'email')[];
  webhook_url?: string | null;
}

/** Only the platform administrator opens a fund. */
export async function createFund(
  db: Db,
  context: RequestContext,
  body: CreateFundBody,
  outbound: OutboundPolicy = STRICT_OUTBOUND,
  idempotency?: IdempotentRequest,
) {
  if (context.actor.role !== 'admin')
    throw new DomainError('forbidden', 'Only the platform administrator creates funds.');
  const broken: FieldError[] = [];
  if (!isValidRegionCode(body.region_code))
    broken.push({ field: 'region_code', message: 'is not an INSEE region code' });
  body.department_codes.forEach((code, index) => {
    if (!isValidDepartmentCode(code))
      broken.push({
        field: `department_codes.${index}`,
        message: 'is not a French department code',
      });
  });
  broken.push(...webhookUrlErrors(body.webhook_url, outbound));
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The fund breaks a business rule.', broken);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const fund = await insertFund(trx, {
        id: uuidv7(),
        name: body.name,
        region_code: body.region_code,
        department_codes: body.department_codes,
        currency: body.currency ?? 'EUR',
        reminder_days_before: body.reminder_days_before ?? [15, 3],
        reminder_days_after: body.reminder_days_after ?? [1, 15, 30],
        reminder_channels: body.reminder_channels ?? ['webhook', 'email'],
        webhook_url: body.webhook_url ?? null,
      });
      await recordAuditEvent(trx, context, {
        fundId: fund.id,
        action: 'fund.created',
        entityType: 'fund',
        entityId: fund.id,
        state: fundView(fund),
      });
      return fund;
    },
    (fund) => ({ status: 201, body: fundView(fund) }),
  );
}
