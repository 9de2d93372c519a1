import type { CalendarDate } from '../domain/dates';
import type { FieldError } from '../domain/errors';
import { COMPONENTS, type Amounts } from '../domain/allocation';
import { appendRepayment, type StandingRow } from '../domain/append-repayment';
import { cents, formatMoney, parseMoney, ZERO, type Money } from '../domain/money';
import { largestRepayment, REPAYMENT_MARGIN_PERCENT } from '../domain/repayment-limit';
import {
  serviceLoan,
  type PrepaymentChoice,
  type ServicedRow,
  type Servicing,
  type ServicingEvent,
} from '../domain/servicing';
import { originOfTerms } from '../servicing/loan-origin';
import { schemaErrors } from './api-schemas';
import type { ImportedLoan } from './check-loans';
import { fileChecks, type FileChecks } from './import-report';
import type { KnownRepayment } from './imports.repository';
import type { CsvRow } from './read-csv';

interface RepaymentLine {
  readonly row: number;
  readonly amount: Money;
  readonly valueDate: CalendarDate;
  readonly prepayment: PrepaymentChoice;
}

/** What identifies a repayment already recorded: value date, amount and payer's reference. */
const matchKey = (valueDate: string, amount: Money, reference: string | null | undefined) =>
  `${valueDate}|${amount}|${reference ?? ''}`;

/**
 * Each row as POST /v1/loans/{id}/repayments would take it. The repayments of a loan the import
 * creates are replayed in value-date order (then line order) through the servicing core, as if
 * entered one by one through the API, so a repayment is refused exactly when the API would refuse
 * it (beyond twice the schedule, after the loan is repaid, before the disbursement, in the future).
 * A repayment of a loan the fund already has must be one it recorded (then it is already present):
 * the import adds history only to the loans it creates. `replayLoans` false leaves the replay out
 * (see checkImport).
 */
export function checkRepaymentRows(
  rows: readonly CsvRow[],
  created: ReadonlyMap<string, ImportedLoan>,
  inFund: ReadonlyMap<string, string>,
  recorded: readonly KnownRepayment[],
  today: CalendarDate,
  replayLoans = true,
): FileChecks {
  const checks = fileChecks('repayments', rows.length);
  const queued = new Map<string, RepaymentLine[]>();
  const recordedKeys = new Map<string, number>();
  for (const r of recorded) {
    const key = `${r.loan_id}|${matchKey(r.value_date, r.amount, r.reference)}`;
    recordedKeys.set(key, (recordedKeys.get(key) ?? 0) + 1);
  }
  const present = new Set<number>();

  for (const { row, fields } of rows) {
    const { loan_external_reference: reference, ...body } = fields;
    const invalid = schemaErrors('RepaymentCreate', body);
    checks.failFields(row, 'invalid_request', invalid);
    if (typeof reference !== 'string') {
      checks.fail(row, 'invalid_request', 'loan_external_reference', 'is required');
      continue;
    }
    const loan = created.get(reference);
    const storedId = inFund.get(reference);
    if (!loan && !storedId)
      checks.fail(
        row,
        'not_found',
        'loan_external_reference',
        'not found: no valid row of the loans file, and no loan of the fund, has it',
      );
    if (invalid.length > 0 || checks.hasFailed(row)) continue;
    const amount = parseMoney(body.amount as string);
    if (loan) {
      const line = {
        row,
        amount,
        valueDate: body.value_date as CalendarDate,
        prepayment: (body.prepayment ?? 'reduce_instalment') as PrepaymentChoice,
      };
      queued.set(reference, [...(queued.get(reference) ?? []), line]);
      continue;
    }
    const key = `${storedId}|${matchKey(body.value_date as string, amount, body.reference as string | undefined)}`;
    const left = recordedKeys.get(key) ?? 0;
    if (left > 0) {
      recordedKeys.set(key, left - 1);
      present.add(row);
    } else {
      checks.fail(
        row,
        'rule_violation',
        'loan_external_reference',
        'is a loan the fund already has: an import adds repayments only to the loans it creates (record this one through POST /v1/loans/{loan_id}/repayments)',
      );
    }
  }

  if (replayLoans)
    for (const [reference, lines] of queued) replay(created.get(reference)!, lines, checks, today);
  for (const { row } of rows) checks.settle(row, present.has(row));
  return checks;
}

