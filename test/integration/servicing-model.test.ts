/**
 * Model-based test of servicing (issue 4 item 7): random histories of disbursements, repayments
 * (on time, late, partial, back-dated, prepayments of every kind, overpayments of the whole loan),
 * reversals, restructurings, portfolio moratoria, write-offs and recoveries, each step checked
 * against a simple model (test/support/servicing-model.ts).
 *
 * One fund per sequence: its audit chain and trial balance then hold that sequence only, so every
 * check stays small and independent of other sequences (and of other test files running alongside).
 * Commands call the use cases directly, for speed; about one in six goes through HTTP instead
 * (routes, request validation and the contract of every response), and so do the trial balance
 * and the audit-chain verification read after it.
 *
 * SERVICING_MODEL_RUNS: the number of sequences (1000 by default); SERVICING_MODEL_SEED and
 * SERVICING_MODEL_PATH replay a failure fast-check reported; SERVICING_MODEL_STATS=1 prints how often
 * each command was accepted or refused.
 */
import fc from 'fast-check';
import { verifyAuditChain } from '../../src/audit/verify-audit-chain';
import type { CalendarDate } from '../../src/domain/dates';
import { ADMIN } from '../../src/http/auth';
import { getTrialBalance } from '../../src/ledger/get-trial-balance';
import { getLoan } from '../../src/loans/get-loan';
import { ADMIN_KEY } from '../support/app';
import { as } from '../support/portfolio';
import {
  accepted,
  closeModelWorld,
  disburse,
  exactBook,
  FAR,
  fingerprint,
  modelWorld,
  money,
  observe,
  openFund,
  paidTowards,
  perform,
  sequenceArb,
  standing,
  unpaidRows,
  historyDigest,
  inValueDateOrder,
  recordInValueDateOrder,
  type Command,
  type Model,
  type ModelLoan,
  type Observation,
  type Sequence,
  type Step,
  type Via,
  type World,
} from '../support/servicing-model';

const RUNS = Number(process.env.SERVICING_MODEL_RUNS ?? 1000);
const replay = process.env.SERVICING_MODEL_SEED
  ? { seed: Number(process.env.SERVICING_MODEL_SEED), path: process.env.SERVICING_MODEL_PATH }
  : {};
const stats = new Map<string, number>();

let world: World;
beforeAll(async () => {
  world = await modelWorld();
});
afterAll(async () => {
  await closeModelWorld(world);
  if (process.env.SERVICING_MODEL_STATS)
    console.log(
      [...stats]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join('\n'),
    );
});

describe('servicing against a model (DOMAIN.md "Loan lifecycle and servicing", "Ledger")', () => {
  it('after every step of a random history, the ledger, the repayments, the statuses and the audit chain agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(sequenceArb, (sequence) => play(sequence)),
      { numRuns: RUNS, ...replay },
    );
  }, 900_000);
});

async function play(sequence: Sequence): Promise<void> {
  const model = await openFund(world);
  let before = await observe(world.db, model.fundId);
  const firstOn = sequence.firstOn < world.today ? sequence.firstOn : world.today;
  const first: Step = {
    ...(await disburse(world, model, sequence.first, firstOn, 'direct', before)),
    op: 'disburse',
  };
  before = await checkStep(model, first, null, before, 'the first disbursement');
  for (const [i, command] of sequence.commands.entries()) {
    const label = `command ${i + 1} ${JSON.stringify(command)}`;
    const step = await perform(world, model, command, before).catch((error: Error) => {
      throw new Error(`during ${label} on fund ${model.fundId}:\n${error.message}`, {
        cause: error,
      });
    });
    before = await checkStep(model, step, command, before, label);
  }
  await checkValueDateOrder(model);
}

/**
 * DOMAIN.md: a loan's history is replayed in value-date order (a back-dated repayment re-allocates
 * the later ones), so when something was back-dated, the same standing events recorded again in that
 * order, on a twin loan, must lead to the same loan: schedule, allocations, splits, status and ledger.
 */
