/**
 * Partner events (issue 12): every change a partner cares about becomes an event in the change's own
 * transaction, listed at GET /v1/events within the key's scope, and pushed to the webhook endpoints
 * that subscribe to it — signed per Standard Webhooks (checked with the `standardwebhooks` library a
 * partner would use), each body valid against openapi.yaml's `webhooks` section, in order per loan,
 * retried with backoff, logged, redeliverable; an endpoint failing too long is disabled and the fund
 * told. On a database of this file's own, so that its dispatcher only meets its own deliveries.
 */
import type { Express } from 'express';
import { sql } from 'kysely';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db/connect';
import { hashSecret } from '../../src/http/auth';
import type { WebhookDelivery } from '../../src/webhooks/deliver-webhook';
import { findWebhookEndpoint } from '../../src/webhooks/webhook-endpoints.repository';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { startWebhookDispatcher } from '../../workers/webhooks';
import { startWorkers } from '../../workers/start';
import { ADMIN_KEY, LIMITS_OUT_OF_REACH } from '../support/app';
import { contractAjv, SPEC_ID } from '../support/contract';
import { isolatedDatabase } from '../support/db';
import { as, createKey, createStructure } from '../support/portfolio';
import { webhookReceiver, type WebhookCall } from '../support/receivers';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';
import { until } from '../support/until';

let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;
const closing: { close(): Promise<void> }[] = [];
const silent = pino({ level: 'silent' });
const SETTINGS: WebhookDelivery = {
  policy: { allowInsecure: true },
  timeoutMs: 2000,
  backoffMs: 50,
  maxBackoffMs: 1000,
  disableAfterMs: 3_600_000,
  concurrency: 8,
  perEndpoint: 4,
};

beforeAll(async () => {
  iso = await isolatedDatabase('events');
  db = iso.db;
  app = createApp({
    logger: silent,
    db,
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
    outbound: { allowInsecure: true },
  });
});

const dispatchers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  // One test's dispatcher must not deliver (and decide about) the next test's endpoints.
  await Promise.all(dispatchers.splice(0).map((running) => running.stop()));
});

afterAll(async () => {
  for (const item of closing.reverse()) await item.close();
  await iso.drop();
});

function dispatcher(settings: Partial<WebhookDelivery> = {}, logger = silent) {
  dispatchers.push(
    startWebhookDispatcher({ db, settings: { ...SETTINGS, ...settings }, logger, intervalMs: 20 }),
  );
}

async function receiver(answer?: Parameters<typeof webhookReceiver>[0]) {
  const made = await webhookReceiver(answer);
  closing.push(made);
  return made;
}

const ajv = contractAjv({ allErrors: true });
/** The body must be what openapi.yaml's `webhooks` section documents for its type. */
function expectDocumentedPayload(call: WebhookCall): {
  id: string;
  type: string;
  loan_id: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
} {
  const body = JSON.parse(call.body) as { type: string };
  const pointer = `${SPEC_ID}#/webhooks/${body.type.replaceAll('~', '~0').replaceAll('/', '~1')}/post/requestBody/content/application~1json/schema`;
  const validate = ajv.getSchema(pointer);
  if (!validate) throw new Error(`openapi.yaml documents no webhook ${body.type}`);
  expect({ type: body.type, valid: validate(body), errors: validate.errors ?? null }).toEqual({
    type: body.type,
    valid: true,
    errors: null,
  });
  return body as ReturnType<typeof expectDocumentedPayload>;
}