/**
 * Where a loan stands between two repayments: its current schedule's rows with what was paid on each
 * (kept from one repayment to the next, only the rows a repayment pays replaced), everything the
 * schedule asks for, and its status.
 */
interface Standing {
  rows: StandingRow[];
  totalPayable: Money;
  status: Servicing['status'];
}

const standingOf = (servicing: Servicing): Standing => ({
  rows: servicing.rows.map((row: ServicedRow, i) => ({ ...row, paid: servicing.paid[i]! })),
  totalPayable: cents(servicing.rows.reduce((sum, row) => sum + row.total, 0n)),
  status: servicing.status,
});

/**
 * The repayment appended where the loan stands, as recordRepayment's common case does
 * (appendRepayment: it settles instalments and changes nothing else); false when it needs a replay
 * of the history (a prepayment, an excess, the loan repaid, capitalised interest).
 */
function appended(standing: Standing, event: ServicingEvent & { kind: 'repayment' }): boolean {
  const result = appendRepayment(standing.rows, event);
  if (!result) return false;
  for (const allocation of result.outcome.allocations) {
    const i = standing.rows.findIndex((row) => row.number === allocation.number);
    const row = standing.rows[i]!;
    standing.rows[i] = {
      ...row,
      paid: Object.fromEntries(
        COMPONENTS.map((c) => [c, cents(row.paid[c] + allocation.amounts[c])]),
      ) as Amounts,
    };
  }
  return true;
}

/**
 * The loan's repayments in value-date order, each checked against where the ones before it left the
 * loan. Replaying the whole history for each would cost its square; as through the API, a repayment
 * is appended to where the loan stands, and the history replayed only when that is not enough.
 */
function replay(
  loan: ImportedLoan,
  lines: RepaymentLine[],
  checks: FileChecks,
  today: CalendarDate,
): void {
  const origin = originOfTerms(loan.terms);
  const accepted: ServicingEvent[] = [];
  let standing = standingOf(serviceLoan(origin, accepted));
  const ordered = [...lines].sort((a, b) =>
    a.valueDate < b.valueDate ? -1 : a.valueDate > b.valueDate ? 1 : a.row - b.row,
  );
  for (const line of ordered) {
    if (standing.status === 'repaid') {
      checks.fail(
        line.row,
        'conflict',
        null,
        'The loan is repaid: there is nothing left to repay.',
      );
      continue;
    }
    const broken: FieldError[] = [];
    if (line.amount <= ZERO) broken.push({ field: 'amount', message: 'must be more than 0.00' });
    const { totalPayable } = standing;
    const largest = largestRepayment(totalPayable);
    if (line.amount > largest) {
      broken.push({
        field: 'amount',
        message: `must be at most ${formatMoney(largest)}: everything the loan's schedule asks for (${formatMoney(totalPayable)}) plus ${REPAYMENT_MARGIN_PERCENT} %`,
      });
    }
    if (line.valueDate > today)
      broken.push({ field: 'value_date', message: 'must not be in the future' });
    if (line.valueDate < origin.disbursedOn)
      broken.push({
        field: 'value_date',
        message: `must not be before the disbursement, ${origin.disbursedOn}`,
      });
    if (broken.length > 0) {
      checks.failFields(line.row, 'rule_violation', broken);
      continue;
    }
    const event = {
      kind: 'repayment',
      id: `line:${line.row}`,
      date: line.valueDate,
      amount: line.amount,
      prepayment: line.prepayment,
    } as const;
    accepted.push(event);
    if (!appended(standing, event)) standing = standingOf(serviceLoan(origin, accepted));
  }
}
