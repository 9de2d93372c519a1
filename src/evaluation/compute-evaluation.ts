import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { evaluatedLoans, evaluatedSnapshots } from './evaluation.repository';
import { evaluationIndicators, type EvaluationIndicators } from './evaluation-indicators';

/**
 * The evaluation report's figures (a report of type `evaluation`, computed by the reports' worker as
 * the resilience report is): two reads, in the caller's REPEATABLE READ transaction so that both see
 * the same data, then exact arithmetic (cents, and decimal.js for jobs and ratios).
 */
export async function computeEvaluation(
  db: Db,
  fundId: string,
  asOf: CalendarDate,
): Promise<EvaluationIndicators> {
  const { currency, loans } = await evaluatedLoans(db, fundId, asOf);
  if (currency === undefined) throw new DomainError('not_found', 'No such fund.');
  return evaluationIndicators(
    fundId,
    asOf,
    currency,
    loans,
    await evaluatedSnapshots(db, fundId, asOf),
  );
}
