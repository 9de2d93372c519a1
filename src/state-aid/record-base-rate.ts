import { auditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { executeWrites } from '../db/writes';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { parseExactDecimal } from '../domain/exact-decimal';
import { findVisibleFund } from '../funds/find-visible-fund';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { baseRateView } from './state-aid.view';
import { insertBaseRate } from './state-aid.repository';

/**
 * POST /v1/eu-base-rates: the fund's manager (or the admin) records the EU base rate for France in
 * force from a date. One rate per date: a second one for the same date is a 409 (a rate already used
 * by stored GGEs is not rewritten under them).
 */
export async function recordBaseRate(
  db: Db,
  context: RequestContext,
  body: { fund_id: string; effective_date: CalendarDate; rate_percent: string },
  idempotency?: IdempotentRequest,
) {
  await findVisibleFund(db, context.actor, body.fund_id, 'fund_id');
  assertCanWrite(context.actor);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const row = await insertBaseRate(trx, {
        fund_id: body.fund_id,
        effective_date: body.effective_date,
        rate_percent: parseExactDecimal(body.rate_percent),
      });
      if (!row)
        throw new DomainError(
          'conflict',
          `The fund already has an EU base rate effective on ${body.effective_date}.`,
          [{ field: 'effective_date', message: 'already has a rate' }],
        );
      await executeWrites(
        trx,
        auditEvent(context, {
          fundId: row.fund_id,
          action: 'eu_base_rate.recorded',
          entityType: 'eu_base_rate',
          entityId: row.id,
          state: baseRateView(row),
        }),
      );
      return row;
    },
    (row) => ({ status: 201, body: baseRateView(row) }),
  );
}
