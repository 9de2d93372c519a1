/**
 * The evaluation report (issue 15 item 4) through the API: leverage recorded on loans (POST and
 * PATCH /v1/loans), the QPV flag on structures, impact snapshots, then POST /v1/reports with
 * `type: evaluation`, computed by the reports' job, JSON and CSV with their SHA-256. Every figure of
 * a hand-built portfolio is worked out by hand below.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { hashSecret } from '../../src/http/auth';
import { startWorkers } from '../../workers/start';
import { isolatedDatabase } from '../support/db';
import { until } from '../support/until';
import fc from 'fast-check';
import { evaluationIndicators } from '../../src/evaluation/evaluation-indicators';
import { rowToEvaluatedLoan } from '../../src/evaluation/evaluation.repository';
import type { Db } from '../../src/db/connect';
import { canonicalJson } from '../../src/domain/canonical-json';
import { computeReport } from '../../src/reports/compute-report';
import { ADMIN_KEY, testApp } from '../support/app';
import { testDb } from '../support/db';
import { as, createKey, createStructure, fundWithManager } from '../support/portfolio';
import { disbursedLoan, servicingDesk, type Desk } from '../support/servicing';

let app: Express;
let db: Db;
beforeAll(async () => {
  app = await testApp();
  db = await testDb();
});

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const snapshot = (
  desk: Desk,
  structureId: string,
  snapshot_date: string,
  still_active: boolean,
  jobs_created: string,
  jobs_maintained: string,
) =>
  desk.api
    .post(`/v1/structures/${structureId}/impact-snapshots`, {
      snapshot_date,
      jobs_fte: '10',
      jobs_created,
      jobs_maintained,
      still_active,
    })
    .then((res) => {
      if (res.status !== 201)
        throw new Error(`snapshot: ${res.status} ${JSON.stringify(res.body)}`);
    });

/**
 * S1 (Q, 69, QPV): 10,000.00 on 2022-03-15 with 20,000.00 of bank loans and 5,000.00 of grants; active every year.
 * S2 (I, 01): 5,000.00 on 2022-06-01, a 2,500.00 grant recorded later by PATCH; active at one year, ceased by two.
 * S3 (Q, 69): 4,000.00 on 2023-02-01 and 1,000.00 on 2024-02-01; one snapshot, five months in.
 * S4 (A, 69, QPV): 2,000.00 on 2024-09-01; one snapshot before it, which counts for nothing.
 */
async function portfolio() {
  const desk = await servicingDesk(app, 'common_law', { structure: { qpv: true } });
  const s1 = desk.structure;
  const at = async (overrides: Record<string, unknown>) => ({
    ...desk,
    structure: await createStructure(app, desk.fund.id, desk.manager.secret, overrides),
  });
  const s2 = await at({ naf_code: '56.10A', commune_code: '01053', department_code: '01' });
  const s3 = await at({ naf_code: '88.10A', commune_code: '69266' });
  const s4 = await at({ naf_code: '01.11Z', qpv: true });
  expect(s4.structure).toMatchObject({ qpv: true });
  const l1 = await disbursedLoan(desk, {
    disbursement_date: '2022-03-15',
    leverage_bank_loans: '20000',
    leverage_grants: '5000.00',
  } as never);
  const l2 = await disbursedLoan(s2, { principal: '5000.00', disbursement_date: '2022-06-01' });
  await disbursedLoan(s3, { principal: '4000.00', disbursement_date: '2023-02-01' });
  await disbursedLoan(s3, { principal: '1000.00', disbursement_date: '2024-02-01' });
  await disbursedLoan(s4, { principal: '2000.00', disbursement_date: '2024-09-01' });
  const patched = await as(app, desk.manager.secret).patch(`/v1/loans/${l2.id}`, {
    leverage_grants: '2500',
  });
  expect(patched.status).toBe(200);
  await snapshot(desk, s1.id, '2023-03-01', true, '2', '5');
  await snapshot(desk, s1.id, '2024-03-10', true, '3', '5');
  await snapshot(desk, s1.id, '2025-03-01', true, '4', '5');
  await snapshot(desk, s1.id, '2025-12-31', true, '10', '5'); // after as_of
  await snapshot(desk, s2.structure.id, '2023-05-20', true, '1', '3');
  await snapshot(desk, s2.structure.id, '2024-04-30', false, '0', '0');
  await snapshot(desk, s3.structure.id, '2023-06-30', true, '1.5', '2.25');
  await snapshot(desk, s4.structure.id, '2024-06-30', true, '9', '9'); // before its first disbursement
  return { desk, l1, l2 };
}

