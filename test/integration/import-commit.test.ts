/**
 * The import's commit (docs/imports.md, /work contract): a portfolio imported from CSV files must be,
 * to the cent, what entering it by hand through the API writes — loan by loan, its state, schedule
 * versions and instalments, repayments and allocations, journal entries and lines, audit stream; the
 * funds' trial balances line by line. Then the commit's own behaviour (202, progress, re-import,
 * Idempotency-Key, a bad row, who may see it) and all or nothing in the job. On a database of this
 * file's own, with the real workers (outbox relay, BullMQ on real Redis).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { sql } from 'kysely';
import { commitImport } from '../../src/imports/commit-import';
import { todayInParis } from '../../src/http/clock';
import pino from 'pino';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Db } from '../../src/db/connect';
import { hashSecret } from '../../src/http/auth';
import { startWorkers } from '../../workers/start';
import { ADMIN_KEY, LIMITS_OUT_OF_REACH } from '../support/app';
import { isolatedDatabase } from '../support/db';
import {
  differences,
  fundLabels,
  loanHistory,
  normalise,
  normalisedHistory,
} from '../support/loan-history';
import {
  as,
  createKey,
  createProduct,
  createStructure,
  fundWithManager,
  randomSiret,
  type CreatedKey,
  type Fund,
} from '../support/portfolio';
import { until } from '../support/until';

jest.setTimeout(240_000);

let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;
// One prefix for the file: a job the relay handed to Redis waits there for the next workers.
const QUEUE_PREFIX = `test-import-commit-${randomUUID()}`;

beforeAll(async () => {
  iso = await isolatedDatabase('import_commit');
  db = iso.db;
  app = createApp({
    logger: pino({ level: 'silent' }),
    db,
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
  });
});

afterAll(async () => {
  await iso.drop();
});

/** The real workers while `work` runs. */
async function withWorkers<T>(work: () => Promise<T>): Promise<T> {
  const workers = await startWorkers({
    db,
    redisUrl: 'redis://127.0.0.1:6379',
    logger: pino({ level: 'silent' }),
    reminders: loadConfig({}).reminders,
    queuePrefix: QUEUE_PREFIX,
    relayIntervalMs: 50,
  });
  try {
    return await work();
  } finally {
    await workers.close();
  }
}

interface Lender {
  fund: Fund;
  manager: CreatedKey;
  productId: string;
  api: ReturnType<typeof as>;
}

/** A fund, its manager, and a product wide enough for every loan of the story. */
async function lender(): Promise<Lender> {
  const { fund, manager } = await fundWithManager(app);
  const product = await createProduct(app, fund.id, manager.secret, {
    kind: 'common_law',
    principal_min: '100.00',
    principal_max: '1000000.00',
    annual_rate_percent_max: '20',
    term_periods_min: 1,
    term_periods_max: 360,
    deferral_periods_max: 60,
    methods: ['annuity', 'linear', 'bullet'],
    periodicities: ['monthly', 'quarterly', 'semiannual', 'annual'],
  });
  return { fund, manager, productId: product.id, api: as(app, manager.secret) };
}

// ---- money and dates, exact ----
const cents = (amount: string) => BigInt(amount.replace('.', ''));
const money = (value: bigint) => `${value / 100n}.${String(value % 100n).padStart(2, '0')}`;
const plus = (...amounts: string[]) => money(amounts.reduce((sum, a) => sum + cents(a), 0n));
const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

// ---- the story ----
interface Instalment {
  number: number;
  due_date: string;
  principal: string;
  interest: string;
  total: string;
  capitalised_interest: string;
}
interface RepaymentBody {
  amount: string;
  value_date: string;
  reference?: string;
  prepayment?: 'reduce_instalment' | 'reduce_term' | 'pay_ahead';
}
/** A repayment, decided on the loan's schedule as it stands (after the ones before it). */
type Step = (rows: Instalment[]) => RepaymentBody;
interface StructureData {
  legal_name: string;
  siret: string | null;
  rna: string | null;
  legal_form: string;
  esus: boolean;
  naf_code: string;
  jobs_fte: string;
  contact_email: string;
}
interface LoanCase {
  ref: string;
  structure: number;
  terms: {
    principal: string;
    annual_rate_percent: string;
    periodicity: string;
    term_periods: number;
    method: string;
    disbursement_date: string;
    deferral_periods?: number;
    deferral_type?: string;
    day_count?: string;
    rounding?: string;
    first_due_date?: string;
  };
  steps: Step[];
}

const TERRITORY = { commune_code: '69123', department_code: '69', region_code: '84' };

function structuresOfStory(): StructureData[] {
  return [
    {
      legal_name: 'Les Jardins du Lac',
      siret: randomSiret(),
      rna: null,
      legal_form: 'association',
      esus: true,
      naf_code: '88.99B',
      jobs_fte: '12.5',
      contact_email: 'jardins@example.org',
    },
    {
      legal_name: 'Coop Habitat, Lyon',
      siret: randomSiret(),
      rna: null,
      legal_form: 'cooperative',
      esus: false,
      naf_code: '41.20A',
      jobs_fte: '3.25',
      contact_email: 'coop@example.org',
    },
    {
      legal_name: 'Repair Café',
      siret: null,
      rna: `W${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`,
      legal_form: 'association',
      esus: false,
      naf_code: '94.99Z',
      jobs_fte: '0.5',
      contact_email: 'cafe@example.org',
    },
  ];
}