async function checkValueDateOrder(model: Model): Promise<void> {
  const backDated = model.loans.filter(
    (loan) =>
      loan.disbursedOn !== null &&
      inValueDateOrder(loan).some((e, k, all) => k > 0 && e.order < all[k - 1]!.order),
  );
  const twins: [ModelLoan, string][] = [];
  for (const loan of backDated) {
    const twin = await recordInValueDateOrder(world, model, loan);
    if (twin) twins.push([loan, twin]);
  }
  if (twins.length === 0) return;
  const after = await observe(world.db, model.fundId);
  for (const [loan, twin] of twins) {
    try {
      expect(historyDigest(after, twin)).toEqual(historyDigest(after, loan.id));
    } catch (error) {
      const what = `loan ${loan.id} of fund ${model.fundId} and its twin ${twin}, the same history recorded in value-date order ${show(inValueDateOrder(loan))}`;
      throw new Error(`${what}:\n${(error as Error).message}`, { cause: error });
    }
  }
}

const show = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}c` : v));

function ensure(condition: boolean, what: string, detail?: unknown): void {
  if (!condition) throw new Error(detail === undefined ? what : `${what}: ${show(detail)}`);
}

/** What the checks of a step read, read at once. */
interface Reads {
  readonly after: Observation;
  readonly far: TrialBalanceSeen;
  readonly last: TrialBalanceSeen;
  /** The loans as of the last event's date (GET /v1/loans/{id}?as_of): outstanding principal and arrears. */
  readonly loansAtLast: Awaited<ReturnType<typeof getLoan>>[];
  readonly verdict: { readonly valid: boolean; readonly events_checked: number };
}

async function read(model: Model, via: Via): Promise<Reads> {
  const [after, far, last, loansAtLast, verdict] = await Promise.all([
    observe(world.db, model.fundId),
    trialBalance(model.fundId, FAR, via),
    trialBalance(model.fundId, model.clock, via),
    Promise.all(model.loans.map((loan) => getLoan(world.db, ADMIN, loan.id, model.clock))),
    auditVerdict(model.fundId, via),
  ]);
  return { after, far, last, loansAtLast, verdict };
}

async function checkStep(
  model: Model,
  step: Step,
  command: Command | null,
  before: Observation,
  label: string,
): Promise<Observation> {
  const via = command?.via ?? 'direct';
  for (const key of [
    `${step.op} ${step.reply?.status ?? 'with nothing to do'}`,
    ...(step.reply && via === 'http' ? ['(sent through HTTP)'] : []),
  ])
    stats.set(key, (stats.get(key) ?? 0) + 1);
  if (step.reply === null) return before; // nothing was sent
  const reads = await read(model, via);
  const { after } = reads;
  try {
    checkReply(step);
    checkNothingChangedUnlessAccepted(step, after);
    ensure(after.unbalanced.length === 0, 'every journal entry balances', after.unbalanced);
    checkLedgerAgainstLoans(model, step, reads);
    checkRepayments(model, after);
    checkNoNegativeBalance(after);
    checkArrears(model, reads);
    ensure(
      reads.verdict.valid && reads.verdict.events_checked === after.counts.audit,
      'the audit chain verifies, every event of the fund checked',
      reads.verdict,
    );
    checkReversal(step, before);
    checkEffects(step, command, before, after);
    checkStatuses(model, step, before, after);
  } catch (error) {
    const context = `after ${label} on fund ${model.fundId} (loan ${step.loan?.id ?? '-'}, date ${step.date ?? '-'}, reply ${show(step.reply)})`;
    throw new Error(`${context}:\n${(error as Error).message}`, { cause: error });
  }
  return after;
}

/** The status is one the model allows; a replay answers the first response again. */
function checkReply(step: Step): void {
  if (!step.reply) return;
  ensure(
    step.allowed.includes(step.reply.status),
    `answered ${step.reply.status}, the model expects ${step.allowed.join(' or ')}`,
    step.reply.body,
  );
  if (step.replayOf) {
    ensure(step.reply.replayed, 'a retry with the same Idempotency-Key and body is a replay');
    expect(step.reply.body).toEqual(step.replayOf.response);
  }
  const body = step.reply.body as {
    status?: string;
    amount?: string;
    allocations?: { total: string }[];
    principal_prepaid?: string;
    excess?: string;
    recovered?: string;
  };
  // A reversed repayment shows what it had paid, but `recovered` 0.00 for a reversed recovery: the identity is the standing ones'.
  if (accepted(step) && body.allocations && body.status === 'posted') {
    const split =
      body.allocations.reduce((s, a) => s + money(a.total), 0n) +
      money(body.principal_prepaid!) +
      money(body.excess!) +
      money(body.recovered!);
    ensure(
      split === money(body.amount!),
      'the response: Σ allocations + principal_prepaid + excess + recovered = amount',
      body,
    );
  }
}

/** A reversed repayment stays visible, showing what it had paid when it was reversed. */
function checkReversal(step: Step, before: Observation): void {
  if (step.op !== 'reverse' || !accepted(step)) return;
  const body = step.reply!.body as {
    id: string;
    status: string;
    allocations: { instalment_number: number; total: string }[];
  };
  ensure(body.status === 'reversed', 'the reversal answers the repayment, reversed', body);
  const had = before.allocations
    .filter((a) => a.repayment_id === body.id)
    .map((a) => ({
      instalment_number: a.number,
      fees: a.fees,
      late_interest: a.late_interest,
      interest: a.interest,
      principal: a.principal,
    }));
  expect(body.allocations.map(({ total: _total, ...a }) => a)).toEqual(had);
}

const MONTHS: Record<string, number> = { monthly: 1, quarterly: 3 };
const rowsOf = (o: Observation, loanId: string) => o.rows.filter((row) => row.loan_id === loanId);
const amountsOf = (rows: Observation['rows']) =>
  rows.map(
    ({ number, due_date, principal, interest, total, balance_after, capitalised_interest }) => ({
      number,
      due_date,
      principal,
      interest,
      total,
      balance_after,
      capitalised_interest,
    }),
  );

/**
 * What each accepted operation does to its loan's schedule and ledger (DOMAIN.md "Allocation",
 * "Prepayment", "Restructuring", "Write-off"), where the model can tell without computing interest.
 */
function checkEffects(
  step: Step,
  command: Command | null,
  before: Observation,
  after: Observation,
): void {
  if (!accepted(step) || step.reply!.replayed || !command) return;
  const loan = step.loan;
  if (step.undoes !== null && loan) {
    // Reversing the last thing that happened to a loan puts it back as it was (a new schedule version aside).
    expect(historyDigest(after, loan.id)).toEqual(step.undoes);
  }
  if (command.op === 'repay' && loan && step.last && !loan.writtenOffOn) {
    const reply = step.reply!.body as { principal_prepaid: string; loan: { status: string } };
    const was = rowsOf(before, loan.id);
    const now = rowsOf(after, loan.id);
    if (money(reply.principal_prepaid) === 0n) {
      // Paying on time, late, in advance or ahead never changes an instalment's amounts.
      expect(amountsOf(now)).toEqual(amountsOf(was));
    } else if (reply.loan.status === 'active') {
      // A prepayment keeps the due dates (reduce_instalment), or the first of them (reduce_term).
      const dates = (rows: typeof now) => rows.map((row) => row.due_date);
      if (command.prepayment === 'reduce_term')
        expect(dates(was).slice(0, now.length)).toEqual(dates(now));
      else expect(dates(now)).toEqual(dates(was));
    }
  }
  if (command.op === 'write_off' && loan) {
    // The loss is the outstanding principal on that date: the loan's receivable then, as posted before the write-off.
    const receivable = before.lines
      .filter(
        (l) =>
          l.loanId === loan.id && l.account === 'loans_receivable' && l.valueDate <= step.date!,
      )
      .reduce((s, l) => s + l.debit - l.credit, 0n);
    const written = after.loans.find((l) => l.id === loan.id)!.written_off_principal;
    ensure(
      money(written) === receivable,
      `loan ${loan.id}: written off, its receivable on ${step.date}`,
      { written, receivable },
    );
  }
  if (step.moratorium) {
    // Each active loan of the fund is changed or skipped (with its reason), as the model says it must be where it can tell.
    const { changed_loan_ids: changed, skipped_loans: skipped } = step.reply!.body as {
      changed_loan_ids: string[];
      skipped_loans: { loan_id: string }[];
    };
    expect([...changed, ...skipped.map((l) => l.loan_id)].sort()).toEqual(
      [...step.moratorium.keys()].sort(),
    );
    for (const [id, applies] of step.moratorium) {
      if (applies !== null)
        ensure(
          changed.includes(id) === applies,
          `loan ${id}: the moratorium ${applies ? 'applies to it' : 'cannot apply to it'}`,
          step.reply!.body,
        );
    }
  }
  for (const id of step.change ? step.restructured : []) {
    const { change, capitaliseArrears } = step.change!;
    const date = step.date!;
    const was = rowsOf(before, id);
    const now = rowsOf(after, id);
    const due = (rows: typeof now) => amountsOf(rows.filter((row) => row.due_date <= date));
    if (!capitaliseArrears) expect(due(now)).toEqual(due(was));
    else {
      // Arrears join the rescheduled principal: each instalment already due keeps only what was paid of it.
      const paid = paidTowards(after, id);
      for (const row of now.filter((r) => r.due_date <= date)) {
        const p = paid.get(row.number);
        ensure(
          money(row.principal) === (p?.principal ?? 0n) &&
            money(row.interest) === (p?.interest ?? 0n),
          `loan ${id}: instalment ${row.number}, due by ${date}, keeps what was paid of it`,
          { row, paid: p },
        );
      }
    }
    const periodicity = after.loans.find((l) => l.id === id)!.periodicity;
    if (
      change.type === 'moratorium' &&
      was.at(-1)!.due_date > date &&
      !paidTowards(before, id).has(was.at(-1)!.number)
    ) {
      const months = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));
      ensure(
        months(now.at(-1)!.due_date) - months(was.at(-1)!.due_date) ===
          change.periods * MONTHS[periodicity]!,
        `loan ${id}: the moratorium pushes the last due date back ${change.periods} period(s)`,
        { was: was.at(-1), now: now.at(-1) },
      );
    }
    if (
      change.type === 'extension' &&
      !was.some((row) => row.due_date > date && money(row.total) === 0n)
    ) {
      const ahead = now.filter(
        (row) => row.due_date > date && !paidTowards(after, id).has(row.number),
      );
      ensure(
        ahead.length === change.remainingPeriods,
        `loan ${id}: the extension leaves ${change.remainingPeriods} period(s) after ${date}`,
        now,
      );
    }
    if (change.type === 'rate_change') {
      const rate = after.loans.find((l) => l.id === id)!.current_annual_rate_percent;
      ensure(Number(rate) === Number(change.rate), `loan ${id}: its current rate is the new one`, {
        rate,
        change,
      });
    }
  }
}

/** A refusal (4xx), a replay or a command with nothing to do changes nothing; an accepted command appends its audit events. */
function checkNothingChangedUnlessAccepted(step: Step, after: Observation): void {
  if (!accepted(step) || step.reply!.replayed) {
    if (fingerprint(after) !== fingerprint(step.baseline)) {
      expect(after).toEqual(step.baseline); // the difference, shown by jest
      ensure(false, 'a refused or replayed operation changed something');
    }
    return;
  }
  ensure(
    after.counts.audit === step.baseline.counts.audit + step.auditEvents,
    `an accepted operation appends ${step.auditEvents} audit event(s)`,
    [step.baseline.counts.audit, after.counts.audit],
  );
  const keys = step.op === 'repay' ? 1 : 0;
  ensure(
    after.counts.keys === step.baseline.counts.keys + keys,
    'an accepted repayment stores its Idempotency-Key, nothing else does',
    [step.baseline.counts.keys, after.counts.keys],
  );
}

interface TrialBalanceSeen {
  readonly asOf: CalendarDate;
  readonly balances: Record<string, bigint>;
  readonly debits: bigint;
  readonly credits: bigint;
}

async function trialBalance(
  fundId: string,
  asOf: CalendarDate,
  via: Via,
): Promise<TrialBalanceSeen> {
  if (via === 'http') {
    const res = await as(world.app, ADMIN_KEY).get(
      `/v1/funds/${fundId}/ledger/trial-balance?as_of=${asOf}`,
    );
    ensure(res.status === 200, `the trial balance answered ${res.status}`, res.body);
    const body = res.body as {
      accounts: { account: string; balance: string }[];
      total_debits: string;
      total_credits: string;
    };
    return {
      asOf,
      balances: Object.fromEntries(body.accounts.map((a) => [a.account, money(a.balance)])),
      debits: money(body.total_debits),
      credits: money(body.total_credits),
    };
  }
  const trial = await getTrialBalance(world.db, ADMIN, fundId, asOf);
  return {
    asOf,
    balances: Object.fromEntries(trial.lines.map((l) => [l.account, l.balance as bigint])),
    debits: trial.totalDebits,
    credits: trial.totalCredits,
  };
}

/** A loan's debits − credits on an account, from its journal lines valued by `asOf`, restricted to entries of one source if given. */
function balanceOf(
  o: Observation,
  loanId: string,
  account: string,
  asOf: CalendarDate,
  source?: (s: string) => boolean,
): bigint {
  return o.lines
    .filter(
      (l) =>
        l.loanId === loanId &&
        l.account === account &&
        l.valueDate <= asOf &&
        (!source || source(l.source ?? '')),
    )
    .reduce((sum, l) => sum + l.debit - l.credit, 0n);
}

/**
 * DOMAIN.md "Ledger": loans receivable = Σ outstanding principal of the fund's loans at any date,
 * here as of the step's date, the last event's date, today and far ahead; and each part of it
 * (disbursement, capitalisation, repayments, write-off) matches the rows it stands for.
 */
function checkLedgerAgainstLoans(
  model: Model,
  step: Step,
  { after, far, last, loansAtLast }: Reads,
): void {
  const outstandingAtLast = loansAtLast.reduce((s, l) => s + (l.outstanding as bigint), 0n);
  const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);
  const receivables = (asOf: CalendarDate) =>
    sum(after.loans.map((loan) => balanceOf(after, loan.id, 'loans_receivable', asOf)));
  for (const trial of [far, last]) {
    ensure(trial.debits === trial.credits, `the trial balance as of ${trial.asOf} balances`, trial);
    ensure(
      trial.balances.loans_receivable === receivables(trial.asOf),
      `loans receivable as of ${trial.asOf} = Σ of the loans' receivables`,
      trial,
    );
  }
  ensure(
    last.balances.loans_receivable === outstandingAtLast,
    `loans receivable as of ${last.asOf} = Σ the loans' outstanding principal`,
    { trial: last.balances, outstandingAtLast },
  );

  const standingIds = new Set(
    after.repayments.filter((r) => r.reversed_at === null).map((r) => r.id),
  );
  for (const asOf of new Set([FAR, world.today, model.clock, ...(step.date ? [step.date] : [])])) {
    for (const loan of after.loans) {
      const receivable = balanceOf(after, loan.id, 'loans_receivable', asOf);
      const disbursed =
        loan.disbursed_on !== null && loan.disbursed_on <= asOf ? money(loan.principal) : 0n;
      ensure(
        balanceOf(after, loan.id, 'loans_receivable', asOf, (s) => s === 'disbursement') ===
          disbursed,
        `loan ${loan.id}: the disbursement entry as of ${asOf}`,
      );
      for (const r of after.repayments.filter((x) => x.loan_id === loan.id)) {
        const principal =
          after.allocations
            .filter((a) => a.repayment_id === r.id)
            .reduce((s, a) => s + money(a.principal), 0n) + money(r.principal_prepaid);
        const expected =
          standingIds.has(r.id) && r.value_date <= asOf && r.kind === 'repayment' ? principal : 0n;
        ensure(
          -balanceOf(after, loan.id, 'loans_receivable', asOf, (s) => s === `repayment:${r.id}`) ===
            expected,
          `repayment ${r.id}: its entries take from loans receivable, as of ${asOf}, the principal it paid`,
          { expected, repayment: r },
        );
      }
      const writtenOff =
        loan.written_off_on !== null && loan.written_off_on <= asOf
          ? money(loan.written_off_principal)
          : 0n;
      ensure(
        -balanceOf(after, loan.id, 'loans_receivable', asOf, (s) => s === 'write_off') ===
          writtenOff,
        `loan ${loan.id}: the write-off entry as of ${asOf}`,
        loan,
      );
      const m = model.loans.find((l) => l.id === loan.id)!;
      const modelled = m.exact ? exactBook(m).receivableAsOf(asOf) : receivable;
      ensure(
        receivable === modelled,
        `loan ${loan.id} (0 %): receivable as of ${asOf} = disbursed − principal repaid − written off`,
        { receivable, modelled },
      );
    }
  }

  // Far ahead every capitalisation is posted: an active loan owes the principal of its schedule not yet paid; a closed one nothing.
  for (const loan of after.loans) {
    const paid = sum([...paidTowards(after, loan.id).values()].map((p) => p.principal));
    const scheduled = sum(
      after.rows.filter((row) => row.loan_id === loan.id).map((row) => money(row.principal)),
    );
    const expected = loan.status === 'active' ? scheduled - paid : 0n;
    const ledger = balanceOf(after, loan.id, 'loans_receivable', FAR);
    ensure(
      ledger === expected,
      `loan ${loan.id} (${loan.status}): receivable far ahead = Σ scheduled principal − Σ principal paid`,
      { ledger, scheduled, paid },
    );
    const today = balanceOf(after, loan.id, 'loans_receivable', world.today);
    ensure(
      today === money(loan.outstanding_principal),
      `loan ${loan.id}: outstanding_principal = its receivable as of today`,
      { ledger: today, loan: loan.outstanding_principal },
    );
  }

  // Far ahead, the other accounts: cash in and out, excesses owed back, losses and recoveries.
  const live = after.repayments.filter((r) => standingIds.has(r.id));
  const { balances } = far;
  ensure(
    balances.cash ===
      sum(live.map((r) => money(r.amount))) -
        sum(after.loans.filter((l) => l.disbursed_on !== null).map((l) => money(l.principal))),
    'cash = repayments − disbursements',
    far,
  );
  ensure(
    balances.owed_to_borrowers === -sum(live.map((r) => money(r.excess))),
    'owed to borrowers = Σ excesses',
    far,
  );
  ensure(
    balances.recoveries ===
      -sum(live.filter((r) => r.kind === 'recovery').map((r) => money(r.amount))),
    'recoveries = Σ recovered',
    far,
  );
  ensure(
    balances.loan_losses === sum(after.loans.map((l) => money(l.written_off_principal))),
    'loan losses = Σ written-off principal',
    far,
  );
}

