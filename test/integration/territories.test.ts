/**
 * Territories through the API (issue 15 item 5): a fund's loans summed per commune, EPCI,
 * department and region of their structures, with the official codes and names of
 * @etalab/decoupage-administratif; an arrondissement of Lyon or Paris folded into its commune; a
 * commune code the dataset does not know kept apart, as recorded; JSON and CSV saying the same.
 */
import type { Express } from 'express';
import fc from 'fast-check';
import { ExactDecimal } from '../../src/domain/exact-decimal';
import { formatMoney, type Money } from '../../src/domain/money';
import { divisions, LEVELS } from '../../src/territories/divisions';
import { rollUp } from '../../src/territories/get-territories';
import { rowToCommuneFigures } from '../../src/territories/territories.repository';
import { ADMIN_KEY, testApp } from '../support/app';
import { as, createKey, createStructure, fundWithManager } from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

interface Item {
  code: string;
  name: string | null;
  status: string;
  loan_count: number;
  disbursed_principal: string;
  outstanding_principal: string;
  jobs_fte: string;
  structure_count: number;
}

/** Structures around Lyon, in Bourg-en-Bresse, Paris, on an island with no EPCI, and at a code nobody knows; seven loans counted as of 2025-03-01. */
async function portfolio(): Promise<Desk> {
  const desk = await servicingDesk(app, 'common_law', {
    structure: { commune_code: '69381', jobs_fte: '12.5' },
  }); // Lyon 1er arrondissement
  const at = async (
    commune_code: string,
    department_code: string,
    region_code: string,
    jobs_fte: string,
  ) => ({
    ...desk,
    structure: await createStructure(app, desk.fund.id, desk.manager.secret, {
      commune_code,
      department_code,
      region_code,
      jobs_fte,
    }),
  });
  const first = await disbursedLoan(desk); // 10,000.00 from 2025-01-15: its first instalment repays 788.49 of principal
  expect((await repay(desk, first.id, { amount: '888.49', value_date: '2025-02-15' })).status).toBe(
    201,
  );
  const lyon = await at('69123', '69', '84', '3');
  await disbursedLoan(lyon, { principal: '5000.00' });
  await disbursedLoan(lyon, { principal: '2000.00', disbursement_date: '2025-06-02' }); // paid out after as_of: not counted
  expect(
    (
      await lyon.api.post('/v1/loans', {
        // pending: not counted
        product_id: desk.product.id,
        structure_id: lyon.structure.id,
        principal: '900.00',
        annual_rate_percent: '1',
        periodicity: 'monthly',
        term_periods: 12,
        method: 'annuity',
        disbursement_date: '2025-02-01',
      })
    ).status,
  ).toBe(201);
  await disbursedLoan(await at('69266', '69', '84', '7.25'), {
    principal: '4000.00',
    disbursement_date: '2025-02-01',
  }); // Villeurbanne
  await disbursedLoan(await at('01053', '01', '84', '1'), {
    principal: '3000.00',
    disbursement_date: '2025-02-01',
  }); // Bourg-en-Bresse
  await disbursedLoan(await at('69999', '69', '84', '2'), {
    principal: '1500.00',
    disbursement_date: '2025-02-01',
  }); // no such commune
  await disbursedLoan(await at('22016', '22', '53', '0.5'), {
    principal: '1000.00',
    disbursement_date: '2025-02-01',
  }); // Île-de-Bréhat: in no EPCI
  await disbursedLoan(await at('75101', '75', '11', '4'), {
    principal: '2500.00',
    disbursement_date: '2025-02-01',
  }); // Paris 1er arrondissement
  return desk;
}

let desk: Desk;
beforeAll(async () => {
  desk = await portfolio();
});

const row = (
  code: string,
  name: string | null,
  status: string,
  loans: number,
  disbursed: string,
  outstanding: string,
  jobs: string,
  structures: number,
): Item => ({
  code,
  name,
  status,
  loan_count: loans,
  disbursed_principal: disbursed,
  outstanding_principal: outstanding,
  jobs_fte: jobs,
  structure_count: structures,
});

/** The structure at 69999, a code no commune ever had: the same row at every level. */
const UNKNOWN = row('69999', null, 'unknown_commune', 1, '1500.00', '1500.00', '2.00', 1);

const territories = (level: string, key = desk.manager.secret) =>
  as(app, key).get(`/v1/funds/${desk.fund.id}/territories?level=${level}&as_of=2025-03-01`);

