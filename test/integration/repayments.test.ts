import type { Express } from 'express';
import { testApp } from '../support/app';
import { disbursedLoan, repay, servicingDesk } from '../support/servicing';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

describe('repayments (DOMAIN.md "Allocation")', () => {
  it('a payment on the due date settles that instalment, interest before principal', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const res = await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    expect(res.status).toBe(201);
    expect(res.body.allocations).toEqual([{ instalment_number: 1, fees: '0.00', late_interest: '0.00', interest: '100.00', principal: '788.49', total: '888.49' }]);
    expect(res.body.loan).toMatchObject({ status: 'active', outstanding_principal: '9211.51', schedule_version: 1 });
  });
});
