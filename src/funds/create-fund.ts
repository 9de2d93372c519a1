import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { RequestContext } from '../http/auth';
import { fundView } from './fund.view';
import { insertFund, type FundRow } from './funds.repository';

export interface CreateFundBody {
  name: string;
  region_code: string;
  department_codes: string[];
  currency?: 'EUR';
  reminder_days_before?: number[];
  reminder_days_after?: number[];
  webhook_url?: string;
}

/** Only the platform administrator opens a fund. */
export async function createFund(db: Db, context: RequestContext, body: CreateFundBody): Promise<FundRow> {
  if (context.actor.role !== 'admin') throw new DomainError('forbidden', 'Only the platform administrator creates funds.');
  return db.transaction().execute(async (trx) => {
    const fund = await insertFund(trx, {
      id: uuidv7(),
      name: body.name,
      region_code: body.region_code,
      department_codes: body.department_codes,
      currency: body.currency ?? 'EUR',
      reminder_days_before: body.reminder_days_before ?? [15, 3],
      reminder_days_after: body.reminder_days_after ?? [1, 15, 30],
      webhook_url: body.webhook_url ?? null,
    });
    await recordAuditEvent(trx, context, { fundId: fund.id, action: 'fund.created', entityType: 'fund', entityId: fund.id, state: fundView(fund) });
    return fund;
  });
}