describe('GET /v1/funds/{id}/territories', () => {
  test('per commune: arrondissements in their commune, official names, the unknown code as recorded, after the official ones', async () => {
    const res = await territories('commune');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      fund_id: desk.fund.id,
      level: 'commune',
      as_of: '2025-03-01',
      currency: 'EUR',
      items: [
        row('01053', 'Bourg-en-Bresse', 'official', 1, '3000.00', '3000.00', '1.00', 1),
        row('22016', 'Île-de-Bréhat', 'official', 1, '1000.00', '1000.00', '0.50', 1),
        row('69123', 'Lyon', 'official', 2, '15000.00', '14211.51', '15.50', 2), // 69381 and 69123; 10,000 − 788.49 + 5,000
        row('69266', 'Villeurbanne', 'official', 1, '4000.00', '4000.00', '7.25', 1),
        row('75056', 'Paris', 'official', 1, '2500.00', '2500.00', '4.00', 1),
        UNKNOWN,
      ],
    });
  });

  test('per EPCI: Lyon and Villeurbanne in the Métropole de Lyon; the island in no EPCI is a row of its own', async () => {
    const res = await territories('epci');
    expect(res.body.items).toEqual([
      row('200046977', 'Métropole de Lyon', 'official', 3, '19000.00', '18211.51', '22.75', 3),
      row('200054781', 'Métropole du Grand Paris', 'official', 1, '2500.00', '2500.00', '4.00', 1),
      row(
        '200071751',
        'CA du Bassin de Bourg-en-Bresse',
        'official',
        1,
        '3000.00',
        '3000.00',
        '1.00',
        1,
      ),
      row('22016', 'Île-de-Bréhat', 'no_epci', 1, '1000.00', '1000.00', '0.50', 1),
      UNKNOWN,
    ]);
  });

  test('per department (the default level) and per region: every row adds up to the fund', async () => {
    const departments = await as(app, desk.manager.secret).get(
      `/v1/funds/${desk.fund.id}/territories?as_of=2025-03-01`,
    );
    expect(departments.body.level).toBe('department');
    expect(departments.body.items).toEqual([
      row('01', 'Ain', 'official', 1, '3000.00', '3000.00', '1.00', 1),
      row('22', "Côtes-d'Armor", 'official', 1, '1000.00', '1000.00', '0.50', 1),
      row('69', 'Rhône', 'official', 3, '19000.00', '18211.51', '22.75', 3),
      row('75', 'Paris', 'official', 1, '2500.00', '2500.00', '4.00', 1),
      UNKNOWN,
    ]);
    const regions = await territories('region');
    expect(regions.body.items).toEqual([
      row('11', 'Île-de-France', 'official', 1, '2500.00', '2500.00', '4.00', 1),
      row('53', 'Bretagne', 'official', 1, '1000.00', '1000.00', '0.50', 1),
      row('84', 'Auvergne-Rhône-Alpes', 'official', 4, '22000.00', '21211.51', '23.75', 4),
      UNKNOWN,
    ]);
    const loans = (regions.body.items as Item[]).reduce((sum, item) => sum + item.loan_count, 0);
    expect(loans).toBe(7);
  });

  test('as of an earlier date: only the loans paid out by then, with what they owed then', async () => {
    const res = await as(app, desk.manager.secret).get(
      `/v1/funds/${desk.fund.id}/territories?level=commune&as_of=2025-01-31`,
    );
    expect(res.body.items).toEqual([
      row('69123', 'Lyon', 'official', 2, '15000.00', '15000.00', '15.50', 2),
    ]);
  });

  test('the CSV has the same rows, code first (the key to the boundaries), the unknown name empty', async () => {
    const res = await as(app, desk.manager.secret).get(
      `/v1/funds/${desk.fund.id}/territories.csv?level=epci&as_of=2025-03-01`,
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.text).toBe(
      [
        'code,name,status,loan_count,disbursed_principal,outstanding_principal,jobs_fte,structure_count',
        '200046977,Métropole de Lyon,official,3,19000.00,18211.51,22.75,3',
        '200054781,Métropole du Grand Paris,official,1,2500.00,2500.00,4.00,1',
        '200071751,CA du Bassin de Bourg-en-Bresse,official,1,3000.00,3000.00,1.00,1',
        '22016,Île-de-Bréhat,no_epci,1,1000.00,1000.00,0.50,1',
        '69999,,unknown_commune,1,1500.00,1500.00,2.00,1',
        '',
      ].join('\r\n'),
    );
  });

  test("who: the admin and the fund's auditor read it; a structure key, another fund's manager and an unknown fund get 404", async () => {
    const auditor = await createKey(app, { role: 'auditor', fund_id: desk.fund.id });
    expect((await territories('region', auditor.secret)).body.items).toHaveLength(4);
    const structureKey = await createKey(
      app,
      { role: 'structure', structure_id: desk.structure.id },
      desk.manager.secret,
    );
    expect((await territories('region', structureKey.secret)).status).toBe(404);
    expect(
      (await as(app, structureKey.secret).get(`/v1/funds/${desk.fund.id}/territories.csv`)).status,
    ).toBe(404);
    const other = await fundWithManager(app);
    expect((await territories('region', other.manager.secret)).status).toBe(404);
    expect(
      (
        await as(app, desk.manager.secret).get(
          '/v1/funds/0190a000-0000-7000-8000-000000000000/territories',
        )
      ).status,
    ).toBe(404);
    expect(
      (await as(app, desk.manager.secret).get(`/v1/funds/${desk.fund.id}/territories?level=canton`))
        .status,
    ).toBe(400);
  });

  test("a former commune code counts in the commune nouvelle that holds it; Marseille's arrondissements in Marseille; the admin reads it", async () => {
    const other = await servicingDesk(app, 'common_law', {
      structure: {
        commune_code: '01039',
        department_code: '01',
        region_code: '84',
        jobs_fte: '1.5',
      },
    }); // Béon, now in Culoz-Béon
    await disbursedLoan(other, { principal: '1200.00' });
    const marseille = {
      ...other,
      structure: await createStructure(app, other.fund.id, other.manager.secret, {
        commune_code: '13201',
        department_code: '13',
        region_code: '93',
        jobs_fte: '2',
      }),
    };
    await disbursedLoan(marseille, { principal: '800.00' });
    const res = await as(app, ADMIN_KEY).get(
      `/v1/funds/${other.fund.id}/territories?level=commune&as_of=2025-01-31`,
    );
    expect(res.body.items).toEqual([
      row('01138', 'Culoz-Béon', 'official', 1, '1200.00', '1200.00', '1.50', 1),
      row('13055', 'Marseille', 'official', 1, '800.00', '800.00', '2.00', 1),
    ]);
  });

  test('a fund that lent nothing has no rows', async () => {
    const { fund, manager } = await fundWithManager(app);
    const res = await as(app, manager.secret).get(`/v1/funds/${fund.id}/territories?level=epci`);
    expect(res.body.items).toEqual([]);
  });
});