const onDue =
  (k: number, reference?: string): Step =>
  (rows) => ({
    amount: rows[k]!.total,
    value_date: rows[k]!.due_date,
    ...(reference ? { reference } : {}),
  });

/** The loans: every path of the servicing core the brief names. */
const CASES: LoanCase[] = [
  {
    ref: 'A-ANNUITY',
    structure: 0,
    terms: {
      principal: '10000.00',
      annual_rate_percent: '12',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    },
    steps: [onDue(0, 'VIR A1'), onDue(1, 'VIR A2'), onDue(2, 'VIR A3')],
  },
  {
    ref: 'B-LINEAR-QUARTERLY',
    structure: 0,
    terms: {
      principal: '24000.00',
      annual_rate_percent: '4',
      periodicity: 'quarterly',
      term_periods: 8,
      method: 'linear',
      day_count: 'ACT/365',
      disbursement_date: '2025-01-31',
    },
    steps: [onDue(0, 'VIR B1'), onDue(1)],
  },
  {
    ref: 'C-TOTAL-DEFERRAL',
    structure: 0,
    terms: {
      principal: '15000.00',
      annual_rate_percent: '6',
      periodicity: 'monthly',
      term_periods: 24,
      deferral_periods: 6,
      deferral_type: 'total',
      method: 'annuity',
      disbursement_date: '2025-01-10',
    },
    steps: [onDue(6, 'VIR C7'), onDue(7, 'VIR C8')],
  },
  {
    ref: 'D-PARTIAL-DEFERRAL',
    structure: 0,
    terms: {
      principal: '8000.00',
      annual_rate_percent: '5',
      periodicity: 'monthly',
      term_periods: 18,
      deferral_periods: 3,
      deferral_type: 'partial',
      method: 'linear',
      disbursement_date: '2025-02-05',
      first_due_date: '2025-03-15',
    },
    steps: [onDue(0), onDue(1), onDue(2), onDue(3, 'VIR D4')],
  },
  {
    ref: 'E-REDUCE-INSTALMENT',
    structure: 1,
    terms: {
      principal: '20000.00',
      annual_rate_percent: '4.5',
      periodicity: 'monthly',
      term_periods: 36,
      method: 'annuity',
      disbursement_date: '2025-01-20',
    },
    steps: [
      onDue(0, 'VIR E1'),
      (rows) => ({
        amount: plus(rows[1]!.total, '5000.00'),
        value_date: rows[1]!.due_date,
        reference: 'VIR E2 + 5000',
        prepayment: 'reduce_instalment',
      }),
      onDue(3, 'VIR E4'),
    ],
  },
  {
    ref: 'F-REDUCE-TERM',
    structure: 1,
    terms: {
      principal: '18000.00',
      annual_rate_percent: '7',
      periodicity: 'monthly',
      term_periods: 24,
      method: 'annuity',
      disbursement_date: '2025-03-01',
    },
    steps: [
      onDue(0, 'VIR F1'),
      (rows) => ({
        amount: plus(rows[1]!.total, '4000.00'),
        value_date: addDays(rows[1]!.due_date, -10),
        reference: 'VIR F2 + 4000',
        prepayment: 'reduce_term',
      }),
      onDue(2, 'VIR F3'),
    ],
  },
  {
    ref: 'G-PAY-AHEAD',
    structure: 1,
    terms: {
      principal: '9000.00',
      annual_rate_percent: '5',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-25',
    },
    steps: [
      (rows) => ({
        amount: plus(rows[0]!.total, rows[1]!.total, '300.00'),
        value_date: rows[0]!.due_date,
        reference: 'VIR G1-2',
        prepayment: 'pay_ahead',
      }),
      onDue(3, 'VIR G4'),
    ],
  },
  {
    ref: 'H-LATE',
    structure: 1,
    terms: {
      principal: '6000.00',
      annual_rate_percent: '8',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-10',
    },
    steps: [
      (rows) => ({
        amount: rows[0]!.total,
        value_date: addDays(rows[0]!.due_date, 20),
        reference: 'VIR H1 late',
      }),
      (rows) => ({
        amount: plus(rows[1]!.total, '100.00'),
        value_date: addDays(rows[2]!.due_date, 5),
        reference: 'VIR H2 late',
      }),
    ],
  },
  {
    ref: 'I-EXCESS',
    structure: 2,
    terms: {
      principal: '3000.00',
      annual_rate_percent: '3',
      periodicity: 'monthly',
      term_periods: 6,
      method: 'linear',
      disbursement_date: '2025-02-01',
    },
    steps: [
      onDue(0, 'VIR I1'),
      (rows) => ({
        amount: plus(...rows.slice(1).map((r) => r.total), '150.00'),
        value_date: rows[1]!.due_date,
        reference: 'VIR I solde',
      }),
    ],
  },
  {
    ref: 'J-SAME-DAY',
    structure: 2,
    terms: {
      principal: '5000.00',
      annual_rate_percent: '2',
      periodicity: 'monthly',
      term_periods: 10,
      method: 'linear',
      disbursement_date: '2025-01-31',
    },
    steps: [
      (rows) => ({ amount: '200.00', value_date: rows[0]!.due_date, reference: 'CHQ 1' }),
      (rows) => ({ amount: '300.00', value_date: rows[0]!.due_date, reference: 'CHQ 2' }),
      onDue(1, 'VIR J2'),
    ],
  },
  {
    ref: 'K-HALF-EVEN',
    structure: 2,
    terms: {
      principal: '1001.00',
      annual_rate_percent: '6',
      periodicity: 'monthly',
      term_periods: 6,
      method: 'annuity',
      rounding: 'half_even',
      disbursement_date: '2025-01-15',
    },
    steps: [onDue(0, 'VIR K1'), onDue(1, 'VIR K2')],
  },
];

