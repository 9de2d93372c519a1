import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { main, portalClient, registerWebhookEndpoint } from '../../examples/partner-portal';
import { testApp } from '../support/app';
import { createKey, unique } from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk } from '../support/servicing';

/** examples/partner-portal.ts, the script a partner copies, run against the real app on a port of its own. */
let app: Express;
let server: Server;
let apiUrl: string;
beforeAll(async () => {
  app = await testApp({ outbound: { allowInsecure: true } }); // a webhook URL on this machine (no delivery is made here)
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('the partner-portal example', () => {
  it('reads a structure’s loans, the next due date after a paid instalment, and the statement', async () => {
    const desk = await servicingDesk(app);
    // 10,000.00 at 12 % over 12 months from 15 January 2025: instalments of 888.49 from 15 February
    const loan = await disbursedLoan(desk);
    expect(
      (await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' })).status,
    ).toBe(201);
    const key = await createKey(app, {
      role: 'structure',
      structure_id: desk.structure.id,
      label: unique('portail'),
    });

    const portal = await main(apiUrl, key.secret, '2025-02-20');

    expect(portal.loans.map((l) => l.id)).toEqual([loan.id]);
    expect(portal.first).toMatchObject({ nextDueDate: '2025-03-15' });
    expect(portal.first?.instalments[0]).toMatchObject({ due_date: '2025-02-15', status: 'paid' });
    expect(
      portal.first?.statement.map((line) => [line.value_date, line.type, line.cash, line.balance]),
    ).toEqual([
      ['2025-01-15', 'disbursement', '-10000.00', '10000.00'],
      ['2025-02-15', 'repayment', '888.49', '9211.51'],
    ]);
  });

  it('registers the portal’s webhook endpoint for its structure; the secret comes once', async () => {
    const desk = await servicingDesk(app);
    const key = await createKey(app, {
      role: 'structure',
      structure_id: desk.structure.id,
      label: unique('portail'),
    });

    const endpoint = await registerWebhookEndpoint(
      portalClient(apiUrl, key.secret),
      'http://127.0.0.1:9/hooks',
    );

    expect(endpoint).toMatchObject({
      url: 'http://127.0.0.1:9/hooks',
      event_types: ['repayment.recorded', 'loan.overdue'],
      enabled: true,
      description: 'Partner portal',
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const listed = await portalClient(apiUrl, key.secret).GET('/v1/webhook-endpoints');
    expect(listed.data?.items.map((item) => item.id)).toEqual([endpoint.id]);
    expect(JSON.stringify(listed.data)).not.toContain(endpoint.secret);
  });

  it('a structure without loans: none, and nothing more asked', async () => {
    const desk = await servicingDesk(app);
    const key = await createKey(app, {
      role: 'structure',
      structure_id: desk.structure.id,
      label: unique('portail'),
    });
    expect(await main(apiUrl, key.secret, '2025-02-20')).toEqual({ loans: [], first: null });
  });
});