async function endpoint(desk: Desk, url: string, eventTypes: string[], key = desk.manager.secret) {
  const res = await as(app, key).post('/v1/webhook-endpoints', {
    url,
    event_types: eventTypes,
    description: 'portal',
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; structure_id: string | null };
}

const ALL_LOAN_TYPES = [
  'loan.created',
  'loan.disbursed',
  'loan.cancelled',
  'loan.restructured',
  'loan.written_off',
  'loan.repaid',
  'repayment.recorded',
  'repayment.reversed',
];

describe('GET /v1/events', () => {
  it("lists each change of a loan once, in order, with the resource as the API shows it, within the key's scope", async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk, { principal: '1200.00', term_periods: 12 });
    const paid = await repay(desk, loan.id, { amount: '100.00', value_date: '2025-02-15' });
    expect(paid.status).toBe(201);

    const res = await desk.api.get(`/v1/events?loan_id=${loan.id}`);
    expect(res.status).toBe(200);
    const events = res.body.items as {
      id: string;
      type: string;
      fund_id: string;
      structure_id: string;
      loan_id: string;
      request_id: string;
      data: Record<string, unknown>;
    }[];
    expect(events.map((event) => event.type)).toEqual([
      'loan.created',
      'loan.disbursed',
      'repayment.recorded',
    ]);
    expect(
      events.every(
        (event) =>
          event.fund_id === desk.fund.id &&
          event.structure_id === desk.structure.id &&
          event.loan_id === loan.id,
      ),
    ).toBe(true);
    expect(events[2]!.data).toEqual(paid.body);
    expect(events[2]!.request_id).toBe(paid.headers['x-request-id']);
    const loanNow = await desk.api.get(`/v1/loans/${loan.id}`);
    expect(loanNow.body).toMatchObject({
      ...events[1]!.data,
      outstanding_principal: loanNow.body.outstanding_principal,
    });
    expect(events[1]!.data).toMatchObject({
      id: loan.id,
      status: 'active',
      outstanding_principal: '1200.00',
      schedule_version: 1,
    });

    // A structure key sees its own loans' events; another structure's key none of them; another fund's manager a 404 on one.
    const own = await createKey(
      app,
      { role: 'structure', structure_id: desk.structure.id, label: 'portal' },
      desk.manager.secret,
    );
    const ownEvents = await as(app, own.secret).get('/v1/events');
    expect(ownEvents.body.items.map((event: { id: string }) => event.id)).toEqual(
      events.map((event) => event.id),
    );
    const other = await createStructure(app, desk.fund.id, desk.manager.secret);
    const otherKey = await createKey(
      app,
      { role: 'structure', structure_id: other.id, label: 'other' },
      desk.manager.secret,
    );
    expect((await as(app, otherKey.secret).get('/v1/events')).body.items).toEqual([]);
    expect((await as(app, otherKey.secret).get(`/v1/events/${events[0]!.id}`)).status).toBe(404);
    const stranger = await servicingDesk(app);
    expect((await stranger.api.get(`/v1/events/${events[0]!.id}`)).status).toBe(404);
    expect((await stranger.api.get(`/v1/events?fund_id=${desk.fund.id}`)).status).toBe(404);
    expect((await as(app, own.secret).get(`/v1/events/${events[2]!.id}`)).body).toEqual(events[2]);
  });

  it('filters by type and since, and pages with the cursor', async () => {
    const desk = await servicingDesk(app);
    const first = await disbursedLoan(desk);
    const before = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await disbursedLoan(desk);
    const disbursed = await desk.api.get('/v1/events?type=loan.disbursed');
    expect(disbursed.body.items.map((event: { loan_id: string }) => event.loan_id)).toEqual([
      first.id,
      second.id,
    ]);
    const both = await desk.api.get('/v1/events?type=loan.created,loan.disbursed');
    expect(both.body.items).toHaveLength(4);
    const since = await desk.api.get(`/v1/events?since=${encodeURIComponent(before)}`);
    expect(
      since.body.items.map((event: { type: string; loan_id: string }) => [
        event.type,
        event.loan_id,
      ]),
    ).toEqual([
      ['loan.created', second.id],
      ['loan.disbursed', second.id],
    ]);
    const leap = await desk.api.get('/v1/events?since=2016-12-31T23%3A59%3A60Z'); // valid RFC 3339, not a Date
    expect(leap.status).toBe(400);
    expect(leap.body.errors).toEqual([expect.objectContaining({ in: 'query', field: 'since' })]);
    const page1 = await desk.api.get('/v1/events?limit=3');
    const page2 = await desk.api.get(
      `/v1/events?limit=3&cursor=${page1.body.next_cursor as string}`,
    );
    expect(
      [...page1.body.items, ...page2.body.items].map((event: { id: string }) => event.id),
    ).toEqual(both.body.items.map((event: { id: string }) => event.id));
    expect(page2.body.next_cursor).toBeNull();
  });

  it('records a loan.repaid when a repayment closes the loan, and loan.cancelled, loan.written_off, repayment.reversed, loan.restructured', async () => {
    const desk = await servicingDesk(app);
    const repaid = await disbursedLoan(desk, {
      principal: '1000.00',
      annual_rate_percent: '0',
    } as never);
    expect(
      (await repay(desk, repaid.id, { amount: '1000.00', value_date: '2025-01-20' })).status,
    ).toBe(201);
    const pending = await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '1000.00',
      annual_rate_percent: '1',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    expect((await desk.api.post(`/v1/loans/${pending.body.id}/cancellation`, {})).status).toBe(200);
    const other = await disbursedLoan(desk);
    const payment = await repay(desk, other.id, { amount: '50.00', value_date: '2025-02-01' });
    expect(
      (
        await desk.api.post(`/v1/loans/${other.id}/repayments/${payment.body.id}/reversal`, {
          reason: 'bounced',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await desk.api.post(`/v1/loans/${other.id}/restructurings`, {
          type: 'extension',
          effective_date: '2025-03-01',
          term_periods: 20,
          reason: 'cash flow',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await desk.api.post(`/v1/loans/${other.id}/write-off`, {
          date: '2025-04-01',
          reason: 'liquidation',
        })
      ).status,
    ).toBe(200);
    const types = async (loanId: string) =>
      (await desk.api.get(`/v1/events?loan_id=${loanId}`)).body.items.map(
        (event: { type: string }) => event.type,
      );
    expect(await types(repaid.id)).toEqual([
      'loan.created',
      'loan.disbursed',
      'repayment.recorded',
      'loan.repaid',
    ]);
    expect(await types(pending.body.id)).toEqual(['loan.created', 'loan.cancelled']);
    expect(await types(other.id)).toEqual([
      'loan.created',
      'loan.disbursed',
      'repayment.recorded',
      'repayment.reversed',
      'loan.restructured',
      'loan.written_off',
    ]);
  });

  it('writes nothing when the change fails', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    expect((await repay(desk, loan.id, { amount: '0.00', value_date: '2025-02-01' })).status).toBe(
      422,
    );
    expect((await desk.api.get(`/v1/events?loan_id=${loan.id}`)).body.items).toHaveLength(2);
  });
});

describe('events the scans and the workers make', () => {
  it('announces an instalment overdue once, the day a scan finds it unpaid past its due date', async () => {
    const desk = await servicingDesk(app);
    const late = await disbursedLoan(desk); // due on the 15th of each month from February 2025
    const onTime = await disbursedLoan(desk);
    expect(
      (await repay(desk, onTime.id, { amount: '888.49', value_date: '2025-02-14' })).status,
    ).toBe(201);
    const scan = (asOf: string) =>
      desk.api.post('/v1/reminders/scan', { fund_id: desk.fund.id, as_of: asOf });
    expect((await scan('2025-02-15')).status).toBe(200); // due today: not overdue yet
    expect((await desk.api.get('/v1/events?type=loan.overdue')).body.items).toEqual([]);
    await scan('2025-03-01');
    await scan('2025-03-02');
    const overdue = (await desk.api.get('/v1/events?type=loan.overdue')).body.items as {
      loan_id: string;
      structure_id: string;
      data: Record<string, unknown>;
    }[];
    expect(overdue).toEqual([
      expect.objectContaining({ loan_id: late.id, structure_id: desk.structure.id }),
    ]);
    expect(overdue[0]!.data).toEqual({
      loan_id: late.id,
      structure_id: desk.structure.id,
      instalment_number: 1,
      due_date: '2025-02-15',
      overdue_since: '2025-02-16',
      amount_due: '888.49',
      amount_unpaid: '888.49',
      currency: 'EUR',
    });
    await scan('2025-03-20');
    const later = (await desk.api.get('/v1/events?type=loan.overdue')).body.items as {
      loan_id: string;
      data: { instalment_number: number };
    }[];
    expect(later.map((event) => [event.loan_id, event.data.instalment_number])).toEqual([
      [late.id, 1],
      [late.id, 2],
      [onTime.id, 2],
    ]);
  });

  it('publishes reminder.* as the workers deliver reminders, and report.completed with the request id of the POST that asked for it', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const lines: { msg: string; queue?: string; request_id?: string | null }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
    );
    const workers = await startWorkers({
      db,
      redisUrl: 'redis://127.0.0.1:6379',
      logger,
      reminders: { ...loadConfig({}).reminders, attempts: 1 },
      queuePrefix: `test-events-${randomUUID()}`,
      relayIntervalMs: 50,
    });
    try {
      expect(
        (await desk.api.post('/v1/reminders/scan', { fund_id: desk.fund.id, as_of: '2025-02-16' }))
          .status,
      ).toBe(200);
      const asked = await desk.api.post('/v1/reports', {
        fund_id: desk.fund.id,
        as_of: '2025-06-30',
      });
      await until(
        async () =>
          (await desk.api.get('/v1/events?type=report.completed')).body.items.length === 1,
        'report.completed',
      );
      await until(
        async () =>
          (await desk.api.get('/v1/events?type=reminder.before_due,reminder.after_due')).body.items
            .length === 1,
        "the reminder's event",
      );
      const completed = (await desk.api.get('/v1/events?type=report.completed')).body.items[0];
      expect(completed).toMatchObject({
        fund_id: desk.fund.id,
        structure_id: null,
        loan_id: null,
        request_id: asked.headers['x-request-id'],
      });
      expect(completed.data).toMatchObject({
        id: asked.body.id,
        status: 'done',
        csv_url: `/v1/reports/${asked.body.id}.csv`,
      });
      // The same request id in the worker's log line of the job the POST asked for.
      await until(
        () => lines.some((line) => line.msg === 'job done' && line.queue === 'reports'),
        "the report job's log line",
      );
      expect(
        lines.find((line) => line.msg === 'job done' && line.queue === 'reports')!.request_id,
      ).toBe(asked.headers['x-request-id']);
      const reminders = (
        await desk.api.get('/v1/events?type=reminder.before_due,reminder.after_due')
      ).body.items as {
        type: string;
        loan_id: string;
        data: { kind: string; offset_days: number };
      }[];
      // The first scan, the day after the first due date: the reminder of 1 day after it (those before it are past).
      expect(
        reminders.map((event) => [
          event.type,
          event.loan_id,
          event.data.kind,
          event.data.offset_days,
        ]),
      ).toEqual([['reminder.after_due', loan.id, 'after_due', 1]]);
    } finally {
      await workers.close();
    }
  });
});

