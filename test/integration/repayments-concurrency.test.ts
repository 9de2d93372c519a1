/**
 * Repayments under concurrency and retries (DOMAIN.md "Loan lifecycle and servicing", "Ledger";
 * openapi.yaml recordRepayment). Requests are fired together at one real HTTP server so that they
 * truly race for the loan's lock and for the Idempotency-Key; every answer is checked against
 * openapi.yaml, and the money is then checked through the API and in PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { sql } from 'kysely';
import request, { type Response } from 'supertest';
import { testApp } from '../support/app';
import { contractMismatches } from '../support/contract';
import { testDb } from '../support/db';
import { createKey, pathTemplateOf } from '../support/portfolio';
import { disbursedLoan, servicingDesk, type Desk } from '../support/servicing';

const OPERATION = '/v1/loans/{loan_id}/repayments';

let app: Express;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  app = await testApp();
  server = app.listen(0);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Exact money in cents: "1250.00" → 125000n, "-3.5" → -350n. */
function cents(amount: string): bigint {
  const [, sign, whole, fraction = ''] = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount) ?? [];
  if (whole === undefined) throw new Error(`not an amount: ${amount}`);
  const value = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  return sign === '-' ? -value : value;
}
const euros = (value: bigint) =>
  `${value < 0n ? '-' : ''}${(value < 0n ? -value : value) / 100n}.${String((value < 0n ? -value : value) % 100n).padStart(2, '0')}`;
const sum = (values: readonly bigint[]) => values.reduce((a, b) => a + b, 0n);

/** A repayment request against the running server; not sent until awaited (or put in Promise.all). */
function postRepayment(secret: string, loanId: string, body: unknown, idempotencyKey?: string) {
  const call = request(baseUrl)
    .post(`/v1/loans/${loanId}/repayments`)
    .set('Authorization', `Bearer ${secret}`)
    .set('Content-Type', 'application/json');
  if (idempotencyKey !== undefined) call.set('Idempotency-Key', idempotencyKey);
  return call.send(JSON.stringify(body));
}

/** Fires every request before awaiting any, then checks each answer against openapi.yaml. */
async function together(calls: readonly Promise<Response>[]): Promise<Response[]> {
  const responses = await Promise.all(calls);
  const mismatches = responses.flatMap((res, i) =>
    contractMismatches(res, 'post', OPERATION).map((m) => `#${i} (${res.status}): ${m}`),
  );
  expect(mismatches).toEqual([]);
  return responses;
}

/** A read that must succeed, checked against openapi.yaml too. */
const get = async (path: string, secret: string) => {
  const res = await request(baseUrl).get(path).set('Authorization', `Bearer ${secret}`);
  expect(res.status).toBe(200);
  expect(contractMismatches(res, 'get', pathTemplateOf(path))).toEqual([]);
  return res;
};

interface Allocation {
  instalment_number: number;
  total: string;
}
interface Recorded {
  id: string;
  amount: string;
  allocations: Allocation[];
  principal_allocated: string;
  principal_prepaid: string;
  excess: string;
  loan: { outstanding_principal: string; status: string };
}

/** What a repayment body says it did with the money: Σ allocations + prepaid + excess. */
const accountedFor = (r: Recorded) =>
  sum(r.allocations.map((a) => cents(a.total))) + cents(r.principal_prepaid) + cents(r.excess);

/** A loan's repayment entries that stand (neither reversed nor a reversal), counted by source. */
async function standingRepaymentEntries(loanId: string): Promise<Record<string, number>> {
  const db = await testDb();
  const { rows } = await sql<{ source: string; n: string }>`
    SELECT e.source, count(*)::text AS n FROM journal_entries e
    WHERE e.loan_id = ${loanId} AND e.event = 'repayment' AND e.reverses IS NULL
      AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = e.id)
    GROUP BY e.source`.execute(db);
  return Object.fromEntries(rows.map((row) => [row.source, Number(row.n)]));
}