let world: Awaited<ReturnType<typeof portfolio>>;
beforeAll(async () => {
  world = await portfolio();
});

describe('leverage on loans', () => {
  test('given at creation, shown on the loan; patched later by the manager, audited; others may not', async () => {
    const { desk, l1, l2 } = world;
    expect((await desk.api.get(`/v1/loans/${l1.id}`)).body).toMatchObject({
      leverage_bank_loans: '20000.00',
      leverage_grants: '5000.00',
    });
    expect((await desk.api.get(`/v1/loans/${l2.id}`)).body).toMatchObject({
      status: 'active',
      principal: '5000.00',
      leverage_bank_loans: '0.00',
      leverage_grants: '2500.00',
    });
    const again = await as(app, desk.manager.secret).patch(`/v1/loans/${l2.id}`, {
      leverage_grants: '2500.00',
      leverage_bank_loans: '0',
    }); // changes nothing
    expect(again.body).toMatchObject({
      id: l2.id,
      leverage_bank_loans: '0.00',
      leverage_grants: '2500.00',
    });
    const audit = await desk.api.get(`/v1/audit-events?fund_id=${desk.fund.id}&limit=200`);
    const events = (
      audit.body.items as { action: string; entity_id: string; state: { changes: unknown } }[]
    ).filter((e) => e.action === 'loan.leverage_updated');
    expect(events.map((e) => [e.entity_id, e.state.changes])).toEqual([
      [l2.id, [{ field: 'leverage_grants', from: '0.00', to: '2500.00' }]],
    ]);

    const auditor = await createKey(app, { role: 'auditor', fund_id: desk.fund.id });
    expect(
      (await as(app, auditor.secret).patch(`/v1/loans/${l2.id}`, { leverage_grants: '1' })).status,
    ).toBe(403);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: desk.structure.id },
      desk.manager.secret,
    );
    expect(
      (await as(app, portal.secret).patch(`/v1/loans/${l1.id}`, { leverage_grants: '1' })).status,
    ).toBe(403);
    const other = await fundWithManager(app);
    expect(
      (await as(app, other.manager.secret).patch(`/v1/loans/${l2.id}`, { leverage_grants: '1' }))
        .status,
    ).toBe(404);
    expect(
      (await as(app, desk.manager.secret).patch(`/v1/loans/${l2.id}`, { leverage_grants: '-1' }))
        .status,
    ).toBe(400);
    expect(
      (await as(app, desk.manager.secret).patch(`/v1/loans/${l2.id}`, { principal: '1.00' }))
        .status,
    ).toBe(400);
    expect((await desk.api.get(`/v1/loans/${l2.id}`)).body.leverage_grants).toBe('2500.00');
  });

  test('the QPV flag is patched on a structure like its other fields', async () => {
    const { desk } = world;
    const s = await createStructure(app, desk.fund.id, desk.manager.secret);
    expect(s).toMatchObject({ qpv: false });
    const res = await as(app, desk.manager.secret).patch(`/v1/structures/${s.id}`, { qpv: true });
    expect(res.status).toBe(200);
    expect(res.body.qpv).toBe(true);
  });
});

