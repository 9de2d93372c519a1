import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { parseDate, type CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { findVisibleFund } from '../funds/find-visible-fund';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { applyRestructuring } from './restructure-loan';
import {
  findSameMoratorium,
  insertMoratorium,
  lockActiveLoansOfFund,
} from './servicing.repository';
import { loadHistory } from './loan-history';

export interface MoratoriumBody {
  kind?: 'recovery' | 'common_law';
  effective_date: string;
  /** How many deferral periods (`deferral_periods` says the same). */
  periods?: number;
  deferral_periods?: number;
  deferral_type?: 'partial' | 'total';
  capitalise_arrears?: boolean;
  reason: string;
}

/**
 * A portfolio-wide moratorium (a crisis: six months for every recovery loan, say) as one operation:
 * every active loan of the fund, of the kind if one is named, gets the moratorium as a restructuring
 * in a single transaction. A loan it cannot apply to (nothing left to reschedule, a repayment
 * recorded after the date, amounts or a length the schedule cannot hold, new aid above its
 * undertaking's de minimis headroom) is skipped, counted and listed with the reason, not an error:
 * one loan must not hold back a crisis measure for all.
 */
export async function declareMoratorium(
  db: Db,
  context: RequestContext,
  fundId: string,
  body: MoratoriumBody,
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  const fund = await findVisibleFund(db, context.actor, fundId);
  assertCanWrite(context.actor);
  const periods = body.periods ?? body.deferral_periods;
  const broken = [];
  if (body.effective_date > today)
    broken.push({ field: 'effective_date', message: 'must not be in the future' });
  if (periods === undefined)
    broken.push({ field: 'periods', message: 'is required (or deferral_periods)' });
  if (
    body.periods !== undefined &&
    body.deferral_periods !== undefined &&
    body.periods !== body.deferral_periods
  ) {
    broken.push({
      field: 'deferral_periods',
      message: 'says another number than periods: give one of them',
    });
  }
  if (periods === undefined || broken.length > 0)
    throw new DomainError('rule_violation', 'The moratorium breaks a rule.', broken);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const id = uuidv7();
      const loans = await lockActiveLoansOfFund(trx, fund.id, body.kind);
      // Declared twice (a retried request, a double click), it would defer every loan twice.
      const twin = await findSameMoratorium(trx, {
        fund_id: fund.id,
        kind: body.kind ?? null,
        effective_date: body.effective_date,
        periods: periods,
        deferral_type: body.deferral_type ?? 'partial',
      });
      if (twin)
        throw new DomainError(
          'conflict',
          `The same moratorium was already declared (${twin.id}, ${twin.created_at.toISOString()}).`,
        );
      const changes = {
        type: 'moratorium' as const,
        effective_date: body.effective_date,
        reason: body.reason,
        periods,
        deferral_type: body.deferral_type ?? 'partial',
        capitalise_arrears: body.capitalise_arrears ?? false,
      };
      const changed: string[] = [];
      const skipped: { loan_id: string; reason: string }[] = [];
      for (const loan of loans) {
        await sql`SAVEPOINT moratorium_loan`.execute(trx);
        try {
          // The loans are locked already: their history, read now, is the one the restructuring replays.
          await applyRestructuring(
            trx,
            context,
            { loan, history: await loadHistory(trx, loan.id, loan.schedule_version) },
            changes,
            today,
            id,
          );
          await sql`RELEASE SAVEPOINT moratorium_loan`.execute(trx);
          changed.push(loan.id);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          await sql`ROLLBACK TO SAVEPOINT moratorium_loan`.execute(trx);
          skipped.push({
            loan_id: loan.id,
            reason: [error.message, ...error.fields.map((f) => `${f.field} ${f.message}`)].join(
              ' ',
            ),
          });
        }
      }
      const moratorium = await insertMoratorium(trx, {
        id,
        fund_id: fund.id,
        kind: body.kind ?? null,
        effective_date: parseDate(body.effective_date),
        periods: periods,
        deferral_type: changes.deferral_type,
        capitalise_arrears: changes.capitalise_arrears,
        reason: body.reason,
        loans_changed: changed.length,
        loans_skipped: loans.length - changed.length,
      });
      const view = {
        ...moratorium,
        deferral_periods: moratorium.periods,
        created_at: moratorium.created_at.toISOString(),
        changed_loan_ids: changed,
        skipped_loans: skipped,
      };
      await recordAuditEvent(trx, context, {
        fundId: fund.id,
        action: 'fund.moratorium_declared',
        entityType: 'moratorium',
        entityId: id,
        state: view,
      });
      return view;
    },
    (view) => ({ status: 201, body: view }),
  );
}