describe('50 repayments racing on one loan, each with its own Idempotency-Key', () => {
  // 50 amounts (17,712.55 in all, well over the 10,661.88 the loan can ever owe): small ones, exact
  // instalments, a cent, and large ones that prepay; every prepayment choice. Value-dated 20 April
  // 2025, when instalments 1–3 are overdue and 4 is the next one.
  const PATTERN = [
    '120.00',
    '888.49',
    '15.37',
    '450.00',
    '0.01',
    '1500.00',
    '73.10',
    '260.55',
    '35.00',
    '199.99',
  ];
  const CHOICES = ['reduce_instalment', 'reduce_term', 'pay_ahead', undefined] as const;
  const bodies = Array.from({ length: 50 }, (_, i) => {
    const prepayment = CHOICES[i % CHOICES.length];
    return {
      amount: PATTERN[i % PATTERN.length]!,
      value_date: '2025-04-20',
      reference: `virement ${i + 1}`,
      ...(prepayment ? { prepayment } : {}),
    };
  });

  let desk: Desk;
  let loanId: string;
  let responses: Response[];
  let accepted: Recorded[];

  beforeAll(async () => {
    desk = await servicingDesk(app); // a fund of its own: its ledger holds this loan only
    loanId = (await disbursedLoan(desk)).id;
    responses = await together(
      bodies.map((body) => postRepayment(desk.manager.secret, loanId, body, randomUUID())),
    );
    accepted = responses.filter((res) => res.status === 201).map((res) => res.body as Recorded);
  });

  it('never fails with a 500: each is recorded (201) or, once the loan is repaid, refused as a conflict (409)', async () => {
    const statuses = responses.map((res) => res.status);
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
    expect(accepted.length).toBeGreaterThan(10);
    for (const refused of responses.filter((res) => res.status === 409)) {
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.body.detail).toMatch(/repaid/);
    }
    // 17,712.55 offered against at most 10,661.88 owed: the loan ends repaid.
    const loan = (await get(`/v1/loans/${loanId}`, desk.manager.secret)).body;
    expect(loan.status).toBe('repaid');
    expect(loan.outstanding_principal).toBe('0.00');
    expect(responses.every((res) => res.headers['idempotency-replayed'] === undefined)).toBe(true);
  });

  it('each answer accounts for its whole amount: Σ allocations + principal_prepaid + excess = amount', () => {
    const unbalanced = accepted
      .filter((r) => accountedFor(r) !== cents(r.amount))
      .map((r) => `${r.id}: ${r.amount} vs ${euros(accountedFor(r))}`);
    expect(unbalanced).toEqual([]);
  });

  it('the accepted repayments, as they finally stand, account for exactly the money accepted', async () => {
    const listed = (await get(`/v1/loans/${loanId}/repayments?limit=200`, desk.manager.secret)).body
      .items as Recorded[];
    expect(listed.map((r) => r.id).sort()).toEqual(accepted.map((r) => r.id).sort());
    const acceptedTotal = sum(accepted.map((r) => cents(r.amount)));
    expect(euros(sum(listed.map(accountedFor)))).toBe(euros(acceptedTotal));

    const db = await testDb();
    const {
      rows: [stored],
    } = await sql<{
      amounts: string;
      allocated: string;
      prepaid: string;
      excess: string;
      principal: string;
      count: string;
    }>`
      SELECT sum(r.amount)::text AS amounts, coalesce(sum(a.allocated), 0)::text AS allocated, sum(r.principal_prepaid)::text AS prepaid,
             sum(r.excess)::text AS excess, (sum(r.principal_prepaid) + coalesce(sum(a.principal), 0))::text AS principal, count(*)::text AS count
      FROM repayments r
      LEFT JOIN (SELECT repayment_id, sum(fees + late_interest + interest + principal) AS allocated, sum(principal) AS principal
                 FROM allocations GROUP BY repayment_id) a ON a.repayment_id = r.id
      WHERE r.loan_id = ${loanId} AND r.reversed_at IS NULL`.execute(db);
    expect(Number(stored!.count)).toBe(accepted.length);
    expect(stored!.amounts).toBe(euros(acceptedTotal));
    expect(euros(cents(stored!.allocated) + cents(stored!.prepaid) + cents(stored!.excess))).toBe(
      euros(acceptedTotal),
    );
    expect(stored!.principal).toBe('10000.00'); // repaid: all the principal came back
  });

  it('only the payment that closed the loan overshoots, and its excess is owed back to the borrower in the ledger', async () => {
    const listed = (await get(`/v1/loans/${loanId}/repayments?limit=200`, desk.manager.secret)).body
      .items as Recorded[];
    const answered = new Map(accepted.map((r) => [r.id, r]));
    const overshooting = listed
      .filter((r) => cents(r.excess) > 0n)
      .map((r) => ({
        id: r.id,
        amount: r.amount,
        excess: r.excess,
        answered_excess: answered.get(r.id)!.excess,
        answered_loan_status: answered.get(r.id)!.loan.status,
      }));
    // The one whose 201 said the loan was repaid, with the excess it stated.
    expect(overshooting).toEqual(
      accepted
        .filter((r) => r.loan.status === 'repaid')
        .map((r) => ({
          id: r.id,
          amount: r.amount,
          excess: r.excess,
          answered_excess: r.excess,
          answered_loan_status: 'repaid',
        })),
    );
    expect(overshooting).toHaveLength(1);
    const trial = (await get(`/v1/funds/${desk.fund.id}/ledger/trial-balance`, desk.manager.secret))
      .body;
    const owed = (trial.accounts as { account: string; balance: string }[]).find(
      (a) => a.account === 'owed_to_borrowers',
    )!;
    expect(owed.balance).toBe(euros(-cents(overshooting[0]!.excess)));
  });

  it('no instalment of the current schedule is paid beyond its total, through the API and in the tables', async () => {
    const schedule = (await get(`/v1/loans/${loanId}/schedule`, desk.manager.secret)).body;
    const overpaid = (
      schedule.instalments as { number: number; paid: string; total: string }[]
    ).filter((i) => cents(i.paid) > cents(i.total));
    expect(overpaid).toEqual([]);

    const db = await testDb();
    const { rows } = await sql<{ number: number; total: string; paid: string }>`
      SELECT i.number, i.total::text AS total, coalesce(p.paid, 0)::text AS paid
      FROM loans l JOIN instalments i ON i.loan_id = l.id AND i.version = l.schedule_version
      LEFT JOIN (SELECT a.number, sum(a.fees + a.late_interest + a.interest + a.principal) AS paid
                 FROM allocations a JOIN repayments r ON r.id = a.repayment_id
                 WHERE r.loan_id = ${loanId} AND r.reversed_at IS NULL GROUP BY a.number) p ON p.number = i.number
      WHERE l.id = ${loanId} ORDER BY i.number`.execute(db);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((row) => cents(row.paid) > cents(row.total))).toEqual([]);
    // No allocation points at an instalment the current schedule does not have.
    const { rows: orphans } = await sql<{ number: number }>`
      SELECT DISTINCT a.number FROM allocations a JOIN repayments r ON r.id = a.repayment_id JOIN loans l ON l.id = r.loan_id
      WHERE r.loan_id = ${loanId} AND NOT EXISTS (SELECT 1 FROM instalments i WHERE i.loan_id = l.id AND i.version = l.schedule_version AND i.number = a.number)`.execute(
      db,
    );
    expect(orphans).toEqual([]);
  });

  it('the fund’s ledger balances entry by entry, and its loans receivable equal the loan’s outstanding principal', async () => {
    const db = await testDb();
    const { rows: unbalanced } = await sql<{ id: string }>`
      SELECT e.id FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
      WHERE e.fund_id = ${desk.fund.id} GROUP BY e.id HAVING sum(l.debit) <> sum(l.credit)`.execute(
      db,
    );
    expect(unbalanced).toEqual([]);

    const loan = (await get(`/v1/loans/${loanId}`, desk.manager.secret)).body;
    const trial = (await get(`/v1/funds/${desk.fund.id}/ledger/trial-balance`, desk.manager.secret))
      .body;
    const receivable = (trial.accounts as { account: string; balance: string }[]).find(
      (a) => a.account === 'loans_receivable',
    )!;
    expect(trial.total_debits).toBe(trial.total_credits);
    expect(receivable.balance).toBe(loan.outstanding_principal);
    expect(loan.outstanding_principal).toBe('0.00');
    const {
      rows: [row],
    } = await sql<{
      outstanding_principal: string;
    }>`SELECT outstanding_principal::text FROM loans WHERE id = ${loanId}`.execute(db);
    expect(row!.outstanding_principal).toBe(loan.outstanding_principal);
  });

  it('a later repayment on the same value date never rewrites an earlier one: each stands as its 201 said', async () => {
    // All 50 share one value date, none is reversed: the replay applies them in the order they were
    // recorded, so what a 201 told the payer (allocation, prepayment, excess) stays true, and no
    // repayment entry is ever reversed and posted again.
    const listed = new Map(
      (
        (await get(`/v1/loans/${loanId}/repayments?limit=200`, desk.manager.secret)).body
          .items as Recorded[]
      ).map((r) => [r.id, r]),
    );
    const outcome = (r: Recorded) => ({
      id: r.id,
      allocations: r.allocations.map((a) => `#${a.instalment_number}: ${a.total}`).join(', '),
      principal_prepaid: r.principal_prepaid,
      excess: r.excess,
    });
    const rewritten = accepted.filter(
      (r) => JSON.stringify(outcome(r)) !== JSON.stringify(outcome(listed.get(r.id)!)),
    );
    expect(
      rewritten.map((r) => ({ answered: outcome(r), now: outcome(listed.get(r.id)!) })),
    ).toEqual([]);
    const db = await testDb();
    const { rows: reversals } = await sql<{
      source: string;
    }>`SELECT source FROM journal_entries WHERE loan_id = ${loanId} AND event = 'reversal'`.execute(
      db,
    );
    expect(reversals).toEqual([]);
  });

  it('exactly one repayment journal entry stands for each accepted repayment, and none for a refused one', async () => {
    expect(await standingRepaymentEntries(loanId)).toEqual(
      Object.fromEntries(accepted.map((r) => [`repayment:${r.id}`, 1])),
    );
  });
});

