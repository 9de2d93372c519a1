/**
 * The model, the commands and the driver of test/integration/servicing-model.test.ts: random
 * servicing histories (DOMAIN.md "Loan lifecycle and servicing") played against the use cases,
 * or through HTTP, on a fund of their own.
 */
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import fc from 'fast-check';
import pino from 'pino';
import { sql } from 'kysely';
import { createApp } from '../../src/app';
import { connectDatabase, type Db } from '../../src/db/connect';
import type { CalendarDate } from '../../src/domain/dates';
import { DomainError, type ErrorCode } from '../../src/domain/errors';
import { cents, formatMoney, parseMoney } from '../../src/domain/money';
import { largestRepayment } from '../../src/domain/repayment-limit';
import { createFund } from '../../src/funds/create-fund';
import { ADMIN, hashSecret, type RequestContext } from '../../src/http/auth';
import { createLoan, type CreateLoanBody } from '../../src/loans/create-loan';
import { disburseLoan } from '../../src/servicing/disburse-loan';
import type { StoredResponse } from '../../src/idempotency/run-idempotently';
import { createProduct } from '../../src/products/create-product';
import { recordRepayment, type RepaymentBody } from '../../src/servicing/record-repayment';
import { declareMoratorium, type MoratoriumBody } from '../../src/servicing/declare-moratorium';
import { restructureLoan, type RestructuringBody } from '../../src/servicing/restructure-loan';
import { reverseRepayment } from '../../src/servicing/reverse-repayment';
import { writeOffLoan } from '../../src/servicing/write-off-loan';
import { createStructure } from '../../src/structures/create-structure';
import { ADMIN_KEY } from './app';
import { as, productBody, structureBody, unique } from './portfolio';

export const CONTEXT: RequestContext = { actor: ADMIN, requestId: 'model' };

// ---------------------------------------------------------------- dates

const DAY = 86_400_000;
export const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10) as CalendarDate;
const maxDate = (a: CalendarDate, b: CalendarDate) => (a > b ? a : b);
const minDate = (a: CalendarDate, b: CalendarDate) => (a < b ? a : b);
/** Far enough ahead to include every capitalisation a schedule of this test can post. */
export const FAR = '2099-12-31' as CalendarDate;
const FIRST_DISBURSEMENT = '2023-01-02' as CalendarDate;
const MODEL_TODAY = '2026-06-15' as CalendarDate;

// ---------------------------------------------------------------- commands

export type Via = 'direct' | 'http';

/** When an operation is value-dated, relative to the sequence's clock or to the loan. */
export type DateSpec =
  | { readonly at: 'later'; readonly days: number } // the clock moves on (a late payment when an instalment fell due meanwhile)
  | { readonly at: 'earlier'; readonly days: number } // back-dated
  | { readonly at: 'due'; readonly shift: number } // around the due date of the first unpaid instalment (0: on time)
  | { readonly at: 'future'; readonly days: number } // after today: refused
  | { readonly at: 'before_disbursement'; readonly days: number }; // refused

export type AmountSpec =
  | { readonly of: 'next'; readonly percent: number } // 100: the first unpaid instalment; less: a partial payment
  | { readonly of: 'instalments'; readonly count: number }
  | { readonly of: 'everything'; readonly extraCents: number } // the whole loan and more: an overpayment
  | { readonly of: 'cents'; readonly cents: number }
  | { readonly of: 'zero' };

export type Prepayment = RepaymentBody['prepayment'];

export interface TermsSpec {
  readonly principalCents: number;
  readonly rate: string;
  readonly periodicity: 'monthly' | 'quarterly';
  readonly termPeriods: number;
  readonly deferralPeriods: number;
  readonly deferralType: 'partial' | 'total';
  readonly method: 'annuity' | 'linear' | 'bullet';
  readonly dayCount: '30E/360' | 'ACT/365' | 'ACT/360';
  readonly rounding: 'half_up' | 'half_even';
  readonly instalmentMultiple: string;
  /** A first due date that many days after the disbursement (a broken first period), or 0 for one period after it. */
  readonly firstDueAfterDays: number;
}

export type Change =
  | {
      readonly type: 'moratorium';
      readonly periods: number;
      readonly deferralType: 'partial' | 'total';
    }
  | { readonly type: 'extension'; readonly remainingPeriods: number }
  | { readonly type: 'rate_change'; readonly rate: string };

/** `loan` and `repayment` are indexes, taken modulo what exists when the command runs: every shrunk sequence stays runnable. */
export type Command =
  | {
      readonly op: 'disburse';
      readonly terms: TermsSpec;
      readonly afterDays: number;
      readonly future: boolean;
      readonly via: Via;
    }
  | {
      readonly op: 'repay';
      readonly loan: number;
      readonly amount: AmountSpec;
      readonly date: DateSpec;
      readonly prepayment: Prepayment | null;
      readonly via: Via;
    }
  | { readonly op: 'reverse'; readonly repayment: number; readonly via: Via }
  | {
      readonly op: 'restructure';
      readonly loan: number;
      readonly date: DateSpec;
      readonly change: Change;
      readonly capitaliseArrears: boolean;
      readonly via: Via;
    }
  | { readonly op: 'write_off'; readonly loan: number; readonly date: DateSpec; readonly via: Via }
  | {
      readonly op: 'moratorium';
      readonly date: DateSpec;
      readonly periods: number;
      readonly deferralType: 'partial' | 'total';
      readonly capitaliseArrears: boolean;
      readonly kind: 'common_law' | 'recovery' | null;
      readonly again: boolean;
      readonly via: Via;
    }
  /** The last repayment sent again with its Idempotency-Key: as it was, or with another amount (refused). */
  | { readonly op: 'retry'; readonly changed: boolean; readonly via: Via };

const termsArb: fc.Arbitrary<TermsSpec> = fc.record({
  principalCents: fc.integer({ min: 100_000, max: 5_000_000 }),
  rate: fc.constantFrom('0', '0', '2.5', '12'), // half of the loans at 0 %, where the model knows every amount
  periodicity: fc.constantFrom('monthly' as const, 'monthly' as const, 'quarterly' as const),
  termPeriods: fc.integer({ min: 2, max: 18 }),
  deferralPeriods: fc.integer({ min: 0, max: 3 }),
  deferralType: fc.constantFrom('partial' as const, 'total' as const),
  method: fc.constantFrom('annuity' as const, 'linear' as const, 'bullet' as const),
  dayCount: fc.constantFrom(
    '30E/360' as const,
    '30E/360' as const,
    'ACT/365' as const,
    'ACT/360' as const,
  ),
  rounding: fc.constantFrom('half_up' as const, 'half_even' as const),
  instalmentMultiple: fc.constantFrom('0.01', '0.01', '1.00', '10.00'),
  firstDueAfterDays: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 10, max: 75 }) },
  ),
});

