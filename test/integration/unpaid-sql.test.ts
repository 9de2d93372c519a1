/**
 * "Unpaid" has one SQL home (src/db/unpaid-sql.ts), which the reminders, loans, exports and reports
 * queries use; this checks it against the domain's rule (src/domain/allocation.ts `unpaidOf`) on
 * random portfolios: repayments (some reversed, some back-dated), prepayments of every kind and
 * restructurings (some capitalising arrears), recorded through the use cases by the servicing model.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { paidTowardsSql, unpaidSql } from '../../src/db/unpaid-sql';
import { NOTHING, unpaidOf, type Amounts, type Component } from '../../src/domain/allocation';
import type { CalendarDate } from '../../src/domain/dates';
import { cents, parseMoney, parseSignedMoney } from '../../src/domain/money';
import {
  addDays,
  closeModelWorld,
  disburse,
  FAR,
  modelWorld,
  observe,
  openFund,
  perform,
  sequenceArb,
  type Command,
  type Sequence,
  type World,
} from '../support/servicing-model';

const RUNS = Number(process.env.UNPAID_SQL_RUNS ?? 25);

let world: World;
beforeAll(async () => {
  world = await modelWorld();
});
afterAll(() => closeModelWorld(world));

const ONE_ON_TIME: Command = {
  op: 'repay',
  loan: 0,
  amount: { of: 'next', percent: 100 },
  date: { at: 'due', shift: 0 },
  prepayment: null,
  via: 'direct',
};

/**
 * One history sure to meet both, so that the counts below do not hang on the draw: two repayments
 * on time, a restructuring capitalising the arrears half a year later, one more repayment, reversed.
 */
const BOTH_MET: Sequence = {
  first: {
    principalCents: 1_200_000,
    rate: '2.5',
    periodicity: 'monthly',
    termPeriods: 12,
    deferralPeriods: 0,
    deferralType: 'partial',
    method: 'annuity',
    dayCount: '30E/360',
    rounding: 'half_up',
    instalmentMultiple: '0.01',
    firstDueAfterDays: 0,
  },
  firstOn: '2023-01-02' as CalendarDate,
  commands: [
    ...[0, 1].map(() => ONE_ON_TIME),
    {
      op: 'restructure',
      loan: 0,
      date: { at: 'later', days: 200 },
      change: { type: 'extension', remainingPeriods: 12 },
      capitaliseArrears: true,
      via: 'direct',
    },
    ONE_ON_TIME,
    { op: 'reverse', repayment: 2, via: 'direct' },
  ],
};

/** How often the runs met what could tell the two apart: a reversal, a capitalisation. */
const met = { reversedAllocations: 0, settlements: 0, comparisons: 0 };

describe('"unpaid" in SQL and in the domain (DOMAIN.md "Allocation", "Arrears")', () => {
  it('agree on every instalment of random portfolios, as of every date their history touches', async () => {
    await fc.assert(
      fc.asyncProperty(sequenceArb, (sequence) => play(sequence)),
      { numRuns: RUNS, examples: [[BOTH_MET]] },
    );
    expect(met.comparisons).toBeGreaterThan(0);
    expect(met.reversedAllocations).toBeGreaterThan(0);
    expect(met.settlements).toBeGreaterThan(0);
  }, 600_000);
});

async function play(sequence: Sequence): Promise<void> {
  const model = await openFund(world);
  const firstOn = sequence.firstOn < world.today ? sequence.firstOn : world.today;
  await disburse(
    world,
    model,
    sequence.first,
    firstOn,
    'direct',
    await observe(world.db, model.fundId),
  );
  let before = await observe(world.db, model.fundId);
  for (const command of sequence.commands) {
    await perform(world, model, { ...command, via: 'direct' }, before);
    before = await observe(world.db, model.fundId);
  }
  const history = await readHistory(model.fundId);
  met.reversedAllocations += history.allocations.filter((a) => a.reversed).length;
  met.settlements += history.settlements.length;
  const dates = new Set<CalendarDate>([FAR]);
  for (const { date } of [...history.allocations, ...history.settlements])
    dates.add(date).add(addDays(date, -1));
  for (const asOf of dates)
    for (const valuedByAsOf of [true, false]) {
      const inSql = await unpaidInSql(model.fundId, asOf, valuedByAsOf);
      expect({ asOf, valuedByAsOf, unpaid: inSql }).toEqual({
        asOf,
        valuedByAsOf,
        unpaid: unpaidInDomain(history, asOf, valuedByAsOf),
      });
      met.comparisons += 1;
    }
}

/** Each instalment of the current schedules, `loan/number`, and what is unpaid of it (in cents). */
type Unpaid = Record<string, bigint>;

