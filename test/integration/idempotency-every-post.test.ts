/**
 * Every POST that creates or changes something takes an optional Idempotency-Key (STYLE "Habits" 4)
 * with the repayment's semantics: the same key and body replay the first answer (status, body,
 * `Idempotency-Replayed: true`) and nothing happens twice; another body under the key is a 422 naming
 * the header; keys of different API keys never meet; without a key a route works as before.
 */
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { sql } from 'kysely';
import { ADMIN_KEY, testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  createKey,
  productBody,
  randomSiret,
  structureBody,
  unique,
} from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

const count = async (query: ReturnType<typeof sql<{ n: number }>>) =>
  (await query.execute(await testDb())).rows[0]!.n;
const audited = (action: string, entityId: string) =>
  count(
    sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM audit_events WHERE action = ${action} AND entity_id = ${entityId}::uuid`,
  );

/** A pending loan of the desk's product and structure. */
async function pendingLoan(desk: Desk, structureId = desk.structure.id): Promise<string> {
  const res = await desk.api.post('/v1/loans', loanBody(desk, structureId));
  if (res.status !== 201) throw new Error(`loan: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}
const loanBody = (desk: Desk, structureId: string, principal = '10000.00') => ({
  product_id: desk.product.id,
  structure_id: structureId,
  principal,
  annual_rate_percent: '12',
  periodicity: 'monthly',
  term_periods: 12,
  method: 'annuity',
  disbursement_date: '2025-01-15',
});

interface Case {
  /** Who posts: the desk's manager unless said. */
  readonly caller?: (desk: Desk) => string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
  readonly otherBody: unknown;
  /** How many of what the request makes or changes exist: 1 after the first request and its replay. */
  readonly made: () => Promise<number>;
  /** The answer shows a secret once, not stored: its replay is a 409 naming what was made. */
  readonly secretShownOnce?: true;
}