interface Entered {
  structures: StructureData[];
  /** loan id → reference */
  loans: Map<string, string>;
  /** reference → its repayments, in the order entered */
  repayments: Map<string, RepaymentBody[]>;
}

/** The story entered through the API, as a fund's staff would: structures, loans, disbursements, repayments in value-date order. */
async function enterByHand(l: Lender, structures: StructureData[]): Promise<Entered> {
  const structureIds: string[] = [];
  for (const s of structures)
    structureIds.push(
      (await createStructure(app, l.fund.id, l.manager.secret, { ...s, ...TERRITORY })).id,
    );
  const loans = new Map<string, string>();
  const repayments = new Map<string, RepaymentBody[]>();
  for (const c of CASES) {
    const created = await l.api.post('/v1/loans', {
      product_id: l.productId,
      structure_id: structureIds[c.structure],
      ...c.terms,
    });
    if (created.status !== 201)
      throw new Error(`${c.ref}: ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.id as string;
    const disbursed = await l.api.post(`/v1/loans/${id}/disbursement`, {
      date: c.terms.disbursement_date,
      amount: c.terms.principal,
    });
    if (disbursed.status !== 200)
      throw new Error(
        `${c.ref} disbursement: ${disbursed.status} ${JSON.stringify(disbursed.body)}`,
      );
    loans.set(id, c.ref);
    const bodies: RepaymentBody[] = [];
    for (const step of c.steps) {
      const schedule = await l.api.get(`/v1/loans/${id}/schedule`);
      const body = step(schedule.body.instalments as Instalment[]);
      const res = await l.api.post(`/v1/loans/${id}/repayments`, body, {
        'Idempotency-Key': randomUUID(),
      });
      if (res.status !== 201)
        throw new Error(
          `${c.ref} repayment ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`,
        );
      bodies.push(body);
    }
    repayments.set(c.ref, bodies);
  }
  return { structures, loans, repayments };
}

// ---- the same story as CSV files ----
type Conventions = 'en' | 'fr';
const quoted = (sep: string) => (cell: string) =>
  cell.includes(sep) || cell.includes('"') || /[\r\n]/.test(cell)
    ? `"${cell.replaceAll('"', '""')}"`
    : cell;
const frAmount = (amount: string) =>
  amount.replace(/\B(?=(\d{3})+\.)/g, '\u00A0').replace('.', ',');
const frDate = (date: string) => date.split('-').reverse().join('/');
const frRate = (rate: string) => `${rate.replace('.', ',')} %`;

function csvFiles(entered: Entered, productId: string, conventions: Conventions) {
  const fr = conventions === 'fr';
  const sep = fr ? ';' : ',';
  const line = (cells: (string | number | boolean | null | undefined)[]) =>
    cells.map((c) => quoted(sep)(c === null || c === undefined ? '' : String(c))).join(sep);
  const file = (header: string[], lines: string[]) =>
    `${fr ? '\uFEFF' : ''}${[line(header), ...lines].join('\r\n')}\r\n`;
  const amount = (a: string) => (fr ? frAmount(a) : a);
  const date = (d: string | undefined) => (d === undefined ? '' : fr ? frDate(d) : d);
  const bool = (b: boolean) => (fr ? (b ? 'oui' : 'non') : String(b));

  const structures = file(
    fr
      ? [
          'raison_sociale',
          'siret',
          'rna',
          'forme_juridique',
          'esus',
          'code_naf',
          'code_commune',
          'code_departement',
          'code_region',
          'etp',
          'email',
        ]
      : [
          'legal_name',
          'siret',
          'rna',
          'legal_form',
          'esus',
          'naf_code',
          'commune_code',
          'department_code',
          'region_code',
          'jobs_fte',
          'contact_email',
        ],
    entered.structures.map((s) =>
      line([
        s.legal_name,
        s.siret,
        s.rna,
        s.legal_form,
        bool(s.esus),
        fr ? s.naf_code.replace('.', '') : s.naf_code,
        TERRITORY.commune_code,
        TERRITORY.department_code,
        TERRITORY.region_code,
        fr ? s.jobs_fte.replace('.', ',') : s.jobs_fte,
        s.contact_email,
      ]),
    ),
  );
  const loans = file(
    fr
      ? [
          'reference_pret',
          'siret',
          'rna',
          'produit',
          'capital',
          'taux',
          'periodicite',
          'duree',
          'differe',
          'type_differe',
          'methode',
          'base_calcul',
          'arrondi',
          'date_premiere_echeance',
          'date_decaissement',
        ]
      : [
          'external_reference',
          'structure_siret',
          'structure_rna',
          'product_id',
          'principal',
          'annual_rate_percent',
          'periodicity',
          'term_periods',
          'deferral_periods',
          'deferral_type',
          'method',
          'day_count',
          'rounding',
          'first_due_date',
          'disbursement_date',
        ],
    CASES.map((c) => {
      const s = entered.structures[c.structure]!;
      const t = c.terms;
      return line([
        c.ref,
        s.siret,
        s.rna,
        productId,
        fr ? `${amount(t.principal)} €` : t.principal,
        fr ? frRate(t.annual_rate_percent) : t.annual_rate_percent,
        t.periodicity,
        t.term_periods,
        t.deferral_periods,
        t.deferral_type,
        t.method,
        t.day_count,
        t.rounding,
        date(t.first_due_date),
        date(t.disbursement_date),
      ]);
    }),
  );
  // Lines in value-date order in English; newest first in French (the import orders each loan's
  // repayments by value date, then line: the same-day pair keeps its order of lines).
  const rows = CASES.flatMap((c) =>
    entered.repayments.get(c.ref)!.map((r, i) => ({ ref: c.ref, r, i })),
  );
  if (fr)
    rows.sort(
      (a, b) =>
        b.r.value_date.localeCompare(a.r.value_date) ||
        (a.ref === b.ref ? a.i - b.i : a.ref.localeCompare(b.ref)),
    );
  const repayments = file(
    fr
      ? ['Référence prêt', 'Date valeur', 'Montant', 'Libellé', 'remboursement_anticipe']
      : ['loan_external_reference', 'value_date', 'amount', 'reference', 'prepayment'],
    rows.map(({ ref, r }) =>
      line([ref, date(r.value_date), amount(r.amount), r.reference, r.prepayment]),
    ),
  );
  return { structures, loans, repayments };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

async function count(query: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  return Number((await query.execute(db)).rows[0]!.n);
}

/** What a fund holds, its audit trail and its webhook events (imports rows apart). */
async function footprint(fundId: string) {
  const { rows } = await sql<Record<string, string>>`
    SELECT (SELECT count(*) FROM structures WHERE fund_id = ${fundId}::uuid) AS structures,
           (SELECT count(*) FROM loans WHERE fund_id = ${fundId}::uuid) AS loans,
           (SELECT count(*) FROM repayments r JOIN loans l ON l.id = r.loan_id WHERE l.fund_id = ${fundId}::uuid) AS repayments,
           (SELECT count(*) FROM schedule_versions v JOIN loans l ON l.id = v.loan_id WHERE l.fund_id = ${fundId}::uuid) AS schedule_versions,
           (SELECT count(*) FROM journal_entries WHERE fund_id = ${fundId}::uuid) AS journal_entries,
           (SELECT count(*) FROM audit_events WHERE fund_id = ${fundId}::uuid AND action NOT LIKE 'import.%') AS audit_events,
           (SELECT count(*) FROM events WHERE fund_id = ${fundId}::uuid) AS events,
           (SELECT count(*) FROM outbox WHERE payload::text LIKE ${`%${fundId}%`} AND queue <> 'imports') AS outbox`.execute(
    db,
  );
  return rows[0]!;
}

const importsOf = (fundId: string) =>
  count(sql<{ n: string }>`SELECT count(*) AS n FROM imports WHERE fund_id = ${fundId}::uuid`);

/** POSTs a commit and waits for the real worker to finish it; returns the import as GET shows it, and the statuses seen. */
async function commitAndWait(l: Lender, files: Record<string, string>) {
  const posted = await l.api.post(
    '/v1/imports',
    { fund_id: l.fund.id, mode: 'commit', ...files },
    { 'Idempotency-Key': randomUUID() },
  );
  if (posted.status !== 202)
    throw new Error(`commit: ${posted.status} ${JSON.stringify(posted.body)}`);
  const seen = new Set<string>([posted.body.status as string]);
  const done = await withWorkers(async () => {
    let last: { status: string } = posted.body;
    await until(
      async () => {
        last = (await l.api.get(posted.headers.location!)).body;
        seen.add(last.status);
        return last.status === 'done' || last.status === 'failed';
      },
      'the import to end',
      120_000,
      50,
    );
    return last;
  });
  return { posted, done: done as Record<string, unknown>, seen };
}

/** The fund's loans by reference, and the labels of its ids. */
async function labelsOf(l: Lender, loanRefs: Map<string, string>) {
  return fundLabels(
    db,
    { id: l.fund.id, productId: l.productId, managerKeyId: l.manager.id },
    loanRefs,
  );
}

async function importedLoans(fundId: string): Promise<Map<string, string>> {
  const { rows } = await sql<{
    id: string;
    external_reference: string;
  }>`SELECT id::text, external_reference FROM loans WHERE fund_id = ${fundId}::uuid`.execute(db);
  return new Map(rows.map((r) => [r.id, r.external_reference]));
}

/** Takes out every `external_reference` member (the one thing an import adds by design), returning the values it held. */
function takeExternalReferences(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((item) => takeExternalReferences(item, found));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'external_reference') {
        found.push(item);
        delete (value as Record<string, unknown>)[key];
      } else takeExternalReferences(item, found);
    }
  }
  return found;
}

/** The fund's audit events of one action on its own stream, normalised, in a stable order. */
async function fundStreamStates(fundId: string, action: string, labels: Map<string, string>) {
  const { rows } = await sql<{ state: unknown; entity_id: string; actor_key_id: string }>`
    SELECT state, entity_id::text, actor_key_id::text FROM audit_events WHERE stream = ${fundId}::uuid AND action = ${action} ORDER BY seq`.execute(
    db,
  );
  return (normalise(rows, labels) as unknown[]).sort((a, b) =>
    JSON.stringify(a).localeCompare(JSON.stringify(b)),
  );
}

describe('the import’s commit, against hand entry', () => {
  it('writes, loan by loan and to the cent, what entering the same portfolio through the API writes (English and French files)', async () => {
    const structures = structuresOfStory();
    const hand = await lender();
    const entered = await enterByHand(hand, structures);
    const handLabels = await labelsOf(hand, entered.loans);
    const handHistories = new Map<string, ReturnType<typeof normalisedHistory>>();
    for (const [id, ref] of entered.loans)
      handHistories.set(ref, normalisedHistory(await loanHistory(db, hand.api, id), handLabels));

    // The story did take the paths it is meant to (else equal histories would prove little).
    const h = (ref: string) =>
      handHistories.get(ref) as unknown as {
        api: {
          schedule: { instalments: { interest: string }[] };
          versions: { items: { reason: string }[] };
          loan: { status: string; arrears: { days_past_due: number } };
          repayments: { excess: string; reference: string }[];
        };
        db: { journal: { event: string }[] };
      };
    expect(h('K-HALF-EVEN').api.schedule.instalments[0]!.interest).toBe('5.00'); // 1001.00 × 0.5 % = 5.005: half_even
    expect(
      h('C-TOTAL-DEFERRAL').db.journal.filter((e) => e.event === 'capitalised_interest'),
    ).toHaveLength(6);
    expect(h('E-REDUCE-INSTALMENT').api.versions.items.map((v) => v.reason)).toEqual([
      'disbursement',
      'prepayment',
    ]);
    expect(h('F-REDUCE-TERM').api.versions.items).toHaveLength(2);
    expect(h('G-PAY-AHEAD').api.versions.items).toHaveLength(1);
    expect(h('H-LATE').api.loan.arrears.days_past_due).toBeGreaterThan(0);
    expect(h('I-EXCESS').api.loan.status).toBe('repaid');
    expect(cents(h('I-EXCESS').api.repayments[1]!.excess)).toBeGreaterThan(0n);
    expect(h('J-SAME-DAY').api.repayments.map((r) => r.reference)).toEqual([
      'CHQ 1',
      'CHQ 2',
      'VIR J2',
    ]);

    const handTrial = normalise(
      (await hand.api.get(`/v1/funds/${hand.fund.id}/ledger/trial-balance`)).body,
      handLabels,
    );
    const handStructures = await fundStreamStates(hand.fund.id, 'structure.created', handLabels);
    const found: string[] = [];
    for (const conventions of ['en', 'fr'] as const) {
      const mine = await lender();
      const files = csvFiles(entered, mine.productId, conventions);
      const checked = await mine.api.post('/v1/imports', { fund_id: mine.fund.id, ...files });
      expect({ conventions, errors: checked.body.errors }).toEqual({ conventions, errors: [] });
      const { done } = await commitAndWait(mine, files);
      const repayments = CASES.reduce((n, c) => n + c.steps.length, 0);
      expect({
        conventions,
        status: done.status,
        errors: done.errors,
        created: done.created,
        rows_done: done.rows_done,
        rows_total: done.rows_total,
      }).toEqual({
        conventions,
        status: 'done',
        errors: [],
        created: { structures: 3, loans: CASES.length, repayments },
        rows_done: 3 + CASES.length + repayments,
        rows_total: 3 + CASES.length + repayments,
      });
      const loans = await importedLoans(mine.fund.id);
      expect([...loans.values()].sort()).toEqual(CASES.map((c) => c.ref).sort());
      const labels = await labelsOf(mine, loans);

      for (const [id, ref] of loans) {
        const imported = normalisedHistory(await loanHistory(db, mine.api, id), labels);
        const byHand = structuredClone(handHistories.get(ref)!);
        // The external reference is what an import adds: the loan's own, where hand entry has none.
        const importedRefs = takeExternalReferences(imported);
        const handRefs = takeExternalReferences(byHand);
        expect({ ref, importedRefs: [...new Set(importedRefs)] }).toEqual({
          ref,
          importedRefs: [ref],
        });
        expect({ ref, handRefs: [...new Set(handRefs)] }).toEqual({
          ref,
          handRefs: handRefs.length ? [null] : [],
        });
        found.push(...differences(byHand, imported, `${conventions} ${ref}`));
      }
      found.push(
        ...differences(
          handTrial,
          normalise(
            (await mine.api.get(`/v1/funds/${mine.fund.id}/ledger/trial-balance`)).body,
            labels,
          ),
          `${conventions} trial balance`,
        ),
      );
      found.push(
        ...differences(
          handStructures,
          await fundStreamStates(mine.fund.id, 'structure.created', labels),
          `${conventions} structure.created`,
        ),
      );

      // Each chain (the fund's, each loan's) recomputes to its head.
      for (const fundId of [hand.fund.id, mine.fund.id]) {
        const verified = await as(app, ADMIN_KEY).get(`/v1/audit-events/verify?fund_id=${fundId}`);
        expect({ fundId, valid: verified.body.valid, broken: verified.body.broken_chains }).toEqual(
          { fundId, valid: true, broken: [] },
        );
      }
      // No webhook events for the history an import brings in; one import.completed on the fund's stream.
      expect(
        await count(
          sql<{
            n: string;
          }>`SELECT count(*) AS n FROM events WHERE fund_id = ${mine.fund.id}::uuid AND loan_id IS NOT NULL`,
        ),
      ).toBe(0);
      expect(
        await count(
          sql<{
            n: string;
          }>`SELECT count(*) AS n FROM audit_events WHERE stream = ${mine.fund.id}::uuid AND action = 'import.completed'`,
        ),
      ).toBe(1);
    }
    expect(
      await count(
        sql<{
          n: string;
        }>`SELECT count(*) AS n FROM events WHERE fund_id = ${hand.fund.id}::uuid AND loan_id IS NOT NULL`,
      ),
    ).toBeGreaterThan(0);
    expect(found).toEqual([]);
  });
});

describe('the comparison itself', () => {
  it('finds no difference between two hand entries of the same story, and finds a cent', async () => {
    const structures = structuresOfStory();
    const histories = [];
    for (const l of [await lender(), await lender()]) {
      const entered = await enterByHand(l, structures);
      const labels = await labelsOf(l, entered.loans);
      const byRef = new Map<string, unknown>();
      for (const [id, ref] of entered.loans)
        byRef.set(ref, normalisedHistory(await loanHistory(db, l.api, id), labels));
      histories.push(byRef);
    }
    const [first, second] = histories as [Map<string, unknown>, Map<string, unknown>];
    expect(CASES.flatMap((c) => differences(first.get(c.ref), second.get(c.ref), c.ref))).toEqual(
      [],
    );
    expect(JSON.stringify(first.get('A-ANNUITY'))).not.toContain('UNLABELLED-ID');
    const changed = JSON.parse(
      JSON.stringify(second.get('A-ANNUITY')).replace('"888.49"', '"888.50"'),
    );
    expect(differences(first.get('A-ANNUITY'), changed).length).toBeGreaterThan(0);
  });
});

/** A small portfolio: one structure, two loans, three repayments. */
function smallPortfolio(productId: string, siret = randomSiret()) {
  return {
    siret,
    files: {
      structures: `legal_name,siret,legal_form,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email\r\nLes Ateliers,${siret},association,88.99B,69123,69,84,4,a@example.org\r\n`,
      loans: [
        'external_reference,structure_siret,product_id,principal,annual_rate_percent,periodicity,term_periods,method,disbursement_date',
        `P-1,${siret},${productId},12500.00,3.5,monthly,36,annuity,2025-01-31`,
        `P-2,${siret},${productId},5000.00,0,monthly,12,linear,2025-01-15`,
      ].join('\r\n'),
      repayments: [
        'loan_external_reference,value_date,amount,reference',
        'P-1,2025-02-28,366.28,VIR 1',
        'P-1,2025-03-31,366.28,VIR 2',
        'P-2,2025-02-15,416.67,CHQ 1',
      ].join('\r\n'),
    },
  };
}

describe('committing an import', () => {
  it('answers 202 with the import, which a worker takes to done; a re-import is a no-op; the same Idempotency-Key replays the answer', async () => {
    const l = await lender();
    const { files } = smallPortfolio(l.productId);
    const before = await footprint(l.fund.id);
    const key = randomUUID();
    const body = { fund_id: l.fund.id, mode: 'commit', ...files };
    const posted = await l.api.post('/v1/imports', body, { 'Idempotency-Key': key }); // as() checks it against openapi.yaml
    expect(posted.status).toBe(202);
    expect(posted.headers.location).toBe(`/v1/imports/${posted.body.id}`);
    expect(posted.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      fund_id: l.fund.id,
      status: 'queued',
      files: {
        structures: {
          sha256: sha256(files.structures),
          rows_read: 1,
          rows_valid: 1,
          rows_to_create: 1,
          rows_already_present: 0,
        },
        loans: {
          sha256: sha256(files.loans),
          rows_read: 2,
          rows_valid: 2,
          rows_to_create: 2,
          rows_already_present: 0,
        },
        repayments: {
          sha256: sha256(files.repayments),
          rows_read: 3,
          rows_valid: 3,
          rows_to_create: 3,
          rows_already_present: 0,
        },
      },
      rows_total: 6,
      rows_done: 0,
      created: null,
      error: null,
      errors: [],
      errors_not_shown: 0,
      attempts: 0,
      created_at: expect.any(String),
      started_at: null,
      finished_at: null,
    });
    const replayed = await l.api.post('/v1/imports', body, { 'Idempotency-Key': key });
    expect(replayed.status).toBe(202);
    expect(replayed.headers['idempotency-replayed']).toBe('true');
    expect(replayed.body).toEqual(posted.body);
    expect(await importsOf(l.fund.id)).toBe(1);
    expect(await footprint(l.fund.id)).toEqual(before); // nothing of the portfolio before the job

    const seen = new Set<string>();
    const done = await withWorkers(async () => {
      let last: Record<string, unknown> = {};
      await until(
        async () => {
          last = (await l.api.get(posted.headers.location!)).body;
          seen.add(last.status as string);
          return last.status === 'done' || last.status === 'failed';
        },
        'the import to end',
        120_000,
        20,
      );
      return last;
    });
    expect(done).toEqual({
      ...posted.body,
      status: 'done',
      rows_done: 6,
      created: { structures: 1, loans: 2, repayments: 3 },
      attempts: 1,
      started_at: expect.any(String),
      finished_at: expect.any(String),
    });
    expect([...seen].every((status) => ['queued', 'running', 'done'].includes(status))).toBe(true);
    // The files are not kept once applied: only their SHA-256.
    const {
      rows: [kept],
    } = await sql<{
      files: number;
    }>`SELECT num_nonnulls(structures_csv, loans_csv, repayments_csv) AS files FROM imports WHERE id = ${posted.body.id}::uuid`.execute(
      db,
    );
    expect(kept).toEqual({ files: 0 });
    const after = await footprint(l.fund.id);
    expect({
      structures: after.structures,
      loans: after.loans,
      repayments: after.repayments,
    }).toEqual({
      structures: String(Number(before.structures) + 1),
      loans: String(Number(before.loans) + 2),
      repayments: String(Number(before.repayments) + 3),
    });

    // The same files again: everything is there already.
    const again = await l.api.post('/v1/imports', body, { 'Idempotency-Key': randomUUID() });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      mode: 'commit',
      fund_id: l.fund.id,
      no_op: true,
      files: {
        structures: { rows_read: 1, rows_valid: 1, rows_to_create: 0, rows_already_present: 1 },
        loans: { rows_read: 2, rows_valid: 2, rows_to_create: 0, rows_already_present: 2 },
        repayments: { rows_read: 3, rows_valid: 3, rows_to_create: 0, rows_already_present: 3 },
      },
      errors: [],
      errors_not_shown: 0,
    });
    expect(await footprint(l.fund.id)).toEqual(after);
    expect(await importsOf(l.fund.id)).toBe(1);
  });

  it('with one bad row answers 422 naming it, with the report, and writes nothing', async () => {
    const l = await lender();
    const { files, siret } = smallPortfolio(l.productId);
    // A third loan, without repayments, whose principal has three decimals: line 4 of the loans file.
    const bad = {
      ...files,
      loans: `${files.loans}\r\nP-3,${siret},${l.productId},5000.001,0,monthly,12,linear,2025-01-15`,
    };
    const before = await footprint(l.fund.id);
    const res = await l.api.post(
      '/v1/imports',
      { fund_id: l.fund.id, mode: 'commit', ...bad },
      { 'Idempotency-Key': randomUUID() },
    );
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 422,
      detail: expect.stringMatching(/^The import has errors: nothing was written/),
      report: { mode: 'commit', fund_id: l.fund.id },
    });
    // `in` as every problem of the API has it.
    expect(res.body.errors).toEqual([
      {
        in: 'body',
        field: 'loans[4].principal',
        message:
          'must be an amount: a decimal string with at most 2 decimals and no sign or exponent, e.g. "1250.00"',
      },
    ]);
    expect(res.body.report.files.loans).toEqual({
      rows_read: 3,
      rows_valid: 2,
      rows_to_create: 2,
      rows_already_present: 0,
    });
    expect(res.body.report.errors).toEqual([
      expect.objectContaining({
        file: 'loans',
        row: 4,
        column: 'principal',
        rule: 'invalid_request',
      }),
    ]);
    expect(await footprint(l.fund.id)).toEqual(before);
    expect(await importsOf(l.fund.id)).toBe(0);
    expect(res.body.title).toBe('Business rule violated'); // the title of every 422: `detail` says what
  });

  it('is the fund’s manager’s and the admin’s to ask, and the fund’s auditor’s to see', async () => {
    const l = await lender();
    const stranger = await lender();
    const auditor = await createKey(app, { role: 'auditor', fund_id: l.fund.id });
    const structure = await createStructure(app, l.fund.id, l.manager.secret);
    const portal = await createKey(app, {
      role: 'structure',
      fund_id: l.fund.id,
      structure_id: structure.id,
    });
    const { files } = smallPortfolio(l.productId);
    const body = { fund_id: l.fund.id, mode: 'commit', ...files };
    expect(
      (await as(app, auditor.secret).post('/v1/imports', body, { 'Idempotency-Key': randomUUID() }))
        .status,
    ).toBe(403);
    expect(
      (await stranger.api.post('/v1/imports', body, { 'Idempotency-Key': randomUUID() })).status,
    ).toBe(404);
    expect(
      (await as(app, portal.secret).post('/v1/imports', body, { 'Idempotency-Key': randomUUID() }))
        .status,
    ).toBe(404);
    expect(await importsOf(l.fund.id)).toBe(0);
    const posted = await as(app, ADMIN_KEY).post('/v1/imports', body, {
      'Idempotency-Key': randomUUID(),
    });
    expect(posted.status).toBe(202);
    const location = posted.headers.location!;
    expect((await as(app, auditor.secret).get(location)).status).toBe(200);
    expect((await l.api.get(location)).status).toBe(200);
    expect((await as(app, ADMIN_KEY).get(location)).status).toBe(200);
    expect((await as(app, portal.secret).get(location)).status).toBe(404);
    expect((await stranger.api.get(location)).status).toBe(404);
    await withWorkers(() =>
      until(
        async () => (await l.api.get(location)).body.status === 'done',
        'the import to be done',
        120_000,
      ),
    );
  });
});