describe('rolling communes up (property)', () => {
  const CODES = [
    '69381',
    '69123',
    '69266',
    '01053',
    '01039',
    '22016',
    '75101',
    '75056',
    '13201',
    '69999',
    '14999',
    '2A004',
  ];
  const figures = fc.uniqueArray(
    fc.record({
      commune_code: fc.constantFrom(...CODES),
      structure_count: fc.integer({ min: 1, max: 5 }),
      loan_count: fc.integer({ min: 1, max: 9 }),
      disbursed: fc.bigInt({ min: 1n, max: 10n ** 12n }),
      outstanding: fc.bigInt({ min: 0n, max: 10n ** 12n }),
      jobs_fte: fc.bigInt({ min: 0n, max: 10n ** 6n }),
    }),
    { selector: (row) => row.commune_code, maxLength: CODES.length },
  );

  test('at every level, the rows add up to the fund, to the cent, and each territory appears once', () => {
    const { place } = divisions();
    fc.assert(
      fc.property(figures, (rows) => {
        const figures = rows.map((r) =>
          rowToCommuneFigures({
            ...r,
            disbursed: formatMoney(r.disbursed as Money),
            outstanding: formatMoney(r.outstanding as Money),
            jobs_fte: formatMoney(r.jobs_fte as Money), // hundredths of an FTE, printed as cents are
          }),
        );
        const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
        for (const level of LEVELS) {
          const territories = rollUp(figures, level, place);
          expect(sum(territories.map((t) => t.disbursed))).toBe(sum(rows.map((r) => r.disbursed)));
          expect(sum(territories.map((t) => t.outstanding))).toBe(
            sum(rows.map((r) => r.outstanding)),
          );
          const jobs = territories.reduce((a, t) => a.plus(t.jobsFte), new ExactDecimal(0));
          expect(jobs.times(100).toFixed()).toBe(sum(rows.map((r) => r.jobs_fte)).toString());
          expect(territories.reduce((n, t) => n + t.loanCount, 0)).toBe(
            rows.reduce((n, r) => n + r.loan_count, 0),
          );
          expect(new Set(territories.map((t) => `${t.status}:${t.code}`)).size).toBe(
            territories.length,
          );
        }
      }),
    );
  });
});
