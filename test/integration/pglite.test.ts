import { readdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { connectDatabase, type Db } from '../../src/db/connect';
import { onConnection } from '../../src/db/on-connection';
import { migrate } from '../../src/db/migrate';
import { hashSecret } from '../../src/http/auth';
import { expectContract } from '../support/contract';

/** The README's first command runs on the embedded PGlite: the same app, migrations and SQL. */
describe('the embedded PGlite database', () => {
  let db: Db;
  const admin = { Authorization: 'Bearer pglite-admin-key-0123456789abcdef' };
  beforeAll(async () => {
    db = await connectDatabase({ dataDir: 'memory://' });
    // Every migration of migrations/, in name order, the first time; none the second.
    const all = readdirSync(path.join(__dirname, '../../migrations'))
      .filter((name) => name.endsWith('.sql'))
      .sort()
      .map((name) => name.replace(/\.sql$/, ''));
    expect(all).toContain('013_back_office_edits');
    expect(await migrate(db)).toEqual(all);
    expect(await migrate(db)).toEqual([]);
  });
  afterAll(() => db.destroy());

  it('serves a fund’s whole story: fund, product, structure, loan, disbursement, schedule, audit chain', async () => {
    const app = createApp({
      logger: pino({ level: 'silent' }),
      db,
      adminKeyHash: hashSecret('pglite-admin-key-0123456789abcdef'),
    });
    const fund = await request(app)
      .post('/v1/funds')
      .set(admin)
      .send({ name: 'Fonds embarqué', region_code: '84', department_codes: ['69'] });
    expectContract(fund, 'post', '/v1/funds');
    const secret = await request(app).get(`/v1/funds/${fund.body.id}/webhook-secret`).set(admin);
    expect(secret.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/); // 32 bytes, made by migration 009's default
    const product = await request(app)
      .post('/v1/products')
      .set(admin)
      .send({
        fund_id: fund.body.id,
        name: 'Relance',
        kind: 'recovery',
        principal_min: '1000',
        principal_max: '50000',
        annual_rate_percent_min: '0',
        annual_rate_percent_max: '0',
        term_periods_min: 6,
        term_periods_max: 60,
        deferral_periods_max: 12,
        methods: ['annuity'],
        periodicities: ['monthly'],
      });
    expectContract(product, 'post', '/v1/products');
    const structure = await request(app).post('/v1/structures').set(admin).send({
      fund_id: fund.body.id,
      legal_name: 'Ressourcerie des Pentes',
      siret: '73282932000074',
      legal_form: 'association',
      naf_code: '38.32Z',
      commune_code: '69123',
      department_code: '69',
      region_code: '84',
      jobs_fte: '4.5',
      contact_email: 'contact@example.org',
    });
    expectContract(structure, 'post', '/v1/structures');
    const loan = await request(app).post('/v1/loans').set(admin).send({
      product_id: product.body.id,
      structure_id: structure.body.id,
      principal: '12000.00',
      annual_rate_percent: '0',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-31',
    });
    expectContract(loan, 'post', '/v1/loans');
    const disbursed = await request(app)
      .post(`/v1/loans/${loan.body.id}/disbursement`)
      .set(admin)
      .send({ date: '2025-01-31', amount: '12000.00' });
    expect(disbursed.body).toMatchObject({
      status: 'active',
      outstanding_principal: '12000.00',
      schedule_version: 1,
    });
    const schedule = await request(app)
      .get(`/v1/loans/${loan.body.id}/schedule?as_of=2025-03-31`)
      .set(admin);
    expectContract(schedule, 'get', '/v1/loans/{loan_id}/schedule');
    expect(
      schedule.body.instalments
        .slice(0, 3)
        .map((i: { due_date: string; total: string; status: string }) => [
          i.due_date,
          i.total,
          i.status,
        ]),
    ).toEqual([
      ['2025-02-28', '1000.00', 'overdue'],
      ['2025-03-31', '1000.00', 'due'],
      ['2025-04-30', '1000.00', 'upcoming'],
    ]);
    // Servicing on PGlite too: an idempotent repayment (replayed once), a reversal, a moratorium.
    const payment = () =>
      request(app)
        .post(`/v1/loans/${loan.body.id}/repayments`)
        .set(admin)
        .set('Idempotency-Key', 'pglite-1')
        .send({ amount: '2500.00', value_date: '2025-02-28' });
    const paid = await payment();
    expectContract(paid, 'post', '/v1/loans/{loan_id}/repayments');
    expect(paid.body).toMatchObject({
      principal_prepaid: '500.00',
      loan: { outstanding_principal: '9500.00', schedule_version: 2 },
    });
    const replayed = await payment();
    expect(replayed.headers['idempotency-replayed']).toBe('true');
    expect(replayed.body).toEqual(paid.body);
    const reversed = await request(app)
      .post(`/v1/loans/${loan.body.id}/repayments/${paid.body.id}/reversal`)
      .set(admin)
      .send({ reason: 'test' });
    expect(reversed.body.loan).toMatchObject({
      outstanding_principal: '12000.00',
      schedule_version: 3,
    });
    const moratorium = await request(app)
      .post(`/v1/funds/${fund.body.id}/moratoria`)
      .set(admin)
      .send({ effective_date: '2025-03-01', periods: 2, reason: 'crise' });
    expect(moratorium.body).toMatchObject({
      deferral_type: 'partial',
      capitalise_arrears: false,
      loans_changed: 1,
      loans_skipped: 0,
    }); // the defaults
    const verdict = await request(app)
      .get(`/v1/audit-events/verify?fund_id=${fund.body.id}`)
      .set(admin);
    expectContract(verdict, 'get', '/v1/audit-events/verify');
    expect(verdict.body).toMatchObject({
      fund_id: fund.body.id,
      valid: true,
      events_checked: 9,
      first_broken: null,
      chains_checked: 2,
      broken_chains: [],
    });
    expect(Date.parse(verdict.body.anchor.as_of)).toBeLessThanOrEqual(Date.now() - 5_000); // PGlite's one session: now() less the margin

    // Audit ids are bigints: PGlite must hand them over as strings too, or paging breaks.
    const firstPage = await request(app)
      .get(`/v1/audit-events?fund_id=${fund.body.id}&limit=3`)
      .set(admin);
    expectContract(firstPage, 'get', '/v1/audit-events');
    const secondPage = await request(app)
      .get(`/v1/audit-events?fund_id=${fund.body.id}&limit=3&cursor=${firstPage.body.next_cursor}`)
      .set(admin);
    expectContract(secondPage, 'get', '/v1/audit-events');
    const seqs = [...firstPage.body.items, ...secondPage.body.items].map(
      (event: { seq: number }) => event.seq,
    );
    expect(seqs).toEqual([1, 2, 3, 1, 2, 3]); // the fund's chain (fund, product, structure), then the loan's (created, disbursed, repaid)
  });

  it('does not run work meant for a node-postgres client, which it has not (the export and the import write by JS there)', async () => {
    let ran = false;
    expect(await onConnection(db, async () => (ran = true))).toBe('unsupported');
    expect(ran).toBe(false);
    expect(await db.selectNoFrom((eb) => eb.val('still here').as('one')).execute()).toEqual([
      { one: 'still here' },
    ]);
  });
});