describe('all or nothing in the job', () => {
  /** Everything of the portfolio's: its structure, loans, their repayments, journal entries and audit streams. */
  async function traces(fundId: string, siret: string) {
    return {
      structures: await count(
        sql<{
          n: string;
        }>`SELECT count(*) AS n FROM structures WHERE fund_id = ${fundId}::uuid AND siret = ${siret}`,
      ),
      loans: await count(
        sql<{
          n: string;
        }>`SELECT count(*) AS n FROM loans WHERE fund_id = ${fundId}::uuid AND external_reference IN ('P-1', 'P-2')`,
      ),
      footprint: await footprint(fundId),
    };
  }

  it('fails whole when the fund changed between the request and the job (a loan of the same reference entered meanwhile)', async () => {
    const l = await lender();
    const { files, siret } = smallPortfolio(l.productId);
    const posted = await l.api.post(
      '/v1/imports',
      { fund_id: l.fund.id, mode: 'commit', ...files },
      { 'Idempotency-Key': randomUUID() },
    );
    expect(posted.status).toBe(202);
    // Meanwhile, P-2 entered through the API (with the reference an import would give it).
    const other = await createStructure(app, l.fund.id, l.manager.secret);
    const loan = await l.api.post('/v1/loans', {
      product_id: l.productId,
      structure_id: other.id,
      principal: '5000.00',
      annual_rate_percent: '0',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'linear',
      disbursement_date: '2025-01-15',
    });
    expect(
      (
        await l.api.post(`/v1/loans/${loan.body.id}/disbursement`, {
          date: '2025-01-15',
          amount: '5000.00',
        })
      ).status,
    ).toBe(200);
    await sql`UPDATE loans SET external_reference = 'P-2' WHERE id = ${loan.body.id}::uuid`.execute(
      db,
    );
    const before = await traces(l.fund.id, siret);

    const failed = await withWorkers(async () => {
      let last: Record<string, unknown> = {};
      await until(
        async () =>
          ['done', 'failed'].includes(
            (last = (await l.api.get(posted.headers.location!)).body).status as string,
          ),
        'the import to end',
        120_000,
      );
      return last;
    });
    expect(failed).toMatchObject({
      status: 'failed',
      created: null,
      rows_done: 0,
      attempts: 1,
      error: null,
      finished_at: expect.any(String),
    });
    // P-2's repayment is history of a loan the fund has: the job's re-check names it.
    expect(failed.errors).toEqual([
      {
        file: 'repayments',
        row: 4,
        column: 'loan_external_reference',
        rule: 'rule_violation',
        message:
          'is a loan the fund already has: an import adds repayments only to the loans it creates (record this one through POST /v1/loans/{loan_id}/repayments)',
      },
    ]);
    expect(await traces(l.fund.id, siret)).toEqual({ ...before, structures: 0, loans: 1 });
  });

  it('fails whole when a write fails midway: nothing of the import stays', async () => {
    const l = await lender();
    const { files, siret } = smallPortfolio(l.productId);
    // The last repayment's row cannot be written: the structure, the loans and the other repayments are by then.
    const boom = `BOOM ${randomUUID()}`;
    const poisoned = { ...files, repayments: files.repayments.replace('CHQ 1', boom) };
    await sql
      .raw(
        `CREATE OR REPLACE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.reference = '${boom}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
      )
      .execute(db);
    await sql
      .raw(
        'CREATE TRIGGER refuse_boom BEFORE INSERT ON repayments FOR EACH ROW EXECUTE FUNCTION refuse_boom()',
      )
      .execute(db);
    try {
      const before = await traces(l.fund.id, siret);
      const posted = await l.api.post(
        '/v1/imports',
        { fund_id: l.fund.id, mode: 'commit', ...poisoned },
        { 'Idempotency-Key': randomUUID() },
      );
      expect(posted.status).toBe(202);
      // The job's last attempt, run here (the worker would first retry it twice, 30 s of backoff).
      expect(await commitImport(db, posted.body.id as string, todayInParis(), true)).toBe('failed');
      const failed = (await l.api.get(posted.headers.location!)).body as Record<string, unknown>;
      // Not the files' fault: `error` says why, `errors` lists none.
      expect(failed).toMatchObject({
        status: 'failed',
        created: null,
        rows_done: 0,
        errors: [],
        error: 'refused by the test',
        finished_at: expect.any(String),
      });
      expect(await traces(l.fund.id, siret)).toEqual({ ...before, structures: 0, loans: 0 });
    } finally {
      await sql.raw('DROP TRIGGER IF EXISTS refuse_boom ON repayments').execute(db);
    }
  });
});