async function unpaidInSql(
  fundId: string,
  asOf: CalendarDate,
  valuedByAsOf: boolean,
): Promise<Unpaid> {
  const paid = paidTowardsSql({
    loan: (id) => sql`${id} IN (SELECT id FROM loans WHERE fund_id = ${fundId}::uuid)`,
    asOf: sql`${asOf}::date`,
    valuedByAsOf,
  });
  const { rows } = await sql<{ key: string; unpaid: string }>`
    SELECT i.loan_id || '/' || i.number AS key, ${unpaidSql(sql`i.total`, sql`p.amount`)}::text AS unpaid
    FROM loans l JOIN instalments i ON i.loan_id = l.id AND i.version = l.schedule_version
    LEFT JOIN (${paid}) p ON p.loan_id = i.loan_id AND p.number = i.number
    WHERE l.fund_id = ${fundId}::uuid`.execute(world.db);
  return Object.fromEntries(rows.map((row) => [row.key, parseSignedMoney(row.unpaid)]));
}

interface History {
  readonly instalments: { key: string; number: number; dueDate: CalendarDate; due: Amounts }[];
  readonly allocations: { key: string; date: CalendarDate; reversed: boolean; amounts: Amounts }[];
  readonly settlements: { key: string; date: CalendarDate; amounts: Amounts }[];
}

/** The rows as they are stored, turned into domain values; no rule applied yet. */
async function readHistory(fundId: string): Promise<History> {
  const amounts = (row: Partial<Record<Component, string>>): Amounts => ({
    fees: parseMoney(row.fees ?? '0.00'),
    late_interest: parseMoney(row.late_interest ?? '0.00'),
    interest: parseMoney(row.interest ?? '0.00'),
    principal: parseMoney(row.principal ?? '0.00'),
  });
  const fundLoans = world.db.selectFrom('loans').select('id').where('fund_id', '=', fundId);
  const [instalments, allocations, settlements] = await Promise.all([
    world.db
      .selectFrom('instalments as i')
      .innerJoin('loans as l', (j) =>
        j.onRef('l.id', '=', 'i.loan_id').onRef('l.schedule_version', '=', 'i.version'),
      )
      .select(['i.loan_id', 'i.number', 'i.due_date', 'i.interest', 'i.principal'])
      .where('l.fund_id', '=', fundId)
      .execute(),
    world.db
      .selectFrom('allocations as a')
      .innerJoin('repayments as r', 'r.id', 'a.repayment_id')
      .select(['r.loan_id', 'r.value_date', 'r.reversed_at', 'a.number'])
      .select(['a.fees', 'a.late_interest', 'a.interest', 'a.principal'])
      .where('r.loan_id', 'in', fundLoans)
      .execute(),
    world.db
      .selectFrom('arrears_settlements as s')
      .innerJoin('restructurings as x', 'x.id', 's.restructuring_id')
      .select(['x.loan_id', 'x.effective_date', 's.number', 's.interest', 's.principal'])
      .where('x.loan_id', 'in', fundLoans)
      .execute(),
  ]);
  return {
    instalments: instalments.map((i) => ({
      key: `${i.loan_id}/${i.number}`,
      number: i.number,
      dueDate: i.due_date as CalendarDate,
      due: amounts(i),
    })),
    allocations: allocations.map((a) => ({
      key: `${a.loan_id}/${a.number}`,
      date: a.value_date as CalendarDate,
      reversed: a.reversed_at !== null,
      amounts: amounts(a),
    })),
    settlements: settlements.map((s) => ({
      key: `${s.loan_id}/${s.number}`,
      date: s.effective_date as CalendarDate,
      amounts: amounts(s),
    })),
  };
}

/** DOMAIN.md: what standing repayments (valued by `asOf`, if asked) and capitalisations effective by `asOf` paid. */
function unpaidInDomain(history: History, asOf: CalendarDate, valuedByAsOf: boolean): Unpaid {
  const paid = new Map<string, Amounts>();
  const add = (key: string, amounts: Amounts) => {
    const sum = paid.get(key) ?? NOTHING;
    paid.set(key, {
      fees: cents(sum.fees + amounts.fees),
      late_interest: cents(sum.late_interest + amounts.late_interest),
      interest: cents(sum.interest + amounts.interest),
      principal: cents(sum.principal + amounts.principal),
    });
  };
  for (const a of history.allocations)
    if (!a.reversed && (!valuedByAsOf || a.date <= asOf)) add(a.key, a.amounts);
  for (const s of history.settlements) if (s.date <= asOf) add(s.key, s.amounts);
  return Object.fromEntries(
    history.instalments.map((i) => [
      i.key,
      unpaidOf({
        number: i.number,
        dueDate: i.dueDate,
        due: i.due,
        paid: paid.get(i.key) ?? NOTHING,
      }),
    ]),
  );
}
