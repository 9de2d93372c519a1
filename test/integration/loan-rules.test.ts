import { sql } from 'kysely';
import { testApp } from '../support/app';
import { testDb } from '../support/db';
import { disbursedLoan, repay, servicingDesk } from '../support/servicing';

let app: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  app = await testApp();
});

// The loan's one-column rules are domains since migration 005: PostgreSQL still refuses what breaks
// them, whoever writes (here, straight SQL), and what an update writes is checked.
describe('PostgreSQL keeps a loan’s rules itself', () => {
  it.each([
    ['status', sql`status = 'lost'`],
    ['outstanding principal', sql`outstanding_principal = -0.01`],
    ['written-off principal', sql`written_off_principal = -1`],
    ['current rate', sql`current_annual_rate_percent = 100.000001`],
    ['schedule version', sql`schedule_version = -1`],
    ['method', sql`method = 'balloon'`],
    ['term', sql`term_periods = 601`],
    ['principal', sql`principal = 0`],
  ])('refuses a loan whose %s breaks its rule', async (_name, change) => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const db = await testDb();
    await expect(
      sql`UPDATE loans SET ${change} WHERE id = ${loan.id}`.execute(db),
    ).rejects.toMatchObject({ code: '23514' });
    const row = await db
      .selectFrom('loans')
      .select(['status', 'outstanding_principal', 'schedule_version'])
      .where('id', '=', loan.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      status: 'active',
      outstanding_principal: '10000.00',
      schedule_version: 1,
    });
  });

  it('still refuses rules across columns (an active loan without a disbursement date)', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expect(
      sql`UPDATE loans SET disbursed_on = NULL WHERE id = ${loan.id}`.execute(await testDb()),
    ).rejects.toMatchObject({ code: '23514' });
  });
});

// The servicing tables' one-column rules are domains since migration 006: a straight INSERT that
// breaks one is refused, and the rules across columns still hold.
describe('PostgreSQL keeps the servicing rows’ rules itself', () => {
  const zeros = '0000000000000000000000000000000000000000000000000000000000000000';
  let ids: { loan: string; fund: string; repayment: string; entry: string };
  beforeAll(async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const repaid = await repay(desk, loan.id, { amount: '100.00', value_date: '2025-02-15' });
    expect(repaid.status).toBe(201);
    const {
      rows: [row],
    } = await sql<{ fund_id: string; entry: string }>`
      SELECT l.fund_id, e.id AS entry FROM loans l JOIN journal_entries e ON e.loan_id = l.id WHERE l.id = ${loan.id} LIMIT 1`.execute(
      await testDb(),
    );
    ids = {
      loan: loan.id,
      fund: row!.fund_id,
      repayment: repaid.body.id as string,
      entry: row!.entry,
    };
  });

  const repayment = (
    amount: string,
    prepayment = 'reduce_instalment',
    reference: string | null = null,
  ) => sql`
    INSERT INTO repayments (id, loan_id, amount, value_date, prepayment, kind, reference) VALUES (gen_random_uuid(), ${ids.loan}, ${amount}::numeric, '2025-02-20', ${prepayment}, 'repayment', ${reference})`;
  const allocation = (number: number, principal: string, fees = '0') => sql`
    INSERT INTO allocations (repayment_id, number, principal, fees) VALUES (${ids.repayment}, ${number}, ${principal}::numeric, ${fees}::numeric)`;
  const line = (account: string, debit: string, credit = '0') => sql`
    INSERT INTO journal_lines (entry_id, line, account, debit, credit) VALUES (${ids.entry}, 99, ${account}, ${debit}::numeric, ${credit}::numeric)`;
  const auditEvent = (hash: string) => sql`
    INSERT INTO audit_events (fund_id, stream, seq, occurred_at, actor_key_id, action, entity_type, entity_id, state, prev_hash, hash)
    VALUES (${ids.fund}, ${ids.loan}, 999999, now(), 'test', 'test', 'loan', ${ids.loan}, '{}', ${zeros}, ${hash})`;

  it.each([
    ['a repayment of 0.00', () => repayment('0')],
    ['an unknown prepayment choice', () => repayment('1', 'skip')],
    ['an empty reference', () => repayment('1', 'reduce_instalment', '')],
    ['an allocation to instalment 0', () => allocation(0, '1')],
    ['a negative allocated principal', () => allocation(90, '-1', '5')],
    ['a journal line on an unknown account', () => line('petty_cash', '1')],
    ['a negative debit beside a credit', () => line('cash', '-1', '1')],
    ['an audit event whose hash is not SHA-256 hex', () => auditEvent('not a hash')],
    [
      'an empty Idempotency-Key',
      () =>
        sql`INSERT INTO idempotency_keys (owner, key, request_hash, status_code, response) VALUES ('test', '', 'x', 201, '{}')`,
    ],
    [
      'an unknown repayment kind',
      () => sql`
      INSERT INTO repayments (id, loan_id, amount, value_date, prepayment, kind) VALUES (gen_random_uuid(), ${ids.loan}, 1, '2025-02-20', 'reduce_instalment', 'gift')`,
    ],
    [
      'a negative excess',
      () => sql`
      INSERT INTO repayments (id, loan_id, amount, value_date, prepayment, kind, excess) VALUES (gen_random_uuid(), ${ids.loan}, 1, '2025-02-20', 'reduce_instalment', 'repayment', -1)`,
    ],
    [
      'an unknown journal event',
      () => sql`
      INSERT INTO journal_entries (id, fund_id, loan_id, event, value_date, source) VALUES (gen_random_uuid(), ${ids.fund}, ${ids.loan}, 'gift', '2025-02-20', 'gift')`,
    ],
    ['a negative credit beside a debit', () => line('cash', '1', '-1')],
    [
      'an audit chain head whose hash is not SHA-256 hex',
      () => sql`
      INSERT INTO audit_chain_heads (stream, fund_id, seq, prev_hash, hash) VALUES (gen_random_uuid(), ${ids.fund}, 1, ${zeros}, 'xyz')`,
    ],
    ['an allocation of nothing at all (a rule across columns)', () => allocation(91, '0')],
  ])('refuses %s', async (_name, insert) => {
    await expect(insert().execute(await testDb())).rejects.toMatchObject({ code: '23514' });
  });
});