describe('repayments racing on the same value date are applied in the order they were recorded', () => {
  it('what each 201 said stays true: no later repayment rewrites an earlier one, no repayment entry is reversed', async () => {
    // 40 payments at once, value-dated when 11 instalments are overdue: none prepays, none closes
    // the loan, and most cross an interest/principal or instalment boundary. With one value date and
    // no reversal, a repayment recorded later comes after those recorded before it, so their
    // allocations and entries never change. (At 9ade8e8 the replay ordered same-day repayments by
    // their transaction's start time, not by when they were recorded: confirmed repayments were
    // re-allocated and their entries reversed and posted again.)
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const amounts = ['210.00', '157.30', '320.00', '112.34', '299.99']; // 8,797.04 in all, less than the 9,773.39 overdue
    const bodies = Array.from({ length: 40 }, (_, i) => ({
      amount: amounts[i % amounts.length]!,
      value_date: '2025-12-20',
    }));
    const responses = await together(
      bodies.map((body) => postRepayment(desk.manager.secret, loan.id, body, randomUUID())),
    );
    expect(responses.map((res) => res.status).filter((s) => s !== 201)).toEqual([]);

    const listed = new Map(
      (
        (await get(`/v1/loans/${loan.id}/repayments?limit=200`, desk.manager.secret)).body
          .items as Recorded[]
      ).map((r) => [r.id, r]),
    );
    const rewritten = responses
      .map((res) => res.body as Recorded)
      .filter(
        (answered) =>
          JSON.stringify(listed.get(answered.id)?.allocations) !==
          JSON.stringify(answered.allocations),
      )
      .map((answered) => ({
        id: answered.id,
        answered: answered.allocations,
        now: listed.get(answered.id)?.allocations,
      }));
    expect(rewritten).toEqual([]);
    const db = await testDb();
    expect(
      await db
        .selectFrom('journal_entries')
        .select('source')
        .where('loan_id', '=', loan.id)
        .where('event', '=', 'reversal')
        .execute(),
    ).toEqual([]);
    expect(await standingRepaymentEntries(loan.id)).toEqual(
      Object.fromEntries([...listed.keys()].map((id) => [`repayment:${id}`, 1])),
    );
  });
});