const viaArb: fc.Arbitrary<Via> = fc.oneof(
  { weight: 5, arbitrary: fc.constant('direct' as const) },
  { weight: 1, arbitrary: fc.constant('http' as const) },
);
const loanIndex = fc.nat({ max: 5 });

const dateArb: fc.Arbitrary<DateSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      at: fc.constant('later' as const),
      days: fc.integer({ min: 0, max: 90 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      at: fc.constant('earlier' as const),
      days: fc.integer({ min: 1, max: 150 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      at: fc.constant('due' as const),
      shift: fc.oneof(fc.constant(0), fc.integer({ min: -10, max: 45 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant('future' as const),
      days: fc.integer({ min: 5, max: 400 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant('before_disbursement' as const),
      days: fc.integer({ min: 1, max: 60 }),
    }),
  },
);

const amountArb: fc.Arbitrary<AmountSpec> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      of: fc.constant('next' as const),
      percent: fc.oneof(fc.constant(100), fc.integer({ min: 1, max: 99 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      of: fc.constant('instalments' as const),
      count: fc.integer({ min: 2, max: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      of: fc.constant('everything' as const),
      extraCents: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      of: fc.constant('cents' as const),
      cents: fc.integer({ min: 1, max: 300_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ of: fc.constant('zero' as const) }) },
);

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({
    type: fc.constant('moratorium' as const),
    periods: fc.integer({ min: 1, max: 6 }),
    deferralType: fc.constantFrom('partial' as const, 'total' as const),
  }),
  fc.record({
    type: fc.constant('extension' as const),
    remainingPeriods: fc.integer({ min: 1, max: 30 }),
  }),
  fc.record({
    type: fc.constant('rate_change' as const),
    rate: fc.constantFrom('0', '1.5', '4', '12'),
  }),
);

export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('disburse' as const),
      terms: termsArb,
      afterDays: fc.integer({ min: 0, max: 60 }),
      future: fc.oneof(
        { weight: 4, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      via: viaArb,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('repay' as const),
      loan: loanIndex,
      amount: amountArb,
      date: dateArb,
      prepayment: fc.constantFrom(
        null,
        'reduce_instalment' as const,
        'reduce_term' as const,
        'pay_ahead' as const,
      ),
      via: viaArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('reverse' as const),
      repayment: fc.nat({ max: 20 }),
      via: viaArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('restructure' as const),
      loan: loanIndex,
      date: dateArb,
      change: changeArb,
      capitaliseArrears: fc.boolean(),
      via: viaArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('write_off' as const),
      loan: loanIndex,
      date: dateArb,
      via: viaArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('moratorium' as const),
      date: dateArb,
      periods: fc.integer({ min: 1, max: 6 }),
      deferralType: fc.constantFrom('partial' as const, 'total' as const),
      capitaliseArrears: fc.boolean(),
      kind: fc.constantFrom(null, null, 'common_law' as const, 'recovery' as const),
      again: fc.boolean(),
      via: viaArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('retry' as const), changed: fc.boolean(), via: viaArb }),
  },
);

/** A first loan, and what happens to the fund's loans next. */
export const sequenceArb = fc.record({
  first: termsArb,
  firstOn: fc.integer({ min: 0, max: 1000 }).map((days) => addDays(FIRST_DISBURSEMENT, days)),
  // Longer histories locally with SERVICING_MODEL_MAX_COMMANDS: the run time grows with them.
  commands: fc.array(commandArb, {
    minLength: 1,
    maxLength: Number(process.env.SERVICING_MODEL_MAX_COMMANDS ?? 10),
  }),
});
export type Sequence = {
  readonly first: TermsSpec;
  readonly firstOn: CalendarDate;
  readonly commands: readonly Command[];
};

// ---------------------------------------------------------------- the model

export type LoanStatus = 'pending' | 'active' | 'repaid' | 'written_off';

export interface ModelRepayment {
  readonly id: string;
  readonly amount: bigint;
  readonly valueDate: CalendarDate;
  /** Recorded once the loan was written off: a recovery. */
  readonly recovery: boolean;
  /** The order it was recorded in: the tie-break between two repayments of the same value date. */
  readonly order: number;
  reversed: boolean;
  /** The loan as it was just before this repayment, and the count of accepted operations on it once recorded. */
  readonly undo: { readonly digest: unknown; readonly accepted: number };
}

export interface ModelLoan {
  readonly id: string;
  readonly principal: bigint;
  disbursedOn: CalendarDate | null;
  /** 0 % from the start and never re-rated: no interest, nothing capitalised, so the model knows every amount. */
  exact: boolean;
  /** What the loan was last seen as (checked against the model at each step). */
  status: LoanStatus;
  readonly repayments: ModelRepayment[];
  readonly restructuredOn: CalendarDate[];
  writtenOffOn: CalendarDate | null;
  /** The repayment that turned it repaid: reversing it makes the loan active again. */
  repaidBy: string | null;
  /** Operations accepted on it so far. */
  accepted: number;
  /** How it was created, and what was recorded on it since, in the order it was recorded. */
  readonly terms: CreateLoanBody;
  readonly events: HistoryEvent[];
}

export type HistoryEvent = { readonly order: number; readonly date: CalendarDate } & (
  | { readonly kind: 'repayment'; readonly repaymentId: string; readonly body: RepaymentBody }
  | { readonly kind: 'restructuring'; readonly body: RestructuringBody }
  | { readonly kind: 'write_off' }
);

export interface Model {
  readonly fundId: string;
  readonly productId: string;
  readonly structureId: string;
  readonly loans: ModelLoan[];
  /** The latest date an accepted operation was value-dated: "later" and "earlier" are relative to it. */
  clock: CalendarDate;
  /** Events recorded so far, on every loan: the tie-break between two events of the same value date. */
  recorded: number;
  /** The portfolio moratoria declared, as the request that declared them: the same one again is refused. */
  readonly moratoria: MoratoriumBody[];
  lastRepayment: {
    readonly loanId: string;
    readonly body: RepaymentBody;
    readonly key: string;
    readonly status: number;
    readonly response: unknown;
  } | null;
}

export const standing = (loan: ModelLoan) => loan.repayments.filter((r) => !r.reversed);
const inReplayOrder = (rs: ModelRepayment[]) =>
  [...rs].sort((a, b) => a.valueDate.localeCompare(b.valueDate) || a.order - b.order);

/** What a 0 % loan's history comes to: each repayment repays principal until none is left, the rest is an excess. */
export function exactBook(loan: ModelLoan) {
  const split = new Map<string, { principal: bigint; excess: bigint; recovered: bigint }>();
  let repaid = 0n;
  for (const r of inReplayOrder(standing(loan))) {
    if (r.recovery) {
      split.set(r.id, { principal: 0n, excess: 0n, recovered: r.amount });
      continue;
    }
    const take = r.amount < loan.principal - repaid ? r.amount : loan.principal - repaid;
    repaid += take;
    split.set(r.id, { principal: take, excess: r.amount - take, recovered: 0n });
  }
  const status: LoanStatus = loan.writtenOffOn
    ? 'written_off'
    : repaid === loan.principal
      ? 'repaid'
      : 'active';
  const writtenOff = loan.writtenOffOn ? loan.principal - repaid : 0n;
  const receivableAsOf = (date: CalendarDate) => {
    if (loan.disbursedOn === null || date < loan.disbursedOn) return 0n;
    let balance = loan.principal;
    for (const r of standing(loan)) if (r.valueDate <= date) balance -= split.get(r.id)!.principal;
    if (loan.writtenOffOn && loan.writtenOffOn <= date) balance -= writtenOff;
    return balance;
  };
  return { status, writtenOff, split, receivableAsOf };
}

// ---------------------------------------------------------------- what the database holds

/** Amounts and dates as PostgreSQL prints them, never through a JS number. */
export interface LoanSeen {
  readonly id: string;
  readonly status: string;
  readonly principal: string;
  readonly disbursed_on: string | null;
  readonly repaid_on: string | null;
  readonly written_off_on: string | null;
  readonly written_off_principal: string | null;
  readonly outstanding_principal: string;
  readonly restructured: boolean;
  readonly schedule_version: number;
  readonly current_annual_rate_percent: string | null;
  readonly periodicity: string;
}
export interface InstalmentSeen {
  readonly loan_id: string;
  readonly number: number;
  readonly due_date: string;
  readonly principal: string;
  readonly interest: string;
  readonly total: string;
  readonly balance_after: string;
  readonly capitalised_interest: string;
}
export interface RepaymentSeen {
  readonly id: string;
  readonly loan_id: string;
  readonly amount: string;
  readonly value_date: string;
  readonly prepayment: string;
  readonly kind: string;
  readonly principal_prepaid: string;
  readonly excess: string;
  readonly reversed_at: string | null;
  readonly seq: string | number;
}
export interface AllocationSeen {
  readonly repayment_id: string;
  readonly number: number;
  readonly fees: string;
  readonly late_interest: string;
  readonly interest: string;
  readonly principal: string;
}
export interface EntryLine {
  readonly entryId: string;
  readonly loanId: string | null;
  readonly event: string;
  readonly source: string | null;
  readonly valueDate: CalendarDate;
  readonly account: string;
  readonly debit: bigint;
  readonly credit: bigint;
}

/** Everything of the fund a servicing operation may change, in a stable order. */
export interface Observation {
  readonly loans: LoanSeen[];
  /** The current schedule version of each loan. */
  readonly rows: InstalmentSeen[];
  readonly repayments: RepaymentSeen[];
  /** Those of reversed repayments included (what they had paid). */
  readonly allocations: AllocationSeen[];
  /** What restructurings with capitalise_arrears settled of instalments in arrears. */
  readonly settlements: {
    readonly loan_id: string;
    readonly number: number;
    readonly interest: string;
    readonly principal: string;
  }[];
  readonly lines: EntryLine[];
  readonly counts: {
    readonly audit: number;
    readonly restructurings: number;
    readonly versions: number;
    readonly instalments: number;
    readonly keys: number;
  };
  /** Journal entries with fewer than two lines or Σ debit ≠ Σ credit, found in SQL over journal_lines. */
  readonly unbalanced: unknown[];
}

/** One round trip (the test reads this after every step): each list as JSON, numbers that are money as text. */
export async function observe(db: Db, fundId: string): Promise<Observation> {
  const {
    rows: [seen],
  } = await sql<
    Omit<Observation, 'lines' | 'counts'> & {
      counts: Observation['counts'][];
      lines: (Omit<EntryLine, 'debit' | 'credit'> & { debit: string; credit: string })[];
    }
  >`
    WITH fund_loans AS (SELECT * FROM loans WHERE fund_id = ${fundId})
    SELECT
      (SELECT coalesce(json_agg(x ORDER BY x.created_at, x.id), '[]') FROM (
        SELECT id, status, principal::text, disbursed_on::text, repaid_on::text, written_off_on::text, written_off_principal::text, outstanding_principal::text,
          restructured, schedule_version, current_annual_rate_percent::text, periodicity, created_at FROM fund_loans) x) AS loans,
      (SELECT coalesce(json_agg(x ORDER BY x.loan_id, x.number), '[]') FROM (
        SELECT i.loan_id, i.number, i.due_date::text, i.principal::text, i.interest::text, i.total::text, i.balance_after::text, i.capitalised_interest::text
        FROM instalments i JOIN fund_loans l ON l.id = i.loan_id AND l.schedule_version = i.version) x) AS rows,
      (SELECT coalesce(json_agg(x ORDER BY x.seq), '[]') FROM (
        SELECT r.id, r.loan_id, r.amount::text, r.value_date::text, r.prepayment, r.kind, r.principal_prepaid::text, r.excess::text, r.reversed_at::text, r.seq
        FROM repayments r JOIN fund_loans l ON l.id = r.loan_id) x) AS repayments,
      (SELECT coalesce(json_agg(x ORDER BY x.repayment_id, x.number), '[]') FROM (
        SELECT a.repayment_id, a.number, a.fees::text, a.late_interest::text, a.interest::text, a.principal::text
        FROM allocations a JOIN repayments r ON r.id = a.repayment_id JOIN fund_loans l ON l.id = r.loan_id) x) AS allocations,
      (SELECT coalesce(json_agg(x ORDER BY x.loan_id, x.number), '[]') FROM (
        SELECT x.loan_id, s.number, s.interest::text, s.principal::text
        FROM arrears_settlements s JOIN restructurings x ON x.id = s.restructuring_id JOIN fund_loans l ON l.id = x.loan_id) x) AS settlements,
      (SELECT coalesce(json_agg(x ORDER BY x."valueDate", x.created_at, x."entryId", x.line), '[]') FROM (
        SELECT jl.entry_id AS "entryId", e.loan_id AS "loanId", e.event, e.source, e.value_date::text AS "valueDate", e.created_at, jl.line, jl.account, jl.debit::text, jl.credit::text
        FROM journal_lines jl JOIN journal_entries e ON e.id = jl.entry_id WHERE e.fund_id = ${fundId}) x) AS lines,
      (SELECT coalesce(json_agg(x), '[]') FROM (
        SELECT e.id, count(l.entry_id) AS lines, (coalesce(sum(l.debit), 0) - coalesce(sum(l.credit), 0))::text AS difference
        FROM journal_entries e LEFT JOIN journal_lines l ON l.entry_id = e.id WHERE e.fund_id = ${fundId}
        GROUP BY e.id HAVING count(l.entry_id) < 2 OR coalesce(sum(l.debit), 0) <> coalesce(sum(l.credit), 0)) x) AS unbalanced,
      json_build_array(json_build_object(
        'audit', (SELECT count(*) FROM audit_events WHERE fund_id = ${fundId}),
        'restructurings', (SELECT count(*) FROM restructurings r JOIN fund_loans l ON l.id = r.loan_id),
        'versions', (SELECT count(*) FROM schedule_versions v JOIN fund_loans l ON l.id = v.loan_id),
        'instalments', (SELECT count(*) FROM instalments i JOIN fund_loans l ON l.id = i.loan_id),
        'keys', (SELECT count(*) FROM idempotency_keys WHERE key LIKE ${`${fundId}:%`}))) AS counts`.execute(
    db,
  );
  return {
    ...seen!,
    counts: seen!.counts[0]!,
    lines: seen!.lines.map((l) => ({
      ...l,
      debit: parseMoney(l.debit),
      credit: parseMoney(l.credit),
    })),
  };
}

/** The observation as text: a refused operation must leave it exactly as it was. */
export const fingerprint = (o: Observation) =>
  JSON.stringify(o, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );

export const money = (text: string | null) =>
  text === null
    ? 0n
    : parseMoney(text.startsWith('-') ? text.slice(1) : text) * (text.startsWith('-') ? -1n : 1n);
export const standingIds = (o: Observation) =>
  new Set(o.repayments.filter((r) => r.reversed_at === null).map((r) => r.id));

/**
 * What the standing repayments paid towards each instalment of a loan's current version, with what
 * a restructuring settled by capitalising arrears: number → component → cents.
 */
export function paidTowards(
  o: Observation,
  loanId: string,
): Map<number, { interest: bigint; principal: bigint; other: bigint }> {
  const mine = new Set(
    o.repayments.filter((r) => r.loan_id === loanId && r.reversed_at === null).map((r) => r.id),
  );
  const paid = new Map<number, { interest: bigint; principal: bigint; other: bigint }>();
  for (const a of o.allocations) {
    if (!mine.has(a.repayment_id)) continue;
    const p = paid.get(a.number) ?? { interest: 0n, principal: 0n, other: 0n };
    paid.set(a.number, {
      interest: p.interest + money(a.interest),
      principal: p.principal + money(a.principal),
      other: p.other + money(a.fees) + money(a.late_interest),
    });
  }
  for (const s of o.settlements) {
    if (s.loan_id !== loanId) continue;
    const p = paid.get(s.number) ?? { interest: 0n, principal: 0n, other: 0n };
    paid.set(s.number, {
      ...p,
      interest: p.interest + money(s.interest),
      principal: p.principal + money(s.principal),
    });
  }
  return paid;
}

/** The instalments of the current version not fully paid, oldest first, with what remains of each. */
export function unpaidRows(
  o: Observation,
  loanId: string,
): { dueDate: CalendarDate; unpaid: bigint }[] {
  const paid = paidTowards(o, loanId);
  return o.rows
    .filter((row) => row.loan_id === loanId)
    .map((row) => {
      const p = paid.get(row.number);
      return {
        dueDate: row.due_date as CalendarDate,
        unpaid: money(row.total) - (p ? p.interest + p.principal + p.other : 0n),
      };
    })
    .filter((row) => row.unpaid > 0n);
}

// ---------------------------------------------------------------- the driver

export interface World {
  readonly db: Db;
  readonly app: Express;
  /** The use cases' and the HTTP routes' "today": fixed, so that a seed replays the same any day. */
  readonly today: CalendarDate;
}

/**
 * The app on a pool of its own to the run's test database, with synchronous_commit off: a thousand
 * sequences commit some 15,000 transactions, and waiting for each to reach the disk is 15 % of the
 * run. What every transaction sees, and in which order, is unchanged; only a crash could lose the
 * last commits, of a database dropped at the end of the run anyway.
 */
export async function modelWorld(): Promise<World> {
  const url = new URL(process.env.TEST_DATABASE_URL ?? '');
  url.searchParams.set('options', '-c synchronous_commit=off');
  const db = await connectDatabase({ databaseUrl: url.toString(), dataDir: '', poolSize: 8 });
  const today = MODEL_TODAY;
  return {
    db,
    app: createApp({
      logger: pino({ level: 'silent' }),
      db,
      adminKeyHash: hashSecret(ADMIN_KEY),
      today: () => today,
    }),
    today,
  };
}

export const closeModelWorld = (world: World | undefined) => world?.db.destroy();

export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly replayed: boolean;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  invalid_request: 400,
  rule_violation: 422,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
};

/** A use case called directly, its DomainError turned into the status the API would answer; any other error is a defect (a 500). */
/** A use case called directly answers its status itself (and whether it replayed a stored response). */
async function direct(run: () => Promise<StoredResponse>): Promise<Reply> {
  try {
    const stored = await run();
    return {
      status: stored.status,
      body: JSON.parse(JSON.stringify(stored.body)) as unknown,
      replayed: stored.replayed,
    };
  } catch (error) {
    return refusal(error);
  }
}

function refusal(error: unknown): Reply {
  if (!(error instanceof DomainError)) throw error;
  return {
    status: STATUS_OF[error.code] ?? 500,
    body: { code: error.code, message: error.message, fields: error.fields },
    replayed: false,
  };
}

const directRepayment = (
  world: World,
  loanId: string,
  body: RepaymentBody,
  key: string,
): Promise<Reply> =>
  direct(() => recordRepayment(world.db, CONTEXT, loanId, body, key, world.today));

/** Through HTTP as the admin; `as` checks every response against openapi.yaml. */
async function http(
  world: World,
  path: string,
  body: unknown,
  headers?: Record<string, string>,
): Promise<Reply> {
  const res = await as(world.app, ADMIN_KEY).post(path, body, headers);
  return {
    status: res.status,
    body: res.body as unknown,
    replayed: res.headers['idempotency-replayed'] === 'true',
  };
}

const send = (
  world: World,
  via: Via,
  run: () => Promise<StoredResponse>,
  path: string,
  body: unknown,
  headers?: Record<string, string>,
) => (via === 'direct' ? direct(run) : http(world, path, body, headers));

const wideProduct = {
  kind: 'common_law',
  principal_min: '100.00',
  principal_max: '1000000.00',
  annual_rate_percent_max: '20',
  term_periods_min: 1,
  term_periods_max: 360,
  deferral_periods_max: 60,
  methods: ['annuity', 'linear', 'bullet'],
  periodicities: ['monthly', 'quarterly', 'semiannual', 'annual'],
};

/** A fund of the sequence's own (so that its audit chain and trial balance hold this sequence only), with a product and a structure. */
export async function openFund(world: World): Promise<Model> {
  const fund = (
    await createFund(world.db, CONTEXT, {
      name: unique('Fonds modèle'),
      region_code: '84',
      department_codes: ['69'],
    })
  ).body;
  const [product, structure] = await Promise.all([
    createProduct(
      world.db,
      CONTEXT,
      productBody(fund.id, wideProduct) as Parameters<typeof createProduct>[2],
    ),
    createStructure(world.db, CONTEXT, structureBody(fund.id)),
  ]);
  return {
    fundId: fund.id,
    productId: product.body.id,
    structureId: structure.body.id,
    loans: [],
    clock: FIRST_DISBURSEMENT,
    recorded: 0,
    moratoria: [],
    lastRepayment: null,
  };
}

/** What one command did, and what the model expected of it. */
export interface Step {
  readonly op: Command['op'];
  readonly loan: ModelLoan | null;
  /** The value date the operation was sent with, if any. */
  readonly date: CalendarDate | null;
  /** The statuses the model allows (more than one where the rules leave the model unsure, e.g. a restructuring that may change nothing). */
  readonly allowed: readonly number[];
  /** null when there was nothing to send (no repayment to reverse, nothing to retry). */
  readonly reply: Reply | null;
  /** The state a refusal or a replay must leave untouched (for a disbursement: once the loan was created). */
  readonly baseline: Observation;
  /** Audit events an accepted command appends. */
  readonly auditEvents: number;
  /** The status the loan must have now, when the model knows it without computing interest. */
  readonly expectStatus: LoanStatus | null;
  /** A retry: the first response, to be replayed as it was. */
  readonly replayOf: { readonly status: number; readonly response: unknown } | null;
  /** The loans it restructured: each is flagged, with one more schedule version. */
  readonly restructured: readonly string[];
  /** What the restructuring (or the moratorium) changed. */
  readonly change: { readonly change: Change; readonly capitaliseArrears: boolean } | null;
  /** Value-dated on or after everything recorded on the loan: it replays last, on the loan as `baseline` shows it. */
  readonly last: boolean;
  /** A reversal of the last operation accepted on the loan: the loan must be back as it was before it. */
  readonly undoes: unknown;
  /** A portfolio moratorium: the active loans it concerns, each one it must change (true), skip (false) or may do either with (null). */
  readonly moratorium: ReadonlyMap<string, boolean | null> | null;
}

export const accepted = (step: Step) => step.reply !== null && step.reply.status < 300;

type Outcome = Omit<Step, 'op'>;
/** A step that changed nothing unless told otherwise. */
const outcome = (baseline: Observation, fields: Partial<Omit<Outcome, 'baseline'>>): Outcome => ({
  loan: null,
  date: null,
  allowed: [],
  reply: null,
  auditEvents: 0,
  expectStatus: null,
  replayOf: null,
  restructured: [],
  change: null,
  last: false,
  undoes: null,
  moratorium: null,
  baseline,
  ...fields,
});

const clampToday = (world: World, date: CalendarDate) => minDate(date, world.today);

function resolveDate(
  world: World,
  model: Model,
  loan: ModelLoan,
  spec: DateSpec,
  before: Observation,
): CalendarDate {
  const floor = loan.disbursedOn ?? model.clock;
  switch (spec.at) {
    case 'later':
      return clampToday(world, maxDate(addDays(model.clock, spec.days), floor));
    case 'earlier':
      return clampToday(world, maxDate(addDays(model.clock, -spec.days), floor));
    case 'due':
      return clampToday(
        world,
        maxDate(addDays(unpaidRows(before, loan.id)[0]?.dueDate ?? model.clock, spec.shift), floor),
      );
    case 'future':
      return addDays(world.today, spec.days);
    case 'before_disbursement':
      return addDays(floor, -spec.days);
  }
}

function resolveAmount(spec: AmountSpec, unpaid: bigint[]): bigint {
  const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);
  switch (spec.of) {
    case 'next':
      return unpaid[0] === undefined ? 10_000n : (unpaid[0] * BigInt(spec.percent)) / 100n || 1n;
    case 'instalments':
      return sum(unpaid.slice(0, spec.count)) || 10_000n;
    case 'everything':
      return (sum(unpaid) || 10_000n) + BigInt(spec.extraCents);
    case 'cents':
      return BigInt(spec.cents);
    case 'zero':
      return 0n;
  }
}

/** The dates a restructuring or a write-off may not precede (DOMAIN.md: history is replayed, not rewritten). */
const latestEvent = (loan: ModelLoan) =>
  [...standing(loan).map((r) => r.valueDate), ...loan.restructuredOn].reduce<CalendarDate | null>(
    (m, d) => (m === null || d > m ? d : m),
    null,
  );

function effectiveDateBroken(world: World, loan: ModelLoan, date: CalendarDate): boolean {
  const latest = latestEvent(loan);
  return date > world.today || date < loan.disbursedOn! || (latest !== null && date < latest);
}

const pick = <T>(xs: readonly T[], index: number): T | undefined =>
  xs.length === 0 ? undefined : xs[index % xs.length];

export async function disburse(
  world: World,
  model: Model,
  terms: TermsSpec,
  date: CalendarDate,
  via: Via,
  before: Observation,
): Promise<Outcome> {
  const body: CreateLoanBody = {
    product_id: model.productId,
    structure_id: model.structureId,
    principal: formatMoney(cents(BigInt(terms.principalCents))),
    annual_rate_percent: terms.rate,
    periodicity: terms.periodicity,
    term_periods: terms.termPeriods,
    deferral_periods: Math.min(terms.deferralPeriods, terms.termPeriods - 1),
    deferral_type: terms.deferralType,
    method: terms.method,
    day_count: terms.dayCount,
    rounding: terms.rounding,
    instalment_multiple: terms.instalmentMultiple,
    disbursement_date: date,
    ...(terms.firstDueAfterDays > 0
      ? { first_due_date: addDays(date, terms.firstDueAfterDays) }
      : {}),
  };
  const created = await send(
    world,
    via,
    () => createLoan(world.db, CONTEXT, body),
    '/v1/loans',
    body,
  );
  if (created.status !== 201)
    throw new Error(
      `creating the loan answered ${created.status}: ${JSON.stringify(created.body)}`,
    );
  const id = (created.body as { id: string }).id;
  const loan: ModelLoan = {
    id,
    principal: BigInt(terms.principalCents),
    disbursedOn: null,
    exact: terms.rate === '0',
    status: 'pending',
    repayments: [],
    restructuredOn: [],
    writtenOffOn: null,
    repaidBy: null,
    accepted: 0,
    terms: body,
    events: [],
  };
  model.loans.push(loan);
  // A refusal must leave the fund as the loan's creation left it; an accepted disbursement adds its event to the creation's.
  const refusal = date > world.today;
  const baseline = refusal ? await observe(world.db, model.fundId) : before;
  const disbursement = { date, amount: body.principal };
  const reply = await send(
    world,
    via,
    () => disburseLoan(world.db, CONTEXT, id, disbursement, world.today),
    `/v1/loans/${id}/disbursement`,
    disbursement,
  );
  if (reply.status === 200) {
    Object.assign(loan, { disbursedOn: date, status: 'active' });
    model.clock = maxDate(model.clock, date);
  }
  return outcome(baseline, {
    loan,
    date,
    allowed: [refusal ? 422 : 200],
    reply,
    auditEvents: refusal ? 1 : 2,
    expectStatus: reply.status === 200 ? 'active' : 'pending',
  });
}

async function repay(
  world: World,
  model: Model,
  command: Extract<Command, { op: 'repay' }>,
  before: Observation,
): Promise<Outcome> {
  const loan = pick(model.loans, command.loan)!;
  const date = resolveDate(world, model, loan, command.date, before);
  const unpaid = unpaidRows(before, loan.id).map((row) => row.unpaid);
  const amount = resolveAmount(command.amount, unpaid);
  const body: RepaymentBody = {
    amount: formatMoney(cents(amount)),
    value_date: date,
    ...(command.prepayment ? { prepayment: command.prepayment } : {}),
  };

  const conflicts = loan.status === 'pending' || loan.status === 'repaid';
  const totalPayable = before.rows
    .filter((row) => row.loan_id === loan.id)
    .reduce((sum, row) => sum + money(row.total), 0n);
  const broken =
    amount === 0n ||
    date > world.today ||
    (loan.disbursedOn !== null && date < loan.disbursedOn) ||
    (loan.writtenOffOn !== null && date < loan.writtenOffOn) ||
    amount > largestRepayment(cents(totalPayable));
  const allowed = conflicts ? [409, ...(broken ? [422] : [])] : broken ? [422] : [201];
  // Everything still owed, value-dated after everything recorded: the loan is repaid, whatever the interest.
  const latest = latestEvent(loan);
  const last = latest === null || date >= latest;
  const overpays =
    command.amount.of === 'everything' && loan.status === 'active' && unpaid.length > 0 && last;

  const key = `${model.fundId}:${randomUUID()}`;
  const reply =
    command.via === 'direct'
      ? await directRepayment(world, loan.id, body, key)
      : await http(world, `/v1/loans/${loan.id}/repayments`, body, { 'Idempotency-Key': key });
  return reply.status === 201
    ? recorded(model, loan, body, key, date, allowed, reply, before, overpays, last)
    : refused(loan, date, allowed, reply, before);
}

const refused = (
  loan: ModelLoan | null,
  date: CalendarDate | null,
  allowed: number[],
  reply: Reply,
  before: Observation,
): Outcome => outcome(before, { loan, date, allowed, reply });

function recorded(
  model: Model,
  loan: ModelLoan,
  body: RepaymentBody,
  key: string,
  date: CalendarDate,
  allowed: number[],
  reply: Reply,
  before: Observation,
  overpays: boolean,
  last: boolean,
): Outcome {
  const id = (reply.body as { id: string }).id;
  const undo = { digest: historyDigest(before, loan.id), accepted: ++loan.accepted };
  const order = model.recorded++;
  loan.repayments.push({
    id,
    amount: parseMoney(body.amount),
    valueDate: date,
    recovery: loan.writtenOffOn !== null,
    order,
    reversed: false,
    undo,
  });
  loan.events.push({ order, date, kind: 'repayment', repaymentId: id, body });
  model.clock = maxDate(model.clock, date);
  model.lastRepayment = { loanId: loan.id, body, key, status: reply.status, response: reply.body };
  return outcome(before, {
    loan,
    date,
    allowed,
    reply,
    auditEvents: 1,
    expectStatus: overpays ? 'repaid' : null,
    last,
  });
}

async function reverse(
  world: World,
  model: Model,
  command: Extract<Command, { op: 'reverse' }>,
  before: Observation,
): Promise<Outcome> {
  // Any repayment of the fund's loans, reversed ones included (a second reversal is refused).
  const [loan, repayment] =
    pick(
      model.loans.flatMap((l) => l.repayments.map((r) => [l, r] as const)),
      command.repayment,
    ) ?? [];
  if (!loan || !repayment) return outcome(before, {});
  const body = { reason: 'model: reversed' };
  const reply = await send(
    world,
    command.via,
    () => reverseRepayment(world.db, CONTEXT, loan.id, repayment.id, body.reason, world.today),
    `/v1/loans/${loan.id}/repayments/${repayment.id}/reversal`,
    body,
  );
  const allowed = [repayment.reversed ? 409 : 200];
  if (reply.status !== 200) return refused(loan, repayment.valueDate, allowed, reply, before);
  repayment.reversed = true;
  const undoes = loan.accepted === repayment.undo.accepted ? repayment.undo.digest : null;
  loan.accepted++;
  // Without the repayment that repaid it, the loan owes again; without any repayment, it surely does.
  const owes =
    loan.writtenOffOn === null &&
    (loan.repaidBy === repayment.id || standing(loan).every((r) => r.recovery));
  if (loan.repaidBy === repayment.id) loan.repaidBy = null;
  return outcome(before, {
    loan,
    date: repayment.valueDate,
    allowed,
    reply,
    auditEvents: 1,
    expectStatus: owes ? 'active' : null,
    undoes,
  });
}

function restructuringBody(
  change: Change,
  date: CalendarDate,
  capitaliseArrears: boolean,
): RestructuringBody {
  const base = {
    effective_date: date,
    reason: 'model: restructured',
    capitalise_arrears: capitaliseArrears,
  };
  if (change.type === 'moratorium')
    return {
      ...base,
      type: 'moratorium',
      periods: change.periods,
      deferral_type: change.deferralType,
    };
  if (change.type === 'extension')
    return { ...base, type: 'extension', remaining_periods: change.remainingPeriods };
  return { ...base, type: 'rate_change', annual_rate_percent: change.rate };
}

async function restructure(
  world: World,
  model: Model,
  command: Extract<Command, { op: 'restructure' }>,
  before: Observation,
): Promise<Outcome> {
  const loan = pick(model.loans, command.loan)!;
  const date = resolveDate(world, model, loan, command.date, before);
  const body = restructuringBody(command.change, date, command.capitaliseArrears);
  const reply = await send(
    world,
    command.via,
    () => restructureLoan(world.db, CONTEXT, loan.id, body, world.today),
    `/v1/loans/${loan.id}/restructurings`,
    body,
  );

  const applies = restructuringApplies(world, loan, date, command.change.type, before);
  // Both a 409 (not active) and a 422 (a date that breaks a rule) are right when both apply.
  const conflicts = loan.status !== 'active';
  const allowed = conflicts
    ? [409, ...(loan.disbursedOn !== null && effectiveDateBroken(world, loan, date) ? [422] : [])]
    : applies === false
      ? [422]
      : applies
        ? [201]
        : [201, 422];
  if (reply.status !== 201) return refused(loan, date, allowed, reply, before);
  loan.restructuredOn.push(date);
  loan.events.push({ order: model.recorded++, date, kind: 'restructuring', body });
  loan.accepted++;
  if (command.change.type === 'rate_change' && command.change.rate !== '0') loan.exact = false;
  model.clock = maxDate(model.clock, date);
  const change = { change: command.change, capitaliseArrears: command.capitaliseArrears };
  return outcome(before, {
    loan,
    date,
    allowed,
    reply,
    auditEvents: 1,
    expectStatus: 'active',
    restructured: [loan.id],
    change,
    last: true,
  });
}

/**
 * Whether a restructuring of an active loan on `date` must apply (true), must be refused (false: the
 * date breaks a rule), or may do either (null): a moratorium always has something to push back when
 * the last instalment is still ahead and untouched; an extension or a rate change may leave the
 * schedule as it is, which is refused ("changes nothing").
 */
function restructuringApplies(
  world: World,
  loan: ModelLoan,
  date: CalendarDate,
  type: Change['type'],
  before: Observation,
): boolean | null {
  if (loan.status !== 'active' || effectiveDateBroken(world, loan, date)) return false;
  const last = before.rows.filter((row) => row.loan_id === loan.id).at(-1);
  const untouched =
    last !== undefined && last.due_date > date && !paidTowards(before, loan.id).has(last.number);
  return type === 'moratorium' && untouched ? true : null;
}

/** DOMAIN.md "Restructuring", for every active loan of the fund at once: each one it cannot apply to is skipped, not an error. */
async function moratorium(
  world: World,
  model: Model,
  command: Extract<Command, { op: 'moratorium' }>,
  before: Observation,
): Promise<Outcome> {
  const previous = command.again ? model.moratoria.at(-1) : undefined;
  const body: MoratoriumBody = previous ?? {
    effective_date: resolveDate(world, model, model.loans[0]!, command.date, before),
    periods: command.periods,
    deferral_type: command.deferralType,
    capitalise_arrears: command.capitaliseArrears,
    reason: 'model: moratorium',
    ...(command.kind ? { kind: command.kind } : {}),
  };
  const date = body.effective_date as CalendarDate;
  const reply = await send(
    world,
    command.via,
    () => declareMoratorium(world.db, CONTEXT, model.fundId, body, world.today),
    `/v1/funds/${model.fundId}/moratoria`,
    body,
  );
  const twin = model.moratoria.some(
    (m) =>
      m.effective_date === date &&
      m.periods === body.periods &&
      m.deferral_type === body.deferral_type &&
      m.kind === body.kind,
  );
  const allowed = [date > world.today ? 422 : twin ? 409 : 201];
  if (reply.status !== 201) return refused(null, date, allowed, reply, before);

  // Every active loan of the fund (all of this test's loans are common_law): each must receive it, must be skipped, or may be either.
  const concerned = model.loans.filter(
    (loan) => loan.status === 'active' && (body.kind === undefined || body.kind === 'common_law'),
  );
  const applies = new Map(
    concerned.map((loan) => [
      loan.id,
      restructuringApplies(world, loan, date, 'moratorium', before),
    ]),
  );
  const { changed_loan_ids: changed } = reply.body as { changed_loan_ids: string[] };
  model.moratoria.push(body);
  for (const loan of concerned.filter((l) => changed.includes(l.id))) {
    loan.restructuredOn.push(date);
    loan.events.push({
      order: model.recorded++,
      date,
      kind: 'restructuring',
      body: {
        type: 'moratorium',
        effective_date: date,
        reason: body.reason,
        periods: body.periods!,
        deferral_type: body.deferral_type,
        capitalise_arrears: body.capitalise_arrears,
      },
    });
    loan.accepted++;
  }
  model.clock = maxDate(model.clock, date);
  const change = {
    change: {
      type: 'moratorium' as const,
      periods: body.periods!,
      deferralType: body.deferral_type ?? 'partial',
    },
    capitaliseArrears: body.capitalise_arrears ?? false,
  };
  return outcome(before, {
    date,
    allowed,
    reply,
    auditEvents: 1 + changed.length,
    restructured: changed,
    change,
    last: true,
    moratorium: applies,
  });
}

async function writeOff(
  world: World,
  model: Model,
  command: Extract<Command, { op: 'write_off' }>,
  before: Observation,
): Promise<Outcome> {
  const loan = pick(model.loans, command.loan)!;
  const date = resolveDate(world, model, loan, command.date, before);
  const body = { date, reason: 'model: written off' };
  const reply = await send(
    world,
    command.via,
    () => writeOffLoan(world.db, CONTEXT, loan.id, body, world.today),
    `/v1/loans/${loan.id}/write-off`,
    body,
  );
  const broken = loan.disbursedOn !== null && effectiveDateBroken(world, loan, date);
  const allowed =
    loan.status !== 'active' ? [409, ...(broken ? [422] : [])] : broken ? [422] : [200];
  if (reply.status !== 200) return refused(loan, date, allowed, reply, before);
  loan.writtenOffOn = date;
  loan.events.push({ order: model.recorded++, date, kind: 'write_off' });
  loan.accepted++;
  model.clock = maxDate(model.clock, date);
  return outcome(before, {
    loan,
    date,
    allowed,
    reply,
    auditEvents: 1,
    expectStatus: 'written_off',
  });
}

/**
 * The last repayment recorded, sent again with its Idempotency-Key: the same request replays the
 * first response and changes nothing; another amount under the key is refused (422), and changes nothing.
 */
async function retry(
  world: World,
  model: Model,
  command: Extract<Command, { op: 'retry' }>,
  before: Observation,
): Promise<Outcome> {
  const last = model.lastRepayment;
  if (!last) return outcome(before, {});
  const body = command.changed
    ? { ...last.body, amount: formatMoney(cents(parseMoney(last.body.amount) + 1n)) }
    : last.body;
  const reply =
    command.via === 'direct'
      ? await directRepayment(world, last.loanId, body, last.key)
      : await http(world, `/v1/loans/${last.loanId}/repayments`, body, {
          'Idempotency-Key': last.key,
        });
  const loan = model.loans.find((l) => l.id === last.loanId)!;
  return outcome(before, {
    loan,
    date: last.body.value_date as CalendarDate,
    allowed: [command.changed ? 422 : last.status],
    reply,
    replayOf: command.changed ? null : last,
  });
}

/** The loan's standing history in the order a replay applies it: by value date, then in the order recorded. */
export function inValueDateOrder(loan: ModelLoan): HistoryEvent[] {
  const standingIds = new Set(standing(loan).map((r) => r.id));
  return loan.events
    .filter((e) => e.kind !== 'repayment' || standingIds.has(e.repaymentId))
    .sort((a, b) => a.date.localeCompare(b.date) || a.order - b.order);
}

/**
 * The loan's standing history recorded again, in value-date order, on a new loan of the fund with
 * the same terms: its id, or null when that order has one of the events refused (a back-dated
 * repayment that repays the loan before a later one, say).
 */
export async function recordInValueDateOrder(
  world: World,
  model: Model,
  loan: ModelLoan,
): Promise<string | null> {
  const twin = (await createLoan(world.db, CONTEXT, loan.terms)).body;
  await disburseLoan(
    world.db,
    CONTEXT,
    twin.id,
    { date: loan.disbursedOn!, amount: loan.terms.principal },
    world.today,
  );
  for (const event of inValueDateOrder(loan)) {
    let reply: Reply;
    if (event.kind === 'repayment')
      reply = await directRepayment(world, twin.id, event.body, `${model.fundId}:${randomUUID()}`);
    else if (event.kind === 'restructuring')
      reply = await direct(() =>
        restructureLoan(world.db, CONTEXT, twin.id, event.body, world.today),
      );
    else
      reply = await direct(() =>
        writeOffLoan(
          world.db,
          CONTEXT,
          twin.id,
          { date: event.date, reason: 'model: in value-date order' },
          world.today,
        ),
      );
    if (reply.status >= 300) return null;
  }
  return twin.id;
}

/**
 * A loan as its borrower and its ledger see it, with nothing that names its own rows (ids, schedule
 * versions, reversed repayments): two loans with the same history have the same, and a reversal of
 * the last operation on a loan brings back the one before it.
 */
export function historyDigest(o: Observation, loanId: string): unknown {
  const {
    status,
    restructured,
    repaid_on,
    written_off_on,
    written_off_principal,
    outstanding_principal,
  } = o.loans.find((l) => l.id === loanId)!;
  const live = o.repayments
    .filter((r) => r.loan_id === loanId && r.reversed_at === null)
    .sort((a, b) => a.value_date.localeCompare(b.value_date) || Number(a.seq) - Number(b.seq));
  const position = new Map(live.map((r, k) => [r.id, k]));
  const balances: Record<string, bigint> = {};
  for (const l of o.lines.filter((x) => x.loanId === loanId))
    balances[l.account] = (balances[l.account] ?? 0n) + l.debit - l.credit;
  return {
    status,
    restructured,
    repaid_on,
    written_off_on,
    written_off_principal,
    outstanding_principal,
    balances: Object.fromEntries(
      Object.entries(balances)
        .filter(([, b]) => b !== 0n)
        .map(([a, b]) => [a, String(b)]),
    ),
    rows: o.rows
      .filter((r) => r.loan_id === loanId)
      .map((r) => [
        r.number,
        r.due_date,
        r.principal,
        r.interest,
        r.total,
        r.balance_after,
        r.capitalised_interest,
      ]),
    repayments: live.map((r) => [
      r.value_date,
      r.amount,
      r.prepayment,
      r.kind,
      r.principal_prepaid,
      r.excess,
    ]),
    allocations: o.allocations
      .filter((a) => position.has(a.repayment_id))
      .map((a) => [
        position.get(a.repayment_id),
        a.number,
        a.fees,
        a.late_interest,
        a.interest,
        a.principal,
      ])
      .sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1])),
  };
}

/** Runs one command against the system and the model. */
export async function perform(
  world: World,
  model: Model,
  command: Command,
  before: Observation,
): Promise<Step> {
  return { ...(await dispatch(world, model, command, before)), op: command.op };
}

async function dispatch(
  world: World,
  model: Model,
  command: Command,
  before: Observation,
): Promise<Outcome> {
  switch (command.op) {
    case 'disburse': {
      const date = command.future
        ? addDays(world.today, command.afterDays + 5)
        : clampToday(world, addDays(model.clock, command.afterDays));
      return disburse(world, model, command.terms, date, command.via, before);
    }
    case 'repay':
      return repay(world, model, command, before);
    case 'reverse':
      return reverse(world, model, command, before);
    case 'restructure':
      return restructure(world, model, command, before);
    case 'write_off':
      return writeOff(world, model, command, before);
    case 'moratorium':
      return moratorium(world, model, command, before);
    case 'retry':
      return retry(world, model, command, before);
  }
}
