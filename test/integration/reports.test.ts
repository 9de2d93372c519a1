/**
 * Resilience reports through the API (DOMAIN.md "Resilience reporting"; issue 5): POST answers 202
 * with a Location; the request reaches a worker through the outbox and BullMQ (real Redis); GET
 * shows the status, then the result, whose SHA-256 anyone can recompute; the CSV says the same as
 * the JSON, figure for figure; a done report cannot be changed, even in SQL. The indicators
 * themselves are checked by hand in report-indicators.test.ts. On a database of this file's own:
 * its workers process every job they find.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { sql } from 'kysely';
import pino from 'pino';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Db } from '../../src/db/connect';
import { canonicalJson } from '../../src/domain/canonical-json';
import type { CalendarDate } from '../../src/domain/dates';
import { hashSecret } from '../../src/http/auth';
import { computeReport } from '../../src/reports/compute-report';
import { endOfPreviousMonth } from '../../src/reports/monthly-reports.job';
import { computeReportIndicators } from '../../src/reports/report-indicators';
import {
  createScheduledReports,
  requeueStalledReports,
} from '../../src/reports/reports.repository';
import { startWorkers } from '../../workers/start';
import { ADMIN_KEY } from '../support/app';
import { expectContract } from '../support/contract';
import { isolatedDatabase } from '../support/db';
import { until } from '../support/until';
import { as, createKey, fieldsOf } from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;

beforeAll(async () => {
  iso = await isolatedDatabase('reports');
  db = iso.db;
  app = createApp({ logger: pino({ level: 'silent' }), db, adminKeyHash: hashSecret(ADMIN_KEY) });
});

afterAll(async () => {
  await iso.drop();
});

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A fund with three loans: one on time, one a few months late, one repaid early. */
async function portfolio(): Promise<Desk> {
  const desk = await servicingDesk(app);
  const onTime = await disbursedLoan(desk);
  const late = await disbursedLoan(desk, { principal: '5000.00' });
  const repaid = await disbursedLoan(desk, { principal: '2000.00' });
  const schedule = await desk.api.get(`/v1/loans/${onTime.id}/schedule`);
  for (const [k, row] of (schedule.body.instalments as { due_date: string; total: string }[])
    .slice(0, 5)
    .entries()) {
    expect(
      (
        await repay(
          desk,
          onTime.id,
          { amount: row.total, value_date: row.due_date },
          `on-time-${k}-${onTime.id}`,
        )
      ).status,
    ).toBe(201);
  }
  expect((await repay(desk, late.id, { amount: '444.24', value_date: '2025-02-15' })).status).toBe(
    201,
  );
  expect(
    (await repay(desk, repaid.id, { amount: '2100.00', value_date: '2025-03-01' })).status,
  ).toBe(201);
  return desk;
}

/** The figure at a CSV indicator's path in the JSON result: list items are named by key, year or month. */
function figureAt(result: unknown, path: string): unknown {
  let node: unknown = result;
  for (const name of path
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))) {
    if (Array.isArray(node)) {
      node = node.find(
        (item: Record<string, unknown>) => String(item.key ?? item.year ?? item.month) === name,
      );
    } else {
      node = (node as Record<string, unknown> | undefined)?.[name];
    }
  }
  return node;
}

/** The figures' paths, in the order of the JSON's members. */
function pathsInOrder(node: unknown, path = ''): string[] {
  const join = (name: string) => (path === '' ? name : `${path}/${name}`);
  if (Array.isArray(node)) {
    return node.flatMap((item: Record<string, unknown>) => {
      const name = ['key', 'year', 'month'].find((k) => k in item)!;
      const { [name]: named, ...rest } = item;
      return pathsInOrder(rest, join(String(named)));
    });
  }
  if (node !== null && typeof node === 'object')
    return Object.entries(node).flatMap(([key, value]) => pathsInOrder(value, join(key)));
  return [path];
}

/** RFC 4180 fields of one line (quoted fields may hold commas and doubled quotes). */
const csvFields = (line: string) =>
  [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) =>
    m[1]!.replace(/^"(.*)"$/s, '$1').replaceAll('""', '"'),
  );