describe('50 identical requests racing under ONE Idempotency-Key', () => {
  it('record one repayment and post one entry: the others replay its 201 or are told it is still in flight (409)', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const key = randomUUID();
    const body = { amount: '1000.00', value_date: '2025-03-01', reference: 'virement unique' };
    const responses = await together(
      Array.from({ length: 50 }, () => postRepayment(desk.manager.secret, loan.id, body, key)),
    );

    expect(responses.map((res) => res.status).filter((s) => s !== 201 && s !== 409)).toEqual([]);
    const created = responses.filter((res) => res.status === 201);
    const originals = created.filter((res) => res.headers['idempotency-replayed'] === undefined);
    expect(originals).toHaveLength(1);
    const first = originals[0]!;
    expect(first.body).toMatchObject({
      amount: '1000.00',
      value_date: '2025-03-01',
      reference: 'virement unique',
    });
    for (const replay of created.filter((res) => res !== first)) {
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect(replay.headers.location).toBe(first.headers.location);
    }
    for (const waiting of responses.filter((res) => res.status === 409)) {
      expect(waiting.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(waiting.body.detail).toMatch(/still being processed/);
    }

    const db = await testDb();
    const repayments = await db
      .selectFrom('repayments')
      .select('id')
      .where('loan_id', '=', loan.id)
      .execute();
    expect(repayments).toEqual([{ id: first.body.id }]);
    // One posting ever: not one posted and reversed per duplicate.
    const entries = await db
      .selectFrom('journal_entries')
      .select(['event', 'source'])
      .where('loan_id', '=', loan.id)
      .where('event', '<>', 'disbursement')
      .execute();
    expect(entries).toEqual([{ event: 'repayment', source: `repayment:${first.body.id}` }]);
    const stored = await db
      .selectFrom('idempotency_keys')
      .select('status_code')
      .where('key', '=', key)
      .execute();
    expect(stored).toEqual([{ status_code: 201 }]);

    // Once they have all finished, a late retry replays the first answer.
    const [late] = await together([postRepayment(desk.manager.secret, loan.id, body, key)]);
    expect(late!.status).toBe(201);
    expect(late!.headers['idempotency-replayed']).toBe('true');
    expect(late!.body).toEqual(first.body);
  });
});