/** Each route, on a desk of its own (a moratorium or a scan takes in the whole fund). */
const routes: Record<string, (desk: Desk) => Promise<Case>> = {
  // --- issue 15 items 3-4: funding sources and impact snapshots
  'POST /v1/funds/{fund_id}/funding-sources': async (desk) => {
    const body = {
      origin: 'region',
      label: unique('Région'),
      amount_committed: '1000.00',
      start_date: '2024-01-01',
    };
    return {
      path: `/v1/funds/${desk.fund.id}/funding-sources`,
      status: 201,
      body,
      otherBody: { ...body, amount_committed: '2000.00' },
      made: () =>
        count(sql`SELECT count(*)::int AS n FROM funding_sources WHERE label = ${body.label}`),
    };
  },
  'POST /v1/structures/{structure_id}/impact-snapshots': async (desk) => {
    const { id } = (await desk.api.post('/v1/structures', structureBody(desk.fund.id))).body as {
      id: string;
    };
    const body = {
      snapshot_date: '2025-12-31',
      jobs_fte: 4,
      jobs_created: 1,
      jobs_maintained: 3,
      still_active: true,
    };
    return {
      path: `/v1/structures/${id}/impact-snapshots`,
      status: 201,
      body,
      otherBody: { ...body, jobs_fte: 5 },
      made: () =>
        count(
          sql`SELECT count(*)::int AS n FROM impact_snapshots WHERE structure_id = ${id}::uuid`,
        ),
    };
  },
  'POST /v1/funds': async () => {
    const name = unique('Fonds rejoué');
    return {
      caller: () => ADMIN_KEY,
      path: '/v1/funds',
      status: 201,
      body: { name, region_code: '84', department_codes: ['69'] },
      otherBody: { name, region_code: '84', department_codes: ['01'] },
      made: () => count(sql`SELECT count(*)::int AS n FROM funds WHERE name = ${name}`),
    };
  },
  'POST /v1/products': async (desk) => {
    const body = productBody(desk.fund.id);
    return {
      path: '/v1/products',
      status: 201,
      body,
      otherBody: { ...body, term_periods_max: 60 },
      made: () => count(sql`SELECT count(*)::int AS n FROM products WHERE name = ${body.name}`),
    };
  },
  'POST /v1/structures': async (desk) => {
    const body = structureBody(desk.fund.id);
    return {
      path: '/v1/structures',
      status: 201,
      body,
      otherBody: { ...body, siret: randomSiret() },
      made: () => count(sql`SELECT count(*)::int AS n FROM structures WHERE siret = ${body.siret}`),
    };
  },
  'POST /v1/loans': async (desk) => ({
    path: '/v1/loans',
    status: 201,
    body: loanBody(desk, desk.structure.id),
    otherBody: loanBody(desk, desk.structure.id, '20000.00'),
    made: () =>
      count(
        sql`SELECT count(*)::int AS n FROM loans WHERE structure_id = ${desk.structure.id}::uuid`,
      ),
  }),
  'POST /v1/loans/{loan_id}/disbursement': async (desk) => {
    const loanId = await pendingLoan(desk);
    return {
      path: `/v1/loans/${loanId}/disbursement`,
      status: 200,
      body: { date: '2025-01-15', amount: '10000.00' },
      otherBody: { date: '2025-01-16', amount: '10000.00' },
      made: () => audited('loan.disbursed', loanId),
    };
  },
  'POST /v1/loans/{loan_id}/cancellation': async (desk) => {
    const loanId = await pendingLoan(desk);
    return {
      path: `/v1/loans/${loanId}/cancellation`,
      status: 200,
      body: { reason: 'abandoned' },
      otherBody: { reason: 'merged' },
      made: () => audited('loan.cancelled', loanId),
    };
  },
  'POST /v1/loans/{loan_id}/restructurings': async (desk) => {
    const { id } = await disbursedLoan(desk);
    const body = {
      type: 'rate_change',
      effective_date: '2025-03-15',
      annual_rate_percent: '6',
      reason: 'hardship',
    };
    return {
      path: `/v1/loans/${id}/restructurings`,
      status: 201,
      body,
      otherBody: { ...body, annual_rate_percent: '5' },
      made: () =>
        count(sql`SELECT count(*)::int AS n FROM restructurings WHERE loan_id = ${id}::uuid`),
    };
  },
  'POST /v1/funds/{fund_id}/moratoria': async (desk) => {
    await disbursedLoan(desk);
    const body = { effective_date: '2025-03-15', periods: 3, reason: 'flood' };
    return {
      path: `/v1/funds/${desk.fund.id}/moratoria`,
      status: 201,
      body,
      otherBody: { ...body, periods: 2 },
      made: () =>
        count(sql`SELECT count(*)::int AS n FROM moratoria WHERE fund_id = ${desk.fund.id}::uuid`),
    };
  },
  'POST /v1/loans/{loan_id}/write-off': async (desk) => {
    const { id } = await disbursedLoan(desk);
    return {
      path: `/v1/loans/${id}/write-off`,
      status: 200,
      body: { date: '2025-03-20', reason: 'liquidation' },
      otherBody: { date: '2025-03-21', reason: 'liquidation' },
      made: () => audited('loan.written_off', id),
    };
  },
  'POST /v1/loans/{loan_id}/repayments/{repayment_id}/reversal': async (desk) => {
    const { id } = await disbursedLoan(desk);
    const repayment = (await repay(desk, id, { amount: '500.00', value_date: '2025-02-15' })).body
      .id as string;
    return {
      path: `/v1/loans/${id}/repayments/${repayment}/reversal`,
      status: 200,
      body: { reason: 'bounced' },
      otherBody: { reason: 'mistaken' },
      made: () => audited('repayment.reversed', repayment),
    };
  },
  'POST /v1/api-keys': async (desk) => {
    const label = unique('portal');
    return {
      path: '/v1/api-keys',
      status: 201,
      body: { role: 'auditor', fund_id: desk.fund.id, label },
      otherBody: { role: 'manager', fund_id: desk.fund.id, label },
      made: () => count(sql`SELECT count(*)::int AS n FROM api_keys WHERE label = ${label}`),
      secretShownOnce: true,
    };
  },
  'POST /v1/webhook-endpoints': async () => {
    const description = unique('portal');
    return {
      path: '/v1/webhook-endpoints',
      status: 201,
      secretShownOnce: true,
      body: { url: 'https://portal.example.org/hooks', event_types: ['loan.created'], description },
      otherBody: {
        url: 'https://portal.example.org/hooks',
        event_types: ['loan.repaid'],
        description,
      },
      made: () =>
        count(
          sql`SELECT count(*)::int AS n FROM webhook_endpoints WHERE description = ${description}`,
        ),
    };
  },
  'POST /v1/webhook-endpoints/{endpoint_id}/secret-rotation': async (desk) => {
    const id = (
      await desk.api.post('/v1/webhook-endpoints', {
        url: 'https://portal.example.org/hooks',
        event_types: ['loan.created'],
      })
    ).body.id as string;
    return {
      path: `/v1/webhook-endpoints/${id}/secret-rotation`,
      status: 200,
      secretShownOnce: true,
      body: {},
      otherBody: { unexpected: true },
      made: () => audited('webhook_endpoint.secret_rotated', id),
    };
  },
  'POST /v1/events/{event_id}/redeliveries': async (desk) => {
    const endpoint = (
      await desk.api.post('/v1/webhook-endpoints', {
        url: 'https://portal.example.org/hooks',
        event_types: ['loan.created'],
      })
    ).body.id as string;
    const loan = await pendingLoan(desk);
    const event = (await desk.api.get(`/v1/events?loan_id=${loan}`)).body.items[0].id as string;
    return {
      path: `/v1/events/${event}/redeliveries`,
      status: 202,
      body: { endpoint_id: endpoint },
      otherBody: {},
      made: () =>
        count(
          sql`SELECT count(*)::int - 1 AS n FROM webhook_deliveries WHERE event_id = ${event}::uuid`,
        ), // the first delivery, and one more
    };
  },
  'POST /v1/reports': async (desk) => ({
    path: '/v1/reports',
    status: 202,
    body: { fund_id: desk.fund.id, as_of: '2025-06-30' },
    otherBody: { fund_id: desk.fund.id, as_of: '2025-05-31' },
    made: () =>
      count(sql`SELECT count(*)::int AS n FROM reports WHERE fund_id = ${desk.fund.id}::uuid`),
  }),
  'POST /v1/exports': async (desk) => ({
    path: '/v1/exports',
    status: 202,
    body: { fund_id: desk.fund.id, as_of: '2025-06-30' },
    otherBody: { fund_id: desk.fund.id, as_of: '2025-05-31' },
    made: () =>
      count(sql`SELECT count(*)::int AS n FROM exports WHERE fund_id = ${desk.fund.id}::uuid`),
  }),
  'POST /v1/reminders/scan': async (desk) => {
    await disbursedLoan(desk); // due 2025-02-15: a first scan on the 20th makes its reminder of 1 day after (the day-15 one waits)
    return {
      path: '/v1/reminders/scan',
      status: 200,
      body: { fund_id: desk.fund.id, as_of: '2025-02-20' },
      otherBody: { fund_id: desk.fund.id, as_of: '2025-02-21' },
      made: () =>
        count(sql`SELECT count(*)::int AS n FROM reminders WHERE fund_id = ${desk.fund.id}::uuid`),
    };
  },
};