describe('a report asked for through the API, computed by a worker on BullMQ', () => {
  it('202 with a Location; then done, with the result, its SHA-256 and a CSV that says the same, figure for figure', async () => {
    const desk = await portfolio();
    const posted = await desk.api.post('/v1/reports', {
      fund_id: desk.fund.id,
      as_of: '2025-06-30',
    });
    expectContract(posted, 'post', '/v1/reports');
    expect(posted.status).toBe(202);
    expect(posted.headers.location).toBe(`/v1/reports/${posted.body.id}`);
    expect(posted.body).toMatchObject({
      fund_id: desk.fund.id,
      as_of: '2025-06-30',
      trigger: 'request',
      status: 'queued',
      progress: 0,
      result: null,
      sha256: null,
      csv_url: null,
    });

    const waiting = await desk.api.get(posted.headers.location!);
    expect(waiting.body.status).toBe('queued'); // no worker yet: the job waits in the outbox
    expect(waiting.headers['retry-after']).toBe('2');
    const early = await desk.api.get(`${posted.headers.location}.csv`);
    expect(early.status).toBe(409);
    expect(early.headers['content-type']).toMatch(/^application\/problem\+json/);

    const workers = await startWorkers({
      db,
      redisUrl: 'redis://127.0.0.1:6379',
      logger: pino({ level: 'silent' }),
      reminders: loadConfig({}).reminders,
      queuePrefix: `test-reports-${randomUUID()}`,
      relayIntervalMs: 50,
    });
    try {
      await until(
        async () => (await desk.api.get(posted.headers.location!)).body.status === 'done',
        'the report to be done',
      );
    } finally {
      await workers.close();
    }

    const auditor = await createKey(app, { role: 'auditor', fund_id: desk.fund.id });
    const done = await as(app, auditor.secret).get(posted.headers.location!);
    expectContract(done, 'get', '/v1/reports/{report_id}');
    expect(done.body).toMatchObject({
      status: 'done',
      progress: 100,
      attempts: 1,
      error: null,
      csv_url: `/v1/reports/${posted.body.id}.csv`,
    });
    expect(done.headers['retry-after']).toBeUndefined();
    // The result is the fund's indicators as of the date, and its checksum is that of its canonical JSON.
    expect(done.body.result).toEqual(
      await computeReportIndicators(db, desk.fund.id, '2025-06-30' as CalendarDate),
    );
    expect(done.body.sha256).toBe(sha256(canonicalJson(done.body.result)));

    const csv = await as(app, auditor.secret).get(`/v1/reports/${posted.body.id}.csv`);
    expectContract(csv, 'get', '/v1/reports/{report_id}.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(sha256(csv.text)).toBe(done.body.csv_sha256);
    expect(csv.headers['repr-digest']).toBe(
      `sha-256=:${Buffer.from(done.body.csv_sha256, 'hex').toString('base64')}:`,
    );
    const [header, ...lines] = csv.text.split('\r\n').filter((line) => line !== '');
    expect(header).toBe('indicator,value');
    // One line per figure, in the JSON's order, as GET gives it.
    expect(lines.map((line) => csvFields(line)[0])).toEqual(pathsInOrder(done.body.result));
    const disagreeing = lines.map(csvFields).filter(([path, value]) => {
      const figure = figureAt(done.body.result, path!);
      return figure === undefined || (figure === null ? '' : String(figure)) !== value;
    });
    expect(disagreeing).toEqual([]);

    // Structures do not see reports.
    const structureKey = await createKey(app, {
      role: 'structure',
      structure_id: desk.structure.id,
    });
    expect((await as(app, structureKey.secret).get(posted.headers.location!)).status).toBe(404);
    expect((await as(app, structureKey.secret).get('/v1/reports')).status).toBe(404);
    const listed = await as(app, auditor.secret).get(`/v1/reports?status=done&as_of=2025-06-30`);
    expectContract(listed, 'get', '/v1/reports');
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([posted.body.id]);
  });
});

describe('reports', () => {
  it('a done report is immutable: PostgreSQL refuses to change or delete it', async () => {
    const desk = await servicingDesk(app);
    const posted = await desk.api.post('/v1/reports', {
      fund_id: desk.fund.id,
      as_of: '2025-01-31',
    });
    expect(await computeReport(db, posted.body.id, true)).toBe('done');
    expect(await computeReport(db, posted.body.id, true)).toBe('done already');
    await expect(
      sql`UPDATE reports SET result = '{}'::jsonb WHERE id = ${posted.body.id}::uuid`.execute(db),
    ).rejects.toThrow(/immutable/);
    await expect(
      sql`UPDATE reports SET status = 'queued' WHERE id = ${posted.body.id}::uuid`.execute(db),
    ).rejects.toThrow(/immutable/);
    await expect(
      sql`DELETE FROM reports WHERE id = ${posted.body.id}::uuid`.execute(db),
    ).rejects.toThrow(/never deleted/);
  });

  it('refuses a date to come (422), an unknown fund (404) and unknown fields (400), writing nothing', async () => {
    const desk = await servicingDesk(app);
    const before = (await desk.api.get('/v1/reports')).body.items.length as number;
    const future = await desk.api.post('/v1/reports', {
      fund_id: desk.fund.id,
      as_of: '2999-01-01',
    });
    expect(future.status).toBe(422);
    expect(fieldsOf(future)).toEqual(['as_of']);
    const unknown = await as(app, ADMIN_KEY).post('/v1/reports', {
      fund_id: randomUUID(),
      as_of: '2025-01-31',
    });
    expect(unknown.status).toBe(404);
    expect(fieldsOf(unknown)).toEqual(['fund_id']);
    const extra = await desk.api.post('/v1/reports', {
      fund_id: desk.fund.id,
      as_of: '2025-01-31',
      format: 'pdf',
    });
    expect(extra.status).toBe(400);
    expect((await desk.api.get('/v1/reports')).body.items).toHaveLength(before);
  });

  it('a report no worker finished gets a new job an hour on, and is given up after a day', async () => {
    const desk = await servicingDesk(app);
    const lost = await desk.api.post('/v1/reports', { fund_id: desk.fund.id, as_of: '2025-01-31' });
    const abandoned = await desk.api.post('/v1/reports', {
      fund_id: desk.fund.id,
      as_of: '2025-02-28',
    });
    expect(await requeueStalledReports(db)).toMatchObject({ queued: 0 }); // asked for just now: its job may still come
    await sql`UPDATE reports SET created_at = now() - interval '2 hours' WHERE id = ${lost.body.id}::uuid`.execute(
      db,
    );
    await sql`UPDATE reports SET status = 'running', attempts = 2, started_at = now() - interval '2 hours', created_at = now() - interval '2 days'
      WHERE id = ${abandoned.body.id}::uuid`.execute(db);
    expect(await requeueStalledReports(db)).toEqual({ queued: 1, failed: 1 });
    expect(await requeueStalledReports(db)).toEqual({ queued: 0, failed: 0 }); // one job an hour
    const { rows } = await sql<{
      job_id: string;
    }>`SELECT job_id FROM outbox WHERE payload->>'report_id' = ${lost.body.id}`.execute(db);
    expect(rows.map((r) => r.job_id)).toEqual([
      `report-${lost.body.id}`,
      expect.stringMatching(new RegExp(`^report-${lost.body.id}-\\d{10}$`)),
    ]);
    const given = await desk.api.get(`/v1/reports/${abandoned.body.id}`);
    expect(given.body).toMatchObject({
      status: 'failed',
      error: 'no worker finished it after 2 attempts',
    });
    expect(given.headers['retry-after']).toBeUndefined();
  });

  it('the monthly schedule makes each fund’s report as of the end of the last month, once however often it runs', async () => {
    expect(endOfPreviousMonth('2026-01-01' as CalendarDate)).toBe('2025-12-31');
    expect(endOfPreviousMonth('2024-03-01' as CalendarDate)).toBe('2024-02-29');
    expect(endOfPreviousMonth('2025-07-15' as CalendarDate)).toBe('2025-06-30');
    const funds = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM funds`.execute(db))
      .rows[0]!.n;
    expect(await createScheduledReports(db, '2025-04-30' as CalendarDate)).toBe(funds);
    expect(await createScheduledReports(db, '2025-04-30' as CalendarDate)).toBe(0);
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM outbox WHERE job_id IN (SELECT 'report-' || id FROM reports WHERE trigger = 'schedule' AND as_of = '2025-04-30')`.execute(
      db,
    );
    expect(rows[0]!.n).toBe(funds);
  });
});