/** The standing repayments are the ones the model accepted and did not reverse, each split exactly into what it paid. */
function checkRepayments(model: Model, after: Observation): void {
  for (const loan of model.loans) {
    const stored = after.repayments.filter((r) => r.loan_id === loan.id);
    const expected = loan.repayments.map((r) => ({
      id: r.id,
      amount: r.amount,
      value_date: r.valueDate,
      reversed: r.reversed,
      kind: r.recovery ? 'recovery' : 'repayment',
    }));
    const actual = stored.map((r) => ({
      id: r.id,
      amount: money(r.amount),
      value_date: r.value_date,
      reversed: r.reversed_at !== null,
      kind: r.kind,
    }));
    expect(actual).toEqual(expected);
    const book = loan.exact ? exactBook(loan) : null;
    for (const r of stored.filter((x) => x.reversed_at === null)) {
      const allocations = after.allocations.filter((a) => a.repayment_id === r.id);
      const allocated = allocations.reduce(
        (s, a) =>
          s + money(a.fees) + money(a.late_interest) + money(a.interest) + money(a.principal),
        0n,
      );
      const recovered = r.kind === 'recovery' ? money(r.amount) : 0n;
      ensure(
        allocated + money(r.principal_prepaid) + money(r.excess) + recovered === money(r.amount),
        `repayment ${r.id}: Σ allocations + principal_prepaid + excess + recovered = amount`,
        { r, allocations },
      );
      if (book) {
        const principal =
          allocations.reduce((s, a) => s + money(a.principal), 0n) + money(r.principal_prepaid);
        const split = book.split.get(r.id)!;
        ensure(
          principal === split.principal &&
            money(r.excess) === split.excess &&
            recovered === split.recovered &&
            allocated === allocations.reduce((s, a) => s + money(a.principal), 0n),
          `repayment ${r.id} of a 0 % loan: principal, excess and recovery as the model computes them`,
          { model: split, r, allocations },
        );
      }
    }
  }
}

