import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { sql } from 'kysely';
import { testApp } from '../support/app';
import { testDb } from '../support/db';
import { as, createProduct, createStructure, fundWithManager } from '../support/portfolio';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

async function disbursedLoans(
  principals: string[],
  productOverrides: Record<string, unknown> = {},
) {
  const { fund, manager } = await fundWithManager(app);
  const product = await createProduct(app, fund.id, manager.secret, productOverrides);
  const structure = await createStructure(app, fund.id, manager.secret);
  const api = as(app, manager.secret);
  for (const principal of principals) {
    const loan = await api.post('/v1/loans', {
      product_id: product.id,
      structure_id: structure.id,
      principal,
      annual_rate_percent: '2',
      periodicity: 'monthly',
      term_periods: 24,
      method: 'annuity',
      disbursement_date: '2025-03-10',
    });
    expect(loan.status).toBe(201);
    expect(
      (
        await api.post(`/v1/loans/${loan.body.id}/disbursement`, {
          date: '2025-03-10',
          amount: principal,
        })
      ).status,
    ).toBe(200);
  }
  return { fund, manager, api };
}

type Line = { account: string; debits: string; credits: string; balance: string };
const account = (lines: Line[], name: string) => lines.find((line) => line.account === name)!;

describe('the ledger (DOMAIN.md "Ledger")', () => {
  it('a disbursement debits loans receivable and credits cash; the trial balance balances and matches the outstanding principal', async () => {
    const { fund, api } = await disbursedLoans(['12000.00', '7500.50']);
    const trial = await api.get(`/v1/funds/${fund.id}/ledger/trial-balance?as_of=2025-03-10`);
    expect(trial.status).toBe(200);
    expect(account(trial.body.accounts, 'loans_receivable')).toEqual({
      account: 'loans_receivable',
      debits: '19500.50',
      credits: '0.00',
      balance: '19500.50',
    });
    expect(account(trial.body.accounts, 'cash')).toEqual({
      account: 'cash',
      debits: '0.00',
      credits: '19500.50',
      balance: '-19500.50',
    });
    expect(trial.body.total_debits).toBe(trial.body.total_credits);
    const loans = await api.get(`/v1/loans?fund_id=${fund.id}&status=active`);
    const outstanding = loans.body.items.reduce(
      (sum: bigint, loan: { outstanding_principal: string }) =>
        sum + BigInt(loan.outstanding_principal.replace('.', '')),
      0n,
    );
    expect(account(trial.body.accounts, 'loans_receivable').balance.replace('.', '')).toBe(
      String(outstanding),
    );
  });

  it('as of the day before the disbursements, every account is at 0.00', async () => {
    const { fund, api } = await disbursedLoans(['5000.00']);
    const trial = await api.get(`/v1/funds/${fund.id}/ledger/trial-balance?as_of=2025-03-09`);
    expect(
      trial.body.accounts.every((line: Line) => line.debits === '0.00' && line.credits === '0.00'),
    ).toBe(true);
    expect(trial.body.accounts.map((line: Line) => line.account)).toEqual([
      'cash',
      'loans_receivable',
      'interest_income',
      'loan_losses',
      'recoveries',
      'owed_to_borrowers',
    ]);
  });

  it('a refused disbursement posts nothing', async () => {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const api = as(app, manager.secret);
    const loan = await api.post('/v1/loans', {
      product_id: product.id,
      structure_id: structure.id,
      principal: '9000.00',
      annual_rate_percent: '2',
      periodicity: 'monthly',
      term_periods: 24,
      method: 'annuity',
      disbursement_date: '2025-03-10',
    });
    expect(
      (
        await api.post(`/v1/loans/${loan.body.id}/disbursement`, {
          date: '2025-03-10',
          amount: '8000.00',
        })
      ).status,
    ).toBe(422);
    const db = await testDb();
    const entries = await db
      .selectFrom('journal_entries')
      .select('id')
      .where('loan_id', '=', loan.body.id)
      .execute();
    expect(entries).toEqual([]);
  });

  it('PostgreSQL itself refuses an unbalanced entry, at commit, and keeps none of it', async () => {
    const { fund } = await fundWithManager(app);
    const db = await testDb();
    const id = randomUUID();
    await expect(
      db.transaction().execute(async (trx) => {
        await trx
          .insertInto('journal_entries')
          .values({
            id,
            fund_id: fund.id,
            loan_id: null,
            event: 'disbursement',
            value_date: '2025-01-01',
          })
          .execute();
        await trx
          .insertInto('journal_lines')
          .values([
            { entry_id: id, line: 1, account: 'loans_receivable', debit: '100.00', credit: '0' },
            { entry_id: id, line: 2, account: 'cash', debit: '0', credit: '99.99' },
          ])
          .execute();
      }),
    ).rejects.toThrow(/does not balance/);
    expect(
      await db.selectFrom('journal_entries').select('id').where('id', '=', id).execute(),
    ).toEqual([]);
  });

  it('an entry with a single line is refused too, and posted lines cannot be changed', async () => {
    const { fund, api } = await disbursedLoans(['6000.00']);
    const db = await testDb();
    const id = randomUUID();
    await expect(
      db.transaction().execute(async (trx) => {
        await trx
          .insertInto('journal_entries')
          .values({
            id,
            fund_id: fund.id,
            loan_id: null,
            event: 'disbursement',
            value_date: '2025-01-01',
          })
          .execute();
        await trx
          .insertInto('journal_lines')
          .values({ entry_id: id, line: 1, account: 'cash', debit: '0', credit: '0.01' })
          .execute();
      }),
    ).rejects.toThrow(/does not balance/);
    const entry = await db
      .selectFrom('journal_entries')
      .select('id')
      .where('fund_id', '=', fund.id)
      .executeTakeFirstOrThrow();
    await expect(
      sql`UPDATE journal_lines SET debit = debit + 1 WHERE entry_id = ${entry.id} AND line = 1`.execute(
        db,
      ),
    ).rejects.toThrow(/append-only/);
    expect(
      (await api.get(`/v1/funds/${fund.id}/ledger/trial-balance?as_of=2025-12-31`)).body
        .total_debits,
    ).toBe('6000.00');
  });
});

describe('totals larger than one amount', () => {
  it('a trial balance whose accounts total more than 999,999,999,999.99 is computed exactly (sums are not inputs)', async () => {
    const { fund, api } = await disbursedLoans(['600000000000.00', '600000000000.00'], {
      principal_max: '999999999999.99',
      annual_rate_percent_min: '0',
    });
    const trial = await api.get(`/v1/funds/${fund.id}/ledger/trial-balance?as_of=2025-03-10`);
    expect(trial.status).toBe(200);
    expect(account(trial.body.accounts, 'loans_receivable')).toEqual({
      account: 'loans_receivable',
      debits: '1200000000000.00',
      credits: '0.00',
      balance: '1200000000000.00',
    });
    expect(trial.body).toMatchObject({
      total_debits: '1200000000000.00',
      total_credits: '1200000000000.00',
    });
  });
});