describe('the Idempotency-Key contract, one request at a time', () => {
  const headerField = (res: Response) => (res.body.errors ?? []) as { in: string; field: string }[];

  it('the same key with another body, or for another loan, is a 422 naming the Idempotency-Key header, and records nothing more', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const other = await disbursedLoan(desk);
    const key = randomUUID();
    const body = { amount: '500.00', value_date: '2025-03-01' };
    const [first] = await together([postRepayment(desk.manager.secret, loan.id, body, key)]);
    expect(first!.status).toBe(201);
    // The same fields in another order are the same request: a replay, not a 422.
    const [reordered] = await together([
      postRepayment(
        desk.manager.secret,
        loan.id,
        { value_date: body.value_date, amount: body.amount },
        key,
      ),
    ]);
    expect([reordered!.status, reordered!.headers['idempotency-replayed']]).toEqual([201, 'true']);
    expect(reordered!.body).toEqual(first!.body);

    const refused = await together([
      postRepayment(desk.manager.secret, loan.id, { ...body, amount: '500.01' }, key),
      postRepayment(desk.manager.secret, loan.id, { ...body, reference: 'autre' }, key),
      postRepayment(desk.manager.secret, other.id, body, key),
    ]);
    for (const res of refused) {
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(headerField(res)).toContainEqual(
        expect.objectContaining({ in: 'header', field: 'Idempotency-Key' }),
      );
    }
    const db = await testDb();
    expect(
      await db
        .selectFrom('repayments')
        .select('id')
        .where('loan_id', 'in', [loan.id, other.id])
        .execute(),
    ).toEqual([{ id: first!.body.id }]);
  });

  it('a refused request stores nothing: after a 422 (value date before the disbursement) the same key with a correct body records the repayment', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const key = randomUUID();
    const [early] = await together([
      postRepayment(
        desk.manager.secret,
        loan.id,
        { amount: '300.00', value_date: '2025-01-10' },
        key,
      ),
    ]);
    expect(early!.status).toBe(422);
    expect(headerField(early!)).toContainEqual(expect.objectContaining({ field: 'value_date' }));
    const db = await testDb();
    expect(
      await db.selectFrom('idempotency_keys').select('key').where('key', '=', key).execute(),
    ).toEqual([]);

    const [fixed] = await together([
      postRepayment(
        desk.manager.secret,
        loan.id,
        { amount: '300.00', value_date: '2025-02-15' },
        key,
      ),
    ]);
    expect(fixed!.status).toBe(201);
    expect(fixed!.headers['idempotency-replayed']).toBeUndefined();
    // From now on the key belongs to the recorded repayment: the refused body is another request.
    const [again] = await together([
      postRepayment(
        desk.manager.secret,
        loan.id,
        { amount: '300.00', value_date: '2025-01-10' },
        key,
      ),
    ]);
    expect(again!.status).toBe(422);
    expect(headerField(again!)).toContainEqual(
      expect.objectContaining({ in: 'header', field: 'Idempotency-Key' }),
    );
    expect(
      await db.selectFrom('repayments').select('id').where('loan_id', '=', loan.id).execute(),
    ).toEqual([{ id: fixed!.body.id }]);
  });

  it('a conflict stores nothing either: refused (409) before the disbursement, the same key and body record the repayment after it', async () => {
    const desk = await servicingDesk(app);
    const created = await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '10000.00',
      annual_rate_percent: '12',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    expect(created.status).toBe(201);
    const key = randomUUID();
    const body = { amount: '888.49', value_date: '2025-02-15' };
    const [pending] = await together([
      postRepayment(desk.manager.secret, created.body.id, body, key),
    ]);
    expect(pending!.status).toBe(409);
    expect(
      (
        await desk.api.post(`/v1/loans/${created.body.id}/disbursement`, {
          date: '2025-01-15',
          amount: '10000.00',
        })
      ).status,
    ).toBe(200);
    const [recorded] = await together([
      postRepayment(desk.manager.secret, created.body.id, body, key),
    ]);
    expect(recorded!.status).toBe(201);
    expect(recorded!.headers['idempotency-replayed']).toBeUndefined();
  });

  it('a repayment without an Idempotency-Key is a 400 naming the header, and records nothing', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const [res] = await together([
      postRepayment(desk.manager.secret, loan.id, { amount: '100.00', value_date: '2025-02-15' }),
    ]);
    expect(res!.status).toBe(400);
    expect(res!.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(headerField(res!).map((e) => [e.in, e.field.toLowerCase()])).toContainEqual([
      'header',
      'idempotency-key',
    ]);
    const db = await testDb();
    expect(
      await db.selectFrom('repayments').select('id').where('loan_id', '=', loan.id).execute(),
    ).toEqual([]);
  });

  it('keys are scoped to the API key: two managers of one fund using the same key string each record their own repayment', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const colleague = await createKey(app, { role: 'manager', fund_id: desk.fund.id });
    const key = `virement-${randomUUID()}`;
    const body = { amount: '400.00', value_date: '2025-02-15' };
    const responses = await together(
      [desk.manager.secret, colleague.secret].map((secret) =>
        postRepayment(secret, loan.id, body, key),
      ),
    );
    expect(responses.map((res) => [res.status, res.headers['idempotency-replayed']])).toEqual([
      [201, undefined],
      [201, undefined],
    ]);
    expect(responses[0]!.body.id).not.toBe(responses[1]!.body.id);
    const db = await testDb();
    const ids = (
      await db.selectFrom('repayments').select('id').where('loan_id', '=', loan.id).execute()
    )
      .map((r) => r.id)
      .sort();
    expect(ids).toEqual(responses.map((res) => res.body.id as string).sort());
    expect(await standingRepaymentEntries(loan.id)).toEqual(
      Object.fromEntries(ids.map((id) => [`repayment:${id}`, 1])),
    );
  });

  it('a replay answers exactly what the first request answered, even after the loan has changed since', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const key = randomUUID();
    const body = { amount: '888.49', value_date: '2025-02-15', reference: 'échéance 1' };
    const [first] = await together([postRepayment(desk.manager.secret, loan.id, body, key)]);
    expect(first!.status).toBe(201);
    expect(first!.body.loan.outstanding_principal).toBe('9211.51');

    // A payment value-dated before it re-allocates it: its stored allocation and the loan both change.
    const [earlier] = await together([
      postRepayment(
        desk.manager.secret,
        loan.id,
        { amount: '300.00', value_date: '2025-02-01' },
        randomUUID(),
      ),
    ]);
    expect(earlier!.status).toBe(201);
    const now = (
      await get(`/v1/loans/${loan.id}/repayments/${first!.body.id}`, desk.manager.secret)
    ).body;
    expect(now.allocations).not.toEqual(first!.body.allocations);
    expect(
      (await get(`/v1/loans/${loan.id}`, desk.manager.secret)).body.outstanding_principal,
    ).not.toBe('9211.51');

    const [replay] = await together([postRepayment(desk.manager.secret, loan.id, body, key)]);
    expect(replay!.status).toBe(201);
    expect(replay!.headers['idempotency-replayed']).toBe('true');
    expect(replay!.headers.location).toBe(first!.headers.location);
    expect(replay!.body).toEqual(first!.body);
  });
});