/**
 * DOMAIN.md "Arrears", as of the last event's date (every standing repayment is value-dated by then):
 * what is unpaid of the instalments due before it, and DPD since the oldest of them; none for a closed loan.
 */
function checkArrears(model: Model, { after, loansAtLast }: Reads): void {
  for (const { loan, arrears } of loansAtLast) {
    const row = after.loans.find((l) => l.id === loan.id)!;
    const overdue =
      row.status === 'active'
        ? unpaidRows(after, loan.id).filter((r) => r.dueDate < model.clock)
        : [];
    const { overdue: o } = arrears;
    const seen = {
      total: o.principal + o.interest + o.late_interest + o.fees,
      instalments: arrears.overdueInstalments,
      dpd: arrears.daysPastDue,
    };
    const expected = {
      total: overdue.reduce((s, r) => s + r.unpaid, 0n),
      instalments: overdue.length,
      dpd: overdue[0] ? (Date.parse(model.clock) - Date.parse(overdue[0].dueDate)) / 86_400_000 : 0,
    };
    ensure(
      seen.total === expected.total &&
        seen.instalments === expected.instalments &&
        seen.dpd === expected.dpd,
      `loan ${loan.id} (${row.status}): its arrears as of ${model.clock}`,
      { seen, expected },
    );
  }
}

