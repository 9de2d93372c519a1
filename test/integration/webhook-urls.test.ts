/**
 * The API as deployed (the strict outbound policy): a fund or structure cannot register a webhook
 * that leads to plain http or into our own networks; the problem names the field, nothing is kept.
 */
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/app';
import { hashSecret } from '../../src/http/auth';
import { STRICT_OUTBOUND } from '../../src/http/outbound';
import { ADMIN_KEY, LIMITS_OUT_OF_REACH } from '../support/app';
import { testDb } from '../support/db';
import { as, fieldsOf, fundWithManager, structureBody, unique } from '../support/portfolio';

let app: Express;
beforeAll(async () => {
  app = createApp({
    logger: pino({ level: 'silent' }),
    db: await testDb(),
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
    outbound: STRICT_OUTBOUND,
  });
});

const REFUSED = [
  'http://10.0.0.1/x',
  'https://10.0.0.1/x',
  'https://[::ffff:127.0.0.1]/x',
  'https://localhost/x',
  'https://user:pass@partner.example.org/x',
];
const ACCEPTED = 'https://partner.example.org/hook';

function expectRefusedWebhook(res: Awaited<ReturnType<ReturnType<typeof as>['post']>>) {
  expect(res.status).toBe(422);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(fieldsOf(res)).toEqual(['webhook_url']);
}

describe('webhook_url under the strict policy', () => {
  it.each(REFUSED)('a fund opened with %s: 422 naming webhook_url, no fund', async (url) => {
    const name = unique('Fonds refusé');
    expectRefusedWebhook(
      await as(app, ADMIN_KEY).post('/v1/funds', {
        name,
        region_code: '84',
        department_codes: ['69'],
        webhook_url: url,
      }),
    );
    const funds = await (
      await testDb()
    )
      .selectFrom('funds')
      .select('id')
      .where('name', '=', name)
      .execute();
    expect(funds).toEqual([]);
  });

  it('a fund whose webhook is changed to a private address: 422, the webhook it had is kept', async () => {
    const { fund, manager } = await fundWithManager(app, { webhook_url: ACCEPTED });
    expectRefusedWebhook(
      await as(app, manager.secret).patch(`/v1/funds/${fund.id}`, {
        webhook_url: 'http://10.0.0.1/x',
        reminder_days_before: [2],
      }),
    );
    const kept = await as(app, manager.secret).get(`/v1/funds/${fund.id}`);
    expect(kept.body).toMatchObject({
      webhook_url: ACCEPTED,
      reminder_days_before: fund.reminder_days_before,
    });
  });

  it.each(REFUSED)(
    'a structure registered with %s: 422 naming webhook_url, no structure',
    async (url) => {
      const { fund, manager } = await fundWithManager(app);
      expectRefusedWebhook(
        await as(app, manager.secret).post(
          '/v1/structures',
          structureBody(fund.id, { webhook_url: url }),
        ),
      );
      const listed = await as(app, manager.secret).get(`/v1/structures?fund_id=${fund.id}`);
      expect(listed.body.items).toEqual([]);
    },
  );

  it(`${ACCEPTED} is taken by a fund, its update and a structure`, async () => {
    const { fund, manager } = await fundWithManager(app, { webhook_url: ACCEPTED });
    expect(fund.webhook_url).toBe(ACCEPTED);
    const changed = await as(app, manager.secret).patch(`/v1/funds/${fund.id}`, {
      webhook_url: `${ACCEPTED}/v2`,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.webhook_url).toBe(`${ACCEPTED}/v2`);
    const structure = await as(app, manager.secret).post(
      '/v1/structures',
      structureBody(fund.id, { webhook_url: ACCEPTED }),
    );
    expect(structure.status).toBe(201);
    expect(structure.body.webhook_url).toBe(ACCEPTED);
  });
});