describe('webhook endpoints', () => {
  it('shows the secret once; a structure key registers its own and sees no fund endpoint; an auditor cannot register', async () => {
    const desk = await servicingDesk(app);
    const made = await endpoint(desk, 'http://127.0.0.1:9/hooks', ['loan.created']);
    expect(made.secret).toMatch(/^whsec_/);
    const read = await desk.api.get(`/v1/webhook-endpoints/${made.id}`);
    expect(read.body).not.toHaveProperty('secret');
    expect(JSON.stringify((await desk.api.get('/v1/webhook-endpoints')).body)).not.toContain(
      made.secret,
    );

    const portal = await createKey(
      app,
      { role: 'structure', structure_id: desk.structure.id, label: 'portal' },
      desk.manager.secret,
    );
    const own = await endpoint(
      desk,
      'http://127.0.0.1:9/portal',
      ['repayment.recorded'],
      portal.secret,
    );
    expect(own.structure_id).toBe(desk.structure.id);
    const portalList = await as(app, portal.secret).get('/v1/webhook-endpoints');
    expect(portalList.body.items.map((item: { id: string }) => item.id)).toEqual([own.id]);
    expect((await as(app, portal.secret).get(`/v1/webhook-endpoints/${made.id}`)).status).toBe(404);
    expect((await as(app, portal.secret).delete(`/v1/webhook-endpoints/${made.id}`)).status).toBe(
      404,
    );
    const auditor = await createKey(
      app,
      { role: 'auditor', fund_id: desk.fund.id, label: 'audit' },
      desk.manager.secret,
    );
    expect(
      (
        await as(app, auditor.secret).post('/v1/webhook-endpoints', {
          url: 'http://127.0.0.1:9/x',
          event_types: ['loan.created'],
        })
      ).status,
    ).toBe(403);
    expect((await as(app, auditor.secret).get(`/v1/webhook-endpoints/${own.id}`)).status).toBe(200);
    const stranger = await servicingDesk(app);
    expect((await stranger.api.get(`/v1/webhook-endpoints/${made.id}`)).status).toBe(404);
    expect(
      (await stranger.api.patch(`/v1/webhook-endpoints/${made.id}`, { enabled: false })).status,
    ).toBe(404);

    const patched = await desk.api.patch(`/v1/webhook-endpoints/${made.id}`, {
      event_types: ['loan.created', 'loan.repaid'],
      enabled: false,
    });
    expect(patched.body).toMatchObject({
      event_types: ['loan.created', 'loan.repaid'],
      enabled: false,
      disabled_reason: 'disabled through the API',
    });
    expect((await desk.api.delete(`/v1/webhook-endpoints/${made.id}`)).status).toBe(204);
    expect((await desk.api.get(`/v1/webhook-endpoints/${made.id}`)).status).toBe(404);
  });

  it('refuses an event type that does not exist and a URL that is not http(s)', async () => {
    const desk = await servicingDesk(app);
    expect(
      (
        await desk.api.post('/v1/webhook-endpoints', {
          url: 'http://127.0.0.1:9/x',
          event_types: ['loan.exploded'],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await desk.api.post('/v1/webhook-endpoints', {
          url: 'ftp://example.org/x',
          event_types: ['loan.created'],
        })
      ).status,
    ).toBe(400);
  });

  it('reads a stored type outside the closed list as the bug it is: it throws, naming the column', async () => {
    const desk = await servicingDesk(app);
    const made = await endpoint(desk, 'http://127.0.0.1:9/x', ['loan.created']);
    await sql`UPDATE webhook_endpoints SET event_types = ARRAY['loan.created', 'loan.exploded'] WHERE id = ${made.id}::uuid`.execute(
      db,
    );
    await expect(findWebhookEndpoint(db, made.id)).rejects.toThrow(
      /webhook_endpoints\.event_types: "loan\.exploded"/,
    );
  });
});

describe('delivery', () => {
  it('delivers every subscribed event, signed, documented, with the request id of the change; a structure endpoint only its own', async () => {
    const desk = await servicingDesk(app);
    const fundHook = await receiver();
    const portalHook = await receiver();
    const fundEndpoint = await endpoint(desk, fundHook.url, ALL_LOAN_TYPES);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: desk.structure.id, label: 'portal' },
      desk.manager.secret,
    );
    const portalEndpoint = await endpoint(
      desk,
      portalHook.url,
      ['repayment.recorded'],
      portal.secret,
    );
    const otherStructure = await createStructure(app, desk.fund.id, desk.manager.secret);
    const lines: { msg: string; request_id?: string | null; event_type?: string }[] = [];
    dispatcher(
      {},
      pino(
        { level: 'info' },
        { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
      ),
    );

    const loan = await disbursedLoan(desk);
    const paid = await repay(desk, loan.id, { amount: '100.00', value_date: '2025-02-15' });
    const elsewhere = await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: otherStructure.id,
      principal: '1000.00',
      annual_rate_percent: '1',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    expect(elsewhere.status).toBe(201);

    await until(
      () => fundHook.calls.length >= 4 && portalHook.calls.length >= 1,
      "the fund's and the portal's deliveries",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const fundBodies = fundHook.calls.map(expectDocumentedPayload);
    // In order per loan (the two loans' events may interleave).
    expect(fundBodies.filter((body) => body.loan_id === loan.id).map((body) => body.type)).toEqual([
      'loan.created',
      'loan.disbursed',
      'repayment.recorded',
    ]);
    expect(
      fundBodies.filter((body) => body.loan_id === elsewhere.body.id).map((body) => body.type),
    ).toEqual(['loan.created']);
    expect(portalHook.calls).toHaveLength(1);
    const portalBody = expectDocumentedPayload(portalHook.calls[0]!);
    expect(portalBody.data).toEqual(paid.body);

    for (const [call, secret] of [
      [
        fundHook.calls.find((call) => JSON.parse(call.body).type === 'repayment.recorded')!,
        fundEndpoint.secret,
      ],
      [portalHook.calls[0]!, portalEndpoint.secret],
    ] as const) {
      const headers = {
        'webhook-id': String(call.headers['webhook-id']),
        'webhook-timestamp': String(call.headers['webhook-timestamp']),
        'webhook-signature': String(call.headers['webhook-signature']),
      };
      expect(new Webhook(secret).verify(call.body, headers)).toEqual(JSON.parse(call.body));
      expect(call.headers['webhook-id']).toBe(JSON.parse(call.body).id);
      expect(call.headers['x-request-id']).toBe(paid.headers['x-request-id']);
    }
    // One request id from the API to the partner: in the header above, and in the dispatcher's log lines.
    expect(
      lines
        .filter(
          (line) => line.msg === 'webhook delivered' && line.event_type === 'repayment.recorded',
        )
        .map((line) => line.request_id),
    ).toEqual([paid.headers['x-request-id'], paid.headers['x-request-id']]);
    const log = await desk.api.get(`/v1/webhook-endpoints/${portalEndpoint.id}/deliveries`);
    expect(log.body.items).toEqual([
      expect.objectContaining({
        event_id: portalBody.id,
        event_type: 'repayment.recorded',
        attempt: 1,
        status_code: 200,
        succeeded: true,
        error: null,
      }),
    ]);
  });

  it("retries a failing endpoint with backoff, keeping each loan's events in order, and logs every attempt", async () => {
    const desk = await servicingDesk(app);
    const hook = await receiver((n) => ({ status: n % 2 === 1 ? 503 : 200 })); // every other call fails
    const made = await endpoint(desk, hook.url, [
      'loan.created',
      'loan.disbursed',
      'repayment.recorded',
    ]);
    dispatcher();
    const loans = await Promise.all([disbursedLoan(desk), disbursedLoan(desk)]);
    for (const loan of loans) {
      for (const day of ['2025-02-15', '2025-03-15'])
        expect((await repay(desk, loan.id, { amount: '10.00', value_date: day })).status).toBe(201);
    }
    await until(
      async () =>
        (
          await desk.api.get(`/v1/webhook-endpoints/${made.id}/deliveries?limit=200`)
        ).body.items.filter((a: { succeeded: boolean }) => a.succeeded).length === 8,
      'eight deliveries taken',
    );
    const taken = hook.calls
      .filter((_, index) => index % 2 === 1)
      .map((call) => JSON.parse(call.body) as { type: string; loan_id: string; id: string });
    for (const loan of loans) {
      expect(taken.filter((body) => body.loan_id === loan.id).map((body) => body.type)).toEqual([
        'loan.created',
        'loan.disbursed',
        'repayment.recorded',
        'repayment.recorded',
      ]);
    }
    const log = (await desk.api.get(`/v1/webhook-endpoints/${made.id}/deliveries?limit=200`)).body
      .items as { status_code: number; error: string | null; attempt: number }[];
    expect(
      log
        .filter((line) => line.status_code === 503)
        .every((line) => line.error === 'answered HTTP 503'),
    ).toBe(true);
    expect(log.filter((line) => line.status_code === 503).length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...log.map((line) => line.attempt))).toBeGreaterThanOrEqual(2);
  });

  it('lets go a delivery left waiting behind nothing (its predecessor finished while its change committed)', async () => {
    const desk = await servicingDesk(app);
    const hook = await receiver();
    await endpoint(desk, hook.url, ['loan.created']);
    const created = await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '1000.00',
      annual_rate_percent: '1',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    // As if the change had seen an earlier delivery of the loan still owed, which then finished before it committed.
    await sql`UPDATE webhook_deliveries SET waiting = true WHERE order_key = ${created.body.id}::uuid`.execute(
      db,
    );
    dispatcher();
    await until(() => hook.calls.length === 1, 'the orphaned delivery');
    expect(JSON.parse(hook.calls[0]!.body)).toMatchObject({
      type: 'loan.created',
      loan_id: created.body.id,
    });
  });

  it('signs with both secrets for a day after a rotation', async () => {
    const desk = await servicingDesk(app);
    const hook = await receiver();
    const made = await endpoint(desk, hook.url, ['loan.created']);
    const rotated = await desk.api.post(`/v1/webhook-endpoints/${made.id}/secret-rotation`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(made.secret);
    expect(
      Date.parse(rotated.body.previous_secret_expires_at as string) - Date.now(),
    ).toBeGreaterThan(23.9 * 3600_000);
    dispatcher();
    await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '1000.00',
      annual_rate_percent: '1',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    await until(() => hook.calls.length === 1, 'the first delivery');
    const call = hook.calls[0]!;
    const headers = {
      'webhook-id': String(call.headers['webhook-id']),
      'webhook-timestamp': String(call.headers['webhook-timestamp']),
      'webhook-signature': String(call.headers['webhook-signature']),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(made.secret).verify(call.body, headers)).toBeTruthy();
    expect(new Webhook(rotated.body.secret as string).verify(call.body, headers)).toBeTruthy();
  });

  it('redelivers an event on demand, with the same webhook-id', async () => {
    const desk = await servicingDesk(app);
    const hook = await receiver();
    const made = await endpoint(desk, hook.url, ['loan.created']);
    dispatcher();
    const created = await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '1000.00',
      annual_rate_percent: '1',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    await until(() => hook.calls.length === 1, 'the first delivery');
    const event = (await desk.api.get(`/v1/events?loan_id=${created.body.id}`)).body.items[0] as {
      id: string;
    };
    const again = await desk.api.post(`/v1/events/${event.id}/redeliveries`, {
      endpoint_id: made.id,
    });
    expect(again.status).toBe(202);
    expect(again.body.items).toEqual([
      expect.objectContaining({ event_id: event.id, endpoint_id: made.id, status: 'pending' }),
    ]);
    await until(() => hook.calls.length === 2, 'the redelivery');
    expect(hook.calls[1]!.headers['webhook-id']).toBe(event.id);
    expect(hook.calls[1]!.body).toBe(hook.calls[0]!.body);
    expect((await desk.api.post(`/v1/events/${event.id}/redeliveries`, {})).status).toBe(202);
    const stranger = await servicingDesk(app);
    expect((await stranger.api.post(`/v1/events/${event.id}/redeliveries`, {})).status).toBe(404);
  });

  it('disables an endpoint that answers 410 Gone, and one failing for longer than allowed, telling the fund', async () => {
    const desk = await servicingDesk(app);
    const gone = await receiver(() => ({ status: 410 }));
    const broken = await receiver(() => ({ status: 500 }));
    const watcher = await receiver();
    const goneEndpoint = await endpoint(desk, gone.url, ['loan.created']);
    const brokenEndpoint = await endpoint(desk, broken.url, ['loan.created']);
    await endpoint(desk, watcher.url, ['webhook_endpoint.disabled']);
    dispatcher({ disableAfterMs: 300 });
    await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '1000.00',
      annual_rate_percent: '1',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    await until(() => watcher.calls.length === 2, 'two endpoints disabled');
    expect(gone.calls).toHaveLength(1);
    const notices = watcher.calls.map(expectDocumentedPayload);
    expect(notices.map((notice) => notice.data.id).sort()).toEqual(
      [goneEndpoint.id, brokenEndpoint.id].sort(),
    );
    const goneNow = await desk.api.get(`/v1/webhook-endpoints/${goneEndpoint.id}`);
    expect(goneNow.body).toMatchObject({
      enabled: false,
      disabled_reason: 'the endpoint answered 410 Gone',
    });
    const brokenNow = await desk.api.get(`/v1/webhook-endpoints/${brokenEndpoint.id}`);
    expect(brokenNow.body.enabled).toBe(false);
    expect(brokenNow.body.disabled_reason).toMatch(/^every attempt failed since /);
    const attempts = broken.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(broken.calls).toHaveLength(attempts); // nothing more goes to a disabled endpoint
    expect(watcher.calls).toHaveLength(2); // and the fund is told once about each
    const reenabled = await desk.api.patch(`/v1/webhook-endpoints/${brokenEndpoint.id}`, {
      enabled: true,
    });
    expect(reenabled.body).toMatchObject({
      enabled: true,
      disabled_reason: null,
      failing_since: null,
    });
  });
});
