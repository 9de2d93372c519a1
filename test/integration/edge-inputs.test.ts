import type { Express } from 'express';
import { testApp } from '../support/app';
import { adminAuth, as, createProduct, createStructure, fundWithManager } from '../support/portfolio';

/** Inputs that once reached PostgreSQL and failed there as 500s: now each is a 4xx naming what is wrong. */
let app: Express;
beforeAll(async () => {
  app = await testApp();
});
const admin = adminAuth.Authorization.slice('Bearer '.length);

describe('ids and numbers PostgreSQL could not take', () => {
  it('a urn:uuid or an uppercase id is a 400, not a failed cast', async () => {
    const { fund } = await fundWithManager(app);
    const urn = await as(app, admin).get(`/v1/funds/urn:uuid:${fund.id}`);
    expect(urn.status).toBe(400);
    const upper = await as(app, admin).get(`/v1/funds/${fund.id.toUpperCase()}`);
    expect(upper.status).toBe(400);
    expect(upper.body.errors[0]).toMatchObject({ in: 'path', field: 'fundId' });
    const body = await as(app, admin).post('/v1/api-keys', { role: 'manager', fund_id: `urn:uuid:${fund.id}`, label: 'x' });
    expect(body.status).toBe(400);
  });

  it('a schedule version beyond integer range, or a cursor beyond bigint, is a 400', async () => {
    const { fund } = await fundWithManager(app);
    const version = await as(app, admin).get(`/v1/loans/${fund.id}/schedule/versions/99999999999`);
    expect(version.status).toBe(400);
    const cursor = Buffer.from('9999999999999999999').toString('base64url');
    const audit = await as(app, admin).get(`/v1/audit-events?cursor=${cursor}`);
    expect(audit.status).toBe(400);
    expect(audit.body.errors[0]).toMatchObject({ in: 'query', field: 'cursor' });
  });
});

describe('loans at the edges of their lifecycle', () => {
  async function pendingLoan() {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const res = await as(app, manager.secret).post('/v1/loans', {
      product_id: product.id, structure_id: structure.id, principal: '20000.00', annual_rate_percent: '2', periodicity: 'monthly',
      term_periods: 24, method: 'annuity', disbursement_date: '2025-01-10',
    });
    expect(res.status).toBe(201);
    return { manager, loanId: res.body.id as string };
  }

  it('a disbursement dated before 1900 names `date`, the field the request has', async () => {
    const { manager, loanId } = await pendingLoan();
    const res = await as(app, manager.secret).post(`/v1/loans/${loanId}/disbursement`, { date: '1899-12-31', amount: '20000.00' });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['date']);
  });

  it('a cancelled loan has no schedule: no instalments, nothing overdue', async () => {
    const { manager, loanId } = await pendingLoan();
    expect((await as(app, manager.secret).post(`/v1/loans/${loanId}/cancellation`, { reason: 'project abandoned' })).status).toBe(200);
    const schedule = await as(app, manager.secret).get(`/v1/loans/${loanId}/schedule?as_of=2026-01-01`);
    expect(schedule.status).toBe(200);
    expect(schedule.body).toMatchObject({ projected: false, version: 0, instalments: [] });
  });

  it('a cancellation reason with an unpaired surrogate is a 400 and the loan stays pending', async () => {
    const { manager, loanId } = await pendingLoan();
    const res = await as(app, manager.secret).post(`/v1/loans/${loanId}/cancellation`, { reason: 'x\ud800' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('reason');
    expect((await as(app, manager.secret).get(`/v1/loans/${loanId}`)).body.status).toBe('pending');
  });
});