const group = (
  key: string,
  loans: number,
  structures: number,
  lent: string,
  qpvLoans: number,
  qpvLent: string,
  qpvShares: [string, string],
  jobs: [string, string],
  per10k: [string, string],
  leverage: string,
) => ({
  key,
  loan_count: loans,
  structure_count: structures,
  lent,
  qpv_loan_count: qpvLoans,
  qpv_lent: qpvLent,
  qpv_loan_share: qpvShares[0],
  qpv_amount_share: qpvShares[1],
  jobs_created: jobs[0],
  jobs_maintained: jobs[1],
  jobs_created_per_10k: per10k[0],
  jobs_maintained_per_10k: per10k[1],
  leverage_ratio: leverage,
});
const horizon = (
  key: string,
  reached: number,
  survived: number,
  ceased: number,
  rate: string | null,
) => ({ key, reached, survived, ceased, unreported: reached - survived - ceased, rate });

describe('the evaluation report', () => {
  test('POST /v1/reports with type evaluation: computed by the job, every figure as worked out by hand, CSV and checksums', async () => {
    const { desk } = world;
    const asked = await desk.api.post('/v1/reports', {
      fund_id: desk.fund.id,
      as_of: '2025-06-30',
      type: 'evaluation',
    });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ type: 'evaluation', status: 'queued', result: null });
    expect(await computeReport(db, asked.body.id, true)).toBe('done');
    const done = await desk.api.get(`/v1/reports/${asked.body.id}`);
    expect(done.body).toMatchObject({ type: 'evaluation', status: 'done' });
    expect(done.body.result).toEqual({
      fund_id: desk.fund.id,
      as_of: '2025-06-30',
      currency: 'EUR',
      loan_count: 5,
      structure_count: 4,
      lent: '22000.00',
      // S1's latest snapshot by D (4 and 5), S2's (0 and 0), S3's (1.5 and 2.25); S4's is older than its loan
      jobs: {
        reporting_structures: 3,
        created: '5.50',
        maintained: '7.25',
        created_per_10k: '2.500000',
        maintained_per_10k: '3.295455',
      }, // 72,500 / 22,000 = 3.29545…
      leverage: { bank_loans: '20000.00', grants: '7500.00', total: '27500.00', ratio: '1.250000' },
      qpv: { loan_count: 2, lent: '12000.00', loan_share: '0.400000', amount_share: '0.545455' }, // 12,000 / 22,000 = 0.545454…
      survival: [
        // S1 active at each horizon; S2 active at one year, ceased (2024-04-30) before two and three
        {
          year: 2022,
          structure_count: 2,
          horizons: [
            horizon('1y', 2, 2, 0, '1.000000'),
            horizon('2y', 2, 1, 1, '0.500000'),
            horizon('3y', 2, 1, 1, '0.500000'),
          ],
        },
        // S3: its 2023-06-30 snapshot answers for one year, is too old for two (2025-02-01 − 1 year), and three years are not reached
        {
          year: 2023,
          structure_count: 1,
          horizons: [
            horizon('1y', 1, 1, 0, '1.000000'),
            horizon('2y', 1, 0, 0, null),
            horizon('3y', 0, 0, 0, null),
          ],
        },
        {
          year: 2024,
          structure_count: 1,
          horizons: [
            horizon('1y', 0, 0, 0, null),
            horizon('2y', 0, 0, 0, null),
            horizon('3y', 0, 0, 0, null),
          ],
        },
      ],
      by_sector: [
        group(
          'A',
          1,
          1,
          '2000.00',
          1,
          '2000.00',
          ['1.000000', '1.000000'],
          ['0.00', '0.00'],
          ['0.000000', '0.000000'],
          '0.000000',
        ),
        group(
          'I',
          1,
          1,
          '5000.00',
          0,
          '0.00',
          ['0.000000', '0.000000'],
          ['0.00', '0.00'],
          ['0.000000', '0.000000'],
          '0.500000',
        ),
        group(
          'Q',
          3,
          2,
          '15000.00',
          1,
          '10000.00',
          ['0.333333', '0.666667'],
          ['5.50', '7.25'],
          ['3.666667', '4.833333'],
          '1.666667',
        ),
      ],
      by_territory: [
        group(
          '01',
          1,
          1,
          '5000.00',
          0,
          '0.00',
          ['0.000000', '0.000000'],
          ['0.00', '0.00'],
          ['0.000000', '0.000000'],
          '0.500000',
        ),
        group(
          '69',
          4,
          3,
          '17000.00',
          2,
          '12000.00',
          ['0.500000', '0.705882'],
          ['5.50', '7.25'],
          ['3.235294', '4.264706'],
          '1.470588',
        ),
      ],
    });
    expect(done.body.sha256).toBe(sha256(canonicalJson(done.body.result)));
    const csv = await desk.api.get(`/v1/reports/${asked.body.id}.csv`);
    expect(csv.status).toBe(200);
    expect(sha256(csv.text)).toBe(done.body.csv_sha256);
    const lines = csv.text.split('\r\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'jobs/maintained_per_10k,3.295455',
        'survival/2022/horizons/2y/rate,0.500000',
        'survival/2023/horizons/2y/rate,',
        'by_territory/69/qpv_amount_share,0.705882',
      ]),
    );
  });

  test('a resilience report is still the default type, and a fund with no loans evaluates to empty figures', async () => {
    const { fund, manager } = await fundWithManager(app);
    const resilience = await as(app, manager.secret).post('/v1/reports', {
      fund_id: fund.id,
      as_of: '2025-06-30',
    });
    expect(resilience.body.type).toBe('resilience');
    const asked = await as(app, manager.secret).post('/v1/reports', {
      fund_id: fund.id,
      as_of: '2025-06-30',
      type: 'evaluation',
    });
    expect(await computeReport(db, asked.body.id, true)).toBe('done');
    const { body } = await as(app, manager.secret).get(`/v1/reports/${asked.body.id}`);
    expect(body.result).toMatchObject({
      loan_count: 0,
      lent: '0.00',
      jobs: { created_per_10k: null },
      leverage: { ratio: null },
      qpv: { loan_share: null },
      survival: [],
      by_sector: [],
    });
    expect(
      (await as(app, manager.secret).post('/v1/reports', { fund_id: fund.id, type: 'impact' }))
        .status,
    ).toBe(400);
  });
});

