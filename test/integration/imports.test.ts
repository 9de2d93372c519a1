/**
 * CSV imports, the dry run (docs/imports.md; issue 14, item 1): the same portfolio written in English
 * and in French spreadsheet conventions gives the same report; every kind of error is reported by
 * file, line and column in the API's words; a re-import finds what the fund already has; nothing is
 * ever written; only the fund's manager (and the admin) may check an import.
 */
import type { Express } from 'express';
import { sql } from 'kysely';
import { ADMIN_KEY, testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  breakCheckDigit,
  createKey,
  createProduct,
  createStructure,
  fundWithManager,
  randomSiret,
  type CreatedKey,
  type Fund,
  type Product,
} from '../support/portfolio';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

interface Lender {
  fund: Fund;
  manager: CreatedKey;
  product: Product;
}

async function lender(): Promise<Lender> {
  const { fund, manager } = await fundWithManager(app);
  return { fund, manager, product: await createProduct(app, fund.id, manager.secret) };
}

const dryRun = (key: string, body: Record<string, unknown>) =>
  as(app, key).post('/v1/imports', body);

/** What the fund holds, and the audit trail and outbox: a dry run changes none of it. */
async function footprint(fundId: string) {
  const { rows } = await sql<{ n: string }>`
    SELECT (SELECT count(*) FROM structures WHERE fund_id = ${fundId}::uuid)
         + (SELECT count(*) FROM loans WHERE fund_id = ${fundId}::uuid)
         + (SELECT count(*) FROM repayments r JOIN loans l ON l.id = r.loan_id WHERE l.fund_id = ${fundId}::uuid)
         + (SELECT count(*) FROM audit_events WHERE fund_id = ${fundId}::uuid)
         + (SELECT count(*) FROM events WHERE fund_id = ${fundId}::uuid) AS n`.execute(
    await testDb(),
  );
  return rows[0]!.n;
}

/**
 * Two structures (an association with a SIRET, one with only an RNA number), a loan each, and three
 * repayments, in English conventions (`,`, decimal point, ISO dates) and in French ones (`;`, BOM,
 * decimal comma, spaces between thousands, day-first dates, `%`, `€`, French headers).
 */
function portfolio(productId: string, siret: string, rna: string) {
  const english = {
    structures: [
      'legal_name,siret,rna,legal_form,esus,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email',
      `Les Jardins du Lac,${siret},,association,true,88.99B,69123,69,84,12.5,contact@example.org`,
      `"Repair Café, Lyon",,${rna},association,false,9499Z,69123,69,84,0.5,cafe@example.org`,
    ].join('\r\n'),
    loans: [
      'external_reference,structure_siret,structure_rna,product_id,principal,annual_rate_percent,periodicity,term_periods,method,disbursement_date',
      `PRET-1,${siret},,${productId},12500.00,3.5,monthly,36,annuity,2025-01-31`,
      `PRET-2,,${rna},${productId},5000,0,monthly,12,linear,2025-01-15`,
    ].join('\r\n'),
    repayments: [
      'loan_external_reference,value_date,amount,reference,prepayment',
      'PRET-1,2025-02-28,366.28,VIR 2025-02,',
      'PRET-1,2025-03-31,1250.50,VIR 2025-03,reduce_term',
      'PRET-2,2025-02-15,416.67,CHQ 0001,',
    ].join('\n'),
  };
  const french = {
    structures: [
      '\uFEFFraison_sociale;siret;rna;forme_juridique;esus;code_naf;code_commune;code_departement;code_region;etp;email',
      `Les Jardins du Lac;${siret};;association;oui;88.99B;69123;69;84;12,5;contact@example.org`,
      `Repair Café, Lyon;;${rna};association;non;9499Z;69123;69;84;0,5;cafe@example.org`,
    ].join('\r\n'),
    loans: [
      '\uFEFFreference_pret;siret;rna;produit;capital;taux;periodicite;duree;methode;date_decaissement',
      `PRET-1;${siret};;${productId};12\u202F500,00 €;3,5 %;monthly;36;annuity;31/01/2025`,
      `PRET-2;;${rna};${productId};5 000;0;monthly;12;linear;15/01/2025`,
    ].join('\r\n'),
    repayments: [
      '\uFEFFRéférence prêt;Date valeur;Montant;Libellé;remboursement_anticipe',
      'PRET-1;28/02/2025;366,28;VIR 2025-02;',
      'PRET-1;31/03/2025;1\u00A0250,50;VIR 2025-03;reduce_term',
      'PRET-2;15/02/2025;416,67;CHQ 0001;',
    ].join('\r\n'),
  };
  return { english, french };
}