/** Nothing is paid beyond what is due, no amount or balance goes below zero, and no account turns to the wrong side on any date. */
function checkNoNegativeBalance(after: Observation): void {
  for (const loan of after.loans) {
    const rows = after.rows.filter((row) => row.loan_id === loan.id);
    const paid = paidTowards(after, loan.id);
    let unpaidBefore: number | null = null;
    for (const row of rows) {
      const [principal, interest, total, balance, capitalised] = [
        row.principal,
        row.interest,
        row.total,
        row.balance_after,
        row.capitalised_interest,
      ].map(money) as [bigint, bigint, bigint, bigint, bigint];
      ensure(
        principal >= 0n &&
          interest >= 0n &&
          balance >= 0n &&
          capitalised >= 0n &&
          total === principal + interest,
        `loan ${loan.id}: instalment ${row.number} is well formed`,
        row,
      );
      const p = paid.get(row.number) ?? { interest: 0n, principal: 0n, other: 0n };
      ensure(
        p.principal <= principal && p.interest <= interest && p.other === 0n,
        `loan ${loan.id}: instalment ${row.number} is not paid beyond what it is due`,
        { row, paid: p },
      );
      // DOMAIN.md "Allocation": oldest first, and within an instalment interest before principal.
      ensure(
        p.principal === 0n || p.interest === interest,
        `loan ${loan.id}: instalment ${row.number} has its principal paid before its interest`,
        { row, paid: p },
      );
      ensure(
        unpaidBefore === null || p.interest + p.principal === 0n,
        `loan ${loan.id}: instalment ${row.number} is paid while instalment ${unpaidBefore} is not`,
        { rows, paid: [...paid] },
      );
      if (unpaidBefore === null && p.interest + p.principal < total) unpaidBefore = row.number;
    }
    for (const number of paid.keys())
      ensure(
        rows.some((row) => row.number === number),
        `loan ${loan.id}: allocations name instalments of the current version`,
        number,
      );
    if (loan.status === 'active')
      ensure(
        rows.length > 0 && money(rows.at(-1)!.balance_after) === 0n,
        `loan ${loan.id}: its schedule ends at 0.00`,
        rows.at(-1),
      );
    ensure(
      money(loan.outstanding_principal) >= 0n,
      `loan ${loan.id}: outstanding principal ≥ 0`,
      loan.outstanding_principal,
    );

    // Account by account, on every value date (all of a date's entries taken together).
    const sides: Record<string, 1n | -1n> = {
      loans_receivable: 1n,
      loan_losses: 1n,
      interest_income: -1n,
      recoveries: -1n,
      owed_to_borrowers: -1n,
    };
    const running: Record<string, bigint> = {};
    const lines = after.lines.filter((l) => l.loanId === loan.id);
    lines.forEach((line, k) => {
      running[line.account] = (running[line.account] ?? 0n) + line.debit - line.credit;
      if (lines[k + 1]?.valueDate === line.valueDate) return;
      for (const [account, side] of Object.entries(sides)) {
        ensure(
          (running[account] ?? 0n) * side >= 0n,
          `loan ${loan.id}: ${account} is on its side as of ${line.valueDate}`,
          running,
        );
      }
    });
  }
}