describe('the evaluation figures (property)', () => {
  const structure = fc.record({
    id: fc.constantFrom('s1', 's2', 's3', 's4', 's5'),
    naf: fc.constantFrom('88.99B', '56.10A', '01.11Z', '94.99Z'),
    dept: fc.constantFrom('01', '69', '2A'),
    qpv: fc.boolean(),
  });
  const loan = fc.record({
    s: structure,
    cents: fc.bigInt({ min: 1n, max: 10n ** 11n }),
    bank: fc.bigInt({ min: 0n, max: 10n ** 11n }),
    day: fc.integer({ min: 0, max: 2000 }),
  });
  const money = (cents: bigint) => `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
  /** part / whole half-up to 6 decimals, in integers. */
  const share = (part: bigint, whole: bigint) => {
    const scaled = (part * 10_000_000n) / whole; // 7 decimals, truncated
    const rounded = (scaled + 5n) / 10n;
    return `${rounded / 1_000_000n}.${String(rounded % 1_000_000n).padStart(6, '0')}`;
  };

  test('groups add up to the totals, to the cent, and every QPV share is the exact quotient rounded half-up', () => {
    fc.assert(
      fc.property(fc.array(loan, { minLength: 1, maxLength: 25 }), (drawn) => {
        // A structure is one record: the first draw of an id fixes its sector, department and flag.
        const first = new Map<string, (typeof drawn)[number]['s']>();
        for (const l of drawn) if (!first.has(l.s.id)) first.set(l.s.id, l.s);
        const loans = drawn
          .map((l) => ({ ...l, s: first.get(l.s.id)! }))
          .map((l) => ({
            ...l,
            date: new Date(Date.UTC(2020, 0, 1) + l.day * 86_400_000).toISOString().slice(0, 10),
          }))
          .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
        const result = evaluationIndicators(
          'f',
          '2025-12-31' as never,
          'EUR',
          loans.map((l) =>
            rowToEvaluatedLoan({
              structure_id: l.s.id,
              principal: money(l.cents),
              disbursed_on: l.date,
              leverage_bank_loans: money(l.bank),
              leverage_grants: '0.00',
              naf_code: l.s.naf,
              department_code: l.s.dept,
              qpv: l.s.qpv,
            }),
          ),
          [],
        );
        const lent = loans.reduce((n, l) => n + l.cents, 0n);
        const qpvLent = loans.filter((l) => l.s.qpv).reduce((n, l) => n + l.cents, 0n);
        expect(result.lent).toBe(money(lent));
        expect(result.qpv.amount_share).toBe(share(qpvLent, lent));
        expect(result.leverage.ratio).toBe(
          share(
            loans.reduce((n, l) => n + l.bank, 0n),
            lent,
          ),
        );
        for (const groups of [result.by_sector, result.by_territory]) {
          expect(groups.reduce((n, g) => n + g.loan_count, 0)).toBe(loans.length);
          expect(money(groups.reduce((n, g) => n + BigInt(g.lent.replace('.', '')), 0n))).toBe(
            result.lent,
          );
          expect(groups.reduce((n, g) => n + g.structure_count, 0)).toBe(first.size);
        }
      }),
    );
  });
});

describe('the evaluation report through the worker', () => {
  test('the request reaches a worker through the outbox and BullMQ (real Redis), which computes the evaluation, not the resilience report', async () => {
    const iso = await isolatedDatabase('evaluation');
    try {
      const own = createApp({
        logger: pino({ level: 'silent' }),
        db: iso.db,
        adminKeyHash: hashSecret(ADMIN_KEY),
      });
      const desk = await servicingDesk(own, 'common_law', { structure: { qpv: true } });
      await disbursedLoan(desk, { principal: '8000.00', disbursement_date: '2023-01-10' });
      await snapshot(desk, desk.structure.id, '2024-01-05', true, '2', '6');
      const posted = await desk.api.post('/v1/reports', {
        fund_id: desk.fund.id,
        as_of: '2025-06-30',
        type: 'evaluation',
      });
      expect(posted.status).toBe(202);
      const workers = await startWorkers({
        db: iso.db,
        redisUrl: 'redis://127.0.0.1:6379',
        logger: pino({ level: 'silent' }),
        reminders: loadConfig({}).reminders,
        queuePrefix: `test-evaluation-${randomUUID()}`,
        relayIntervalMs: 50,
      });
      try {
        await until(
          async () => (await desk.api.get(posted.headers.location!)).body.status === 'done',
          'the evaluation to be done',
        );
      } finally {
        await workers.close();
      }
      const { body } = await desk.api.get(posted.headers.location!);
      expect(body.result).toMatchObject({
        loan_count: 1,
        lent: '8000.00',
        qpv: { loan_share: '1.000000', amount_share: '1.000000' },
        jobs: {
          created: '2.00',
          maintained: '6.00',
          created_per_10k: '2.500000',
          maintained_per_10k: '7.500000',
        }, // 20,000 / 8,000 and 60,000 / 8,000
        survival: [
          {
            year: 2023,
            structure_count: 1,
            horizons: [
              { key: '1y', reached: 1, survived: 1, ceased: 0, unreported: 0, rate: '1.000000' }, // 2024-01-05 ≤ 2024-01-10
              { key: '2y', reached: 1, survived: 0, ceased: 0, unreported: 1, rate: null }, // nothing after 2024-01-10
              { key: '3y', reached: 0, survived: 0, ceased: 0, unreported: 0, rate: null },
            ],
          },
        ],
      });
      expect(body.result).not.toHaveProperty('ageing');
    } finally {
      await iso.drop();
    }
  });
});