const rna = () => `W${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;

describe('a dry run', () => {
  it('reads the same portfolio alike in English and French conventions, finds it all valid, and writes nothing', async () => {
    const { fund, manager, product } = await lender();
    const { english, french } = portfolio(product.id, randomSiret(), rna());
    const before = await footprint(fund.id);
    const en = await dryRun(manager.secret, { fund_id: fund.id, ...english });
    const fr = await dryRun(manager.secret, { fund_id: fund.id, mode: 'dry_run', ...french });
    expect(en.status).toBe(200);
    expect(en.body).toEqual({
      mode: 'dry_run',
      fund_id: fund.id,
      files: {
        structures: { rows_read: 2, rows_valid: 2, rows_to_create: 2, rows_already_present: 0 },
        loans: { rows_read: 2, rows_valid: 2, rows_to_create: 2, rows_already_present: 0 },
        repayments: { rows_read: 3, rows_valid: 3, rows_to_create: 3, rows_already_present: 0 },
      },
      errors: [],
      errors_not_shown: 0,
    });
    expect(fr.status).toBe(200);
    expect(fr.body).toEqual(en.body);
    expect(await footprint(fund.id)).toBe(before);
  });

  it('reports each error by file, line and column, with the rule the API would answer', async () => {
    const { fund, manager, product } = await lender();
    const other = await lender();
    const siret = randomSiret();
    const badSiret = breakCheckDigit(siret);
    const res = await dryRun(manager.secret, {
      fund_id: fund.id,
      structures: [
        'legal_name,siret,legal_form,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email',
        `Jardins,${siret},association,88.99B,69123,69,84,3,a@example.org`,
        `Jardins bis,${siret},association,88.99B,69123,69,84,3,a@example.org`,
        `Mauvais,${badSiret},association,88.99B,69123,69,84,3,a@example.org`,
        `,${randomSiret()},association,88.99B,69123,69,84,3,a@example.org`,
      ].join('\n'),
      loans: [
        'external_reference,structure_siret,product_id,principal,annual_rate_percent,periodicity,term_periods,method,disbursement_date',
        `P1,${siret},${product.id},10000,3.5,monthly,12,annuity,2025-01-31`,
        `P1,${siret},${product.id},10000,3.5,monthly,12,annuity,2025-01-31`,
        `P3,${randomSiret()},${product.id},10000,3.5,monthly,12,annuity,2025-01-31`,
        `P4,${siret},${product.id},"1,250.50",3.5,monthly,120,annuity,2025-01-31`,
        `P5,${siret},${product.id},10000,3.5,monthly,12,annuity,2999-01-31`,
        `P6,${siret},${other.product.id},10000,3.5,monthly,12,annuity,2025-01-31`,
        `P7,${siret},${product.id},10000,3.5,monthly,120,annuity,2025-01-31`,
      ].join('\n'),
      repayments: [
        'loan_external_reference,value_date,amount',
        'P1,2025-02-28,900.00',
        'P1,2025-01-15,100.00',
        'P1,2025-03-31,50000.00',
        'NOWHERE,2025-02-28,10.00',
        'P1,02/31/2025,10.00',
      ].join('\n'),
    });
    expect(res.status).toBe(200);
    const errors = res.body.errors.map(
      (e: { file: string; row: number; column: string | null; rule: string }) => [
        e.file,
        e.row,
        e.column,
        e.rule,
      ],
    );
    expect(errors).toEqual([
      ['structures', 3, 'siret', 'conflict'],
      ['structures', 4, 'siret', 'rule_violation'],
      ['structures', 5, 'legal_name', 'invalid_request'],
      ['loans', 3, 'external_reference', 'conflict'],
      ['loans', 4, 'structure_siret', 'not_found'],
      ['loans', 5, 'principal', 'invalid_request'],
      ['loans', 6, 'disbursement_date', 'rule_violation'],
      ['loans', 7, 'product_id', 'not_found'],
      ['loans', 8, 'term_periods', 'rule_violation'],
      ['repayments', 3, 'value_date', 'rule_violation'],
      ['repayments', 4, 'amount', 'rule_violation'],
      ['repayments', 5, 'loan_external_reference', 'not_found'],
      ['repayments', 6, 'value_date', 'invalid_request'],
    ]);
    const message = (file: string, row: number) =>
      res.body.errors.find((e: { file: string; row: number }) => e.file === file && e.row === row)
        .message;
    expect(message('structures', 4)).toBe(
      'is not a valid SIRET (14 digits with a valid check digit)',
    );
    expect(message('loans', 5)).toBe(
      'must be an amount: a decimal string with at most 2 decimals and no sign or exponent, e.g. "1250.00"',
    );
    expect(message('loans', 6)).toBe('must not be in the future');
    expect(message('repayments', 3)).toBe('must not be before the disbursement, 2025-01-31');
    expect(res.body.files).toEqual({
      structures: { rows_read: 4, rows_valid: 1, rows_to_create: 1, rows_already_present: 0 },
      loans: { rows_read: 7, rows_valid: 1, rows_to_create: 1, rows_already_present: 0 },
      repayments: { rows_read: 5, rows_valid: 1, rows_to_create: 1, rows_already_present: 0 },
    });
  });

  it('refuses a repayment with the very words the API uses for the same repayment', async () => {
    const { fund, manager, product } = await lender();
    const structure = await createStructure(app, fund.id, manager.secret);
    const api = as(app, manager.secret);
    const terms = {
      principal: '10000.00',
      annual_rate_percent: '3.5',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-31',
    };
    const loan = await api.post('/v1/loans', {
      product_id: product.id,
      structure_id: structure.id,
      ...terms,
    });
    await api.post(`/v1/loans/${loan.body.id}/disbursement`, {
      date: '2025-01-31',
      amount: '10000.00',
    });
    const refused = await api.post(
      `/v1/loans/${loan.body.id}/repayments`,
      { amount: '30000.00', value_date: '2025-02-28' },
      { 'Idempotency-Key': crypto.randomUUID() },
    );
    expect(refused.status).toBe(422);

    const res = await dryRun(manager.secret, {
      fund_id: fund.id,
      loans: `external_reference,structure_siret,product_id,principal,annual_rate_percent,periodicity,term_periods,method,disbursement_date\nX1,${structure.siret},${product.id},10000.00,3.5,monthly,12,annuity,2025-01-31\n`,
      repayments: 'loan_external_reference,value_date,amount\nX1,2025-02-28,30000.00\n',
    });
    expect(res.body.errors).toEqual([
      {
        file: 'repayments',
        row: 2,
        column: 'amount',
        rule: 'rule_violation',
        message: refused.body.errors[0].message,
      },
    ]);
  });

  it('replays each loan’s repayments in value-date order: one after the loan is repaid is a conflict, as through the API', async () => {
    const { fund, manager, product } = await lender();
    const structure = await createStructure(app, fund.id, manager.secret);
    const res = await dryRun(manager.secret, {
      fund_id: fund.id,
      loans: `external_reference,structure_siret,product_id,principal,annual_rate_percent,periodicity,term_periods,method,disbursement_date\nZ,${structure.siret},${product.id},5000.00,0,monthly,12,linear,2025-01-15\n`,
      repayments:
        'loan_external_reference,value_date,amount\nZ,2025-03-15,10.00\nZ,2025-02-15,5000.00\n',
    });
    expect(res.body.errors).toEqual([
      {
        file: 'repayments',
        row: 2,
        column: null,
        rule: 'conflict',
        message: 'The loan is repaid: there is nothing left to repay.',
      },
    ]);
  });

  it('finds what the fund already has: structures by SIRET or RNA, loans by external reference, their recorded repayments', async () => {
    const { fund, manager, product } = await lender();
    const { english } = portfolio(product.id, randomSiret(), rna());
    const siret = /Les Jardins du Lac,(\d{14})/.exec(english.structures)![1]!;
    const association = /,,(W\d{9}),/.exec(english.structures)![1]!;
    const jardins = await createStructure(app, fund.id, manager.secret, { siret });
    await createStructure(app, fund.id, manager.secret, { siret: null, rna: association });
    // PRET-1 entered through the API, with its first repayment, then given its external reference
    // (what the commit of an import will store).
    const api = as(app, manager.secret);
    const loan = await api.post('/v1/loans', {
      product_id: product.id,
      structure_id: jardins.id,
      principal: '12500.00',
      annual_rate_percent: '3.5',
      periodicity: 'monthly',
      term_periods: 36,
      method: 'annuity',
      disbursement_date: '2025-01-31',
    });
    await api.post(`/v1/loans/${loan.body.id}/disbursement`, {
      date: '2025-01-31',
      amount: '12500.00',
    });
    await api.post(
      `/v1/loans/${loan.body.id}/repayments`,
      { amount: '366.28', value_date: '2025-02-28', reference: 'VIR 2025-02' },
      { 'Idempotency-Key': crypto.randomUUID() },
    );
    await sql`UPDATE loans SET external_reference = 'PRET-1' WHERE id = ${loan.body.id}::uuid`.execute(
      await testDb(),
    );

    const res = await dryRun(ADMIN_KEY, { fund_id: fund.id, ...english });
    expect(res.body.files).toEqual({
      structures: { rows_read: 2, rows_valid: 2, rows_to_create: 0, rows_already_present: 2 },
      loans: { rows_read: 2, rows_valid: 2, rows_to_create: 1, rows_already_present: 1 },
      repayments: { rows_read: 3, rows_valid: 2, rows_to_create: 1, rows_already_present: 1 },
    });
    // The second repayment of PRET-1 is new history on a loan the fund has: the import does not add it.
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        file: 'repayments',
        row: 3,
        column: 'loan_external_reference',
        rule: 'rule_violation',
      }),
    ]);
  });

  it('reports a file that cannot be read as a whole: not UTF-8, no separator, an unknown or missing column', async () => {
    const { fund, manager } = await lender();
    const res = await dryRun(manager.secret, {
      fund_id: fund.id,
      structures: 'legal_name;siret\nCaf\uFFFD;123\n',
      loans: 'external_reference\nP1\n',
      repayments: 'loan_external_reference,value_date,montant_du\nP1,2025-01-01,3\n',
    });
    expect(res.body.errors).toEqual([
      {
        file: 'structures',
        row: null,
        column: null,
        rule: 'invalid_request',
        message: 'is not UTF-8: save the file as "CSV UTF-8"',
      },
      expect.objectContaining({ file: 'loans', row: 1, column: null }),
      {
        file: 'repayments',
        row: 1,
        column: 'montant_du',
        rule: 'invalid_request',
        message: 'is not a column of the repayments file (docs/imports.md lists them)',
      },
      {
        file: 'repayments',
        row: 1,
        column: 'amount',
        rule: 'invalid_request',
        message: 'is a required column: the header has no such column',
      },
    ]);
    expect(res.body.files.structures).toEqual({
      rows_read: 0,
      rows_valid: 0,
      rows_to_create: 0,
      rows_already_present: 0,
    });
  });

  it('takes more than the other routes’ 100 kB, and lists at most 1,000 errors, counting the rest', async () => {
    const { fund, manager } = await lender();
    const lines = Array.from(
      { length: 3000 },
      (_, i) => `NOWHERE-${i},2025-02-28,100.00,a reference long enough to weigh`,
    );
    const repayments = ['loan_external_reference,value_date,amount,reference', ...lines].join('\n');
    expect(repayments.length).toBeGreaterThan(150_000);
    const res = await dryRun(manager.secret, { fund_id: fund.id, repayments });
    expect(res.status).toBe(200);
    expect(res.body.files.repayments).toEqual({
      rows_read: 3000,
      rows_valid: 0,
      rows_to_create: 0,
      rows_already_present: 0,
    });
    expect(res.body.errors).toHaveLength(1000);
    expect(res.body.errors_not_shown).toBe(2000);
  });

  it('needs at least one file', async () => {
    const { fund, manager } = await lender();
    const res = await dryRun(manager.secret, { fund_id: fund.id });
    expect(res.status).toBe(400);
  });
});

describe('who may check an import', () => {
  it('the fund’s manager and the admin; another fund’s manager and a structure key get 404, the auditor 403', async () => {
    const { fund, manager } = await lender();
    const stranger = await lender();
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id });
    const structure = await createStructure(app, fund.id, manager.secret);
    const portal = await createKey(app, {
      role: 'structure',
      fund_id: fund.id,
      structure_id: structure.id,
    });
    const body = { fund_id: fund.id, repayments: 'loan_external_reference,value_date,amount\n' };
    expect((await dryRun(manager.secret, body)).status).toBe(200);
    expect((await dryRun(ADMIN_KEY, body)).status).toBe(200);
    expect((await dryRun(stranger.manager.secret, body)).status).toBe(404);
    expect((await dryRun(portal.secret, body)).status).toBe(404);
    expect((await dryRun(auditor.secret, body)).status).toBe(403);
  });
});

describe('the templates', () => {
  it('give each file’s header and examples, in English or French conventions, that a dry run reads alike', async () => {
    const { fund, manager } = await lender();
    const read = async (conventions: string) => {
      const res = await as(app, manager.secret).get(
        `/v1/imports/templates/repayments.csv?conventions=${conventions}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      return res.text;
    };
    const [en, fr] = [await read('en'), await read('fr')];
    expect(en.split('\r\n')[0]).toBe(
      'loan_external_reference,value_date,amount,reference,prepayment',
    );
    expect(fr).toContain('1 250,50');
    const [enReport, frReport] = [
      await dryRun(manager.secret, { fund_id: fund.id, repayments: en }),
      await dryRun(manager.secret, { fund_id: fund.id, repayments: fr }),
    ];
    expect(frReport.body).toEqual(enReport.body);
    expect(enReport.body.errors.map((e: { column: string }) => e.column)).toEqual([
      'loan_external_reference',
      'loan_external_reference',
    ]); // PRET-2025-001 is no loan of this fund
    const loans = await as(app, ADMIN_KEY).get('/v1/imports/templates/loans.csv');
    expect(loans.text.split('\r\n')[0]).toContain(
      'external_reference,structure_siret,structure_rna,product_id,principal',
    );
  });
});