async function auditVerdict(
  fundId: string,
  via: Via,
): Promise<{ valid: boolean; events_checked: number }> {
  if (via === 'direct') return verifyAuditChain(world.db, fundId);
  return (await as(world.app, ADMIN_KEY).get(`/v1/audit-events/verify?fund_id=${fundId}`)).body as {
    valid: boolean;
    events_checked: number;
  };
}

/** written_off after a write-off; repaid once everything is paid; active again after reversing what repaid it. */
function checkStatuses(model: Model, step: Step, before: Observation, after: Observation): void {
  for (const loan of model.loans) {
    const row = after.loans.find((l) => l.id === loan.id)!;
    const status = row.status as typeof loan.status;
    if (loan.disbursedOn === null)
      ensure(status === 'pending', `loan ${loan.id}: never disbursed, pending`, status);
    else if (loan.writtenOffOn !== null)
      ensure(
        status === 'written_off' && row.written_off_on === loan.writtenOffOn,
        `loan ${loan.id}: written off`,
        row,
      );
    else
      ensure(
        status === 'active' || status === 'repaid',
        `loan ${loan.id}: active or repaid`,
        status,
      );
    if (loan.exact && loan.disbursedOn !== null) {
      const book = exactBook(loan);
      ensure(status === book.status, `loan ${loan.id} (0 %): the model says ${book.status}`, {
        status,
        repayments: loan.repayments,
      });
      if (book.status === 'written_off')
        ensure(
          money(row.written_off_principal) === book.writtenOff,
          `loan ${loan.id} (0 %): written-off principal`,
          row,
        );
    }
    if (status === 'active' || status === 'repaid') {
      ensure(
        (status === 'repaid') === (unpaidRows(after, loan.id).length === 0),
        `loan ${loan.id}: repaid exactly when every instalment is paid`,
        { status, unpaid: unpaidRows(after, loan.id) },
      );
      ensure(
        (status === 'repaid') === (row.repaid_on !== null),
        `loan ${loan.id}: repaid_on is set exactly when repaid`,
        row,
      );
    }
    if (loan.disbursedOn !== null && loan.writtenOffOn === null && standing(loan).length === 0)
      ensure(status === 'active', `loan ${loan.id}: nothing repaid, active`, status);

    if (
      loan === step.loan &&
      (accepted(step) || step.loan.disbursedOn === null) &&
      step.expectStatus !== null &&
      !step.reply?.replayed
    ) {
      ensure(
        status === step.expectStatus,
        `loan ${loan.id}: the model expects ${step.expectStatus} after this step`,
        row,
      );
    }
    if (step.restructured.includes(loan.id)) {
      const was = before.loans.find((l) => l.id === loan.id)!;
      ensure(
        row.restructured && row.schedule_version === was.schedule_version + 1,
        `loan ${loan.id}: restructured, with a new schedule version`,
        row,
      );
    }
    if (
      loan === step.loan &&
      step.op === 'repay' &&
      accepted(step) &&
      loan.status === 'active' &&
      status === 'repaid'
    )
      loan.repaidBy = (step.reply!.body as { id: string }).id;
    loan.status = status;
  }
}