describe.each(Object.entries(routes))('%s', (_route, open) => {
  it('replays the first answer under the same key and body, with nothing made twice; another body is a 422 naming the key', async () => {
    const desk = await servicingDesk(app);
    const route = await open(desk);
    const api = as(app, route.caller?.(desk) ?? desk.manager.secret);
    const key = randomUUID();
    const first = await api.post(route.path, route.body, { 'Idempotency-Key': key });
    expect(first.status).toBe(route.status);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    const again = await api.post(route.path, route.body, { 'Idempotency-Key': key });
    if (route.secretShownOnce) {
      expect(again.status).toBe(409);
      expect(again.body.detail).toContain(first.body.id);
      expect(JSON.stringify(again.body)).not.toContain(first.body.secret);
    } else {
      expect(again.status).toBe(route.status);
      expect(again.headers['idempotency-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(again.headers.location).toBe(first.headers.location);
    }
    expect(await route.made()).toBe(1);

    const other = await api.post(route.path, route.otherBody, { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.body.errors).toEqual([
      expect.objectContaining({ in: 'header', field: 'Idempotency-Key' }),
    ]);
    expect(await route.made()).toBe(1);
  });

  it('is the calling API key’s own: another key under the same Idempotency-Key is not given the first answer', async () => {
    const desk = await servicingDesk(app);
    const route = await open(desk);
    const caller = route.caller?.(desk) ?? desk.manager.secret;
    const key = randomUUID();
    const first = await as(app, caller).post(route.path, route.body, { 'Idempotency-Key': key });
    expect(first.status).toBe(route.status);
    // Two other keys (for a fund, managers, who may not open one) under the same Idempotency-Key: the
    // same request is not a replay, another is not a reuse of the key (whatever the route says of it).
    const [one, two] =
      caller === ADMIN_KEY
        ? [
            desk.manager.secret,
            (await createKey(app, { role: 'manager', fund_id: desk.fund.id })).secret,
          ]
        : [ADMIN_KEY, (await createKey(app, { role: 'manager', fund_id: desk.fund.id })).secret];
    const same = await as(app, one).post(route.path, route.body, { 'Idempotency-Key': key });
    expect(same.headers['idempotency-replayed']).toBeUndefined();
    if (same.status === 201) expect(same.body.id).not.toBe(first.body.id);
    const other = await as(app, two).post(route.path, route.otherBody, { 'Idempotency-Key': key });
    expect(other.headers['idempotency-replayed']).toBeUndefined();
    expect((other.body.errors ?? []).map((error: { field: string }) => error.field)).not.toContain(
      'Idempotency-Key',
    );
  });

  it('without a key, works as before', async () => {
    const desk = await servicingDesk(app);
    const route = await open(desk);
    const res = await as(app, route.caller?.(desk) ?? desk.manager.secret).post(
      route.path,
      route.body,
    );
    expect(res.status).toBe(route.status);
    expect(res.headers['idempotency-replayed']).toBeUndefined();
    expect(await route.made()).toBe(1);
  });
});

describe('two identical requests at once under one key', () => {
  it('make one loan: one 201, and the other a replay of it or a 409', async () => {
    const desk = await servicingDesk(app);
    const { id: structureId } = (await desk.api.post('/v1/structures', structureBody(desk.fund.id)))
      .body as { id: string };
    const headers = { 'Idempotency-Key': randomUUID() };
    const answers = await Promise.all(
      [1, 2].map(() => desk.api.post('/v1/loans', loanBody(desk, structureId), headers)),
    );
    const first = answers.find(
      (res) => res.status === 201 && res.headers['idempotency-replayed'] === undefined,
    )!;
    expect(first).toBeDefined();
    const second = answers.find((res) => res !== first)!;
    if (second.status === 201) {
      expect(second.headers['idempotency-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
    } else {
      expect(second.status).toBe(409);
    }
    expect(
      await count(
        sql`SELECT count(*)::int AS n FROM loans WHERE structure_id = ${structureId}::uuid`,
      ),
    ).toBe(1);
  });
});
