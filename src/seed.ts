import { randomUUID } from 'node:crypto';
import { createApiKey } from './access/create-api-key';
import { loadConfig } from './config';
import { connectDatabase, type Db } from './db/connect';
import { DataDirInUseError } from './db/data-dir-lock';
import { migrate } from './db/migrate';
import { addMonths, type CalendarDate } from './domain/dates';
import { formatMoney } from './domain/money';
import { LA_POSTE_SIREN, withLuhnCheckDigit } from './domain/structure-identifiers';
import { createFund } from './funds/create-fund';
import { ADMIN, type RequestContext } from './http/auth';
import { todayInParis } from './http/clock';
import { createLoan } from './loans/create-loan';
import { disburseLoan } from './servicing/disburse-loan';
import { getLoanSchedule } from './loans/get-loan-schedule';
import { recordRepayment } from './servicing/record-repayment';
import { createProduct } from './products/create-product';
import { createStructure } from './structures/create-structure';

/**
 * npm run seed: a demo fund with both kinds of products, 50 structures across several territories
 * and sectors, 200 loans (most disbursed), and one API key per role, printed once. Deterministic:
 * the same pseudo-random sequence every time, so every run builds the same portfolio (with new ids).
 */
const TERRITORIES = [
  { commune: '69123', department: '69', name: 'Lyon' },
  { commune: '69266', department: '69', name: 'Villeurbanne' },
  { commune: '38185', department: '38', name: 'Grenoble' },
  { commune: '63113', department: '63', name: 'Clermont-Ferrand' },
  { commune: '42218', department: '42', name: 'Saint-Étienne' },
  { commune: '74010', department: '74', name: 'Annecy' },
  { commune: '26362', department: '26', name: 'Valence' },
  { commune: '73065', department: '73', name: 'Chambéry' },
];
const SECTORS = ['88.99B', '94.99Z', '56.10A', '38.32Z', '01.13Z', '85.59A', '90.01Z', '47.79Z'];
const FORMS = [
  'association',
  'association',
  'cooperative',
  'cooperative',
  'mutual',
  'foundation',
  'esus_company',
] as const;
const NAMES = [
  'Atelier',
  'Ressourcerie',
  'Jardin',
  'Épicerie',
  'Coopérative',
  'Compagnie',
  'Maison',
  'Réseau',
];
const PLACES = [
  'des Pentes',
  'du Rhône',
  'des Volcans',
  'de la Loire',
  'des Alpes',
  'du Vercors',
  'de Belledonne',
  'des Dombes',
];

/** mulberry32: a tiny seeded generator, so the demo portfolio is the same on every machine. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

/** 13 digits and a Luhn check digit. */
function siret(random: ReturnType<typeof generator>): string {
  const draw = () =>
    String(random.int(1, 9)) + Array.from({ length: 12 }, () => random.int(0, 9)).join('');
  let digits = draw();
  while (digits.startsWith(LA_POSTE_SIREN)) digits = draw();
  return withLuhnCheckDigit(digits);
}

/**
 * Most borrowers pay every instalment on its due date; one in five stops paying at some point (the
 * portfolio then has arrears to show). At most 12 payments a loan, to keep the seed quick: older
 * loans are then in arrears too (a payment settles the oldest instalment first). Says how many it
 * paid, and whether the loan suits the README's examples: paid up to date, twelve instalments ahead at least.
 */
async function payDueInstalments(
  db: Db,
  admin: RequestContext,
  loanId: string,
  random: ReturnType<typeof generator>,
  today: CalendarDate,
) {
  const { instalments } = await getLoanSchedule(db, ADMIN, loanId, today);
  const owed = instalments.filter((row) => row.due_date <= today && row.total !== 0n);
  const due = owed.slice(-12);
  const paying = random.chance(0.8) ? due.length : random.int(0, due.length);
  for (const row of due.slice(0, paying)) {
    await recordRepayment(
      db,
      admin,
      loanId,
      {
        amount: formatMoney(row.total),
        value_date: row.due_date,
        reference: `VIR-${row.due_date}`,
      },
      randomUUID(),
      today,
    );
  }
  const ahead = instalments.filter((row) => row.due_date > today).length;
  return { paid: paying, example: paying === owed.length && ahead >= 12 };
}

async function seed() {
  const config = loadConfig();
  const db = await connectDatabase(config);
  await migrate(db);
  const random = generator(20260101);
  const admin: RequestContext = { actor: ADMIN, requestId: 'seed' };
  const today = todayInParis();

  const fund = (
    await createFund(db, admin, {
      name: 'Fonds territorial de relance solidaire Auvergne-Rhône-Alpes',
      region_code: '84',
      department_codes: [...new Set(TERRITORIES.map((t) => t.department))],
    })
  ).body;
  const recovery = (
    await createProduct(db, admin, {
      fund_id: fund.id,
      name: 'Prêt de relance à taux zéro',
      kind: 'recovery',
      principal_min: '5000.00',
      principal_max: '150000.00',
      annual_rate_percent_min: '0',
      annual_rate_percent_max: '0',
      term_periods_min: 12,
      term_periods_max: 96,
      deferral_periods_max: 24,
      methods: ['annuity', 'linear'],
      periodicities: ['monthly', 'quarterly'],
      guarantee_coverage_percent: '70',
    })
  ).body;
  const commonLaw = (
    await createProduct(db, admin, {
      fund_id: fund.id,
      name: 'Prêt participatif de droit commun',
      kind: 'common_law',
      principal_min: '10000.00',
      principal_max: '300000.00',
      annual_rate_percent_min: '1',
      annual_rate_percent_max: '4',
      term_periods_min: 12,
      term_periods_max: 120,
      deferral_periods_max: 12,
      methods: ['annuity', 'linear', 'bullet'],
      periodicities: ['monthly', 'quarterly'],
      guarantee_coverage_percent: '50',
    })
  ).body;

  const structures = [];
  for (let i = 0; i < 50; i++) {
    const territory = random.pick(TERRITORIES);
    const legalForm = random.pick(FORMS);
    structures.push(
      (
        await createStructure(db, admin, {
          fund_id: fund.id,
          legal_name: `${random.pick(NAMES)} ${random.pick(PLACES)} ${i + 1}`,
          siret: siret(random),
          legal_form: legalForm,
          esus: legalForm === 'esus_company' || random.chance(0.3),
          naf_code: random.pick(SECTORS),
          commune_code: territory.commune,
          department_code: territory.department,
          region_code: '84',
          jobs_fte: `${random.int(1, 60)}.${random.pick(['00', '50'])}`,
          contact_email: `contact+${i + 1}@example.org`,
        })
      ).body,
    );
  }

  let disbursed = 0;
  let repayments = 0;
  let example: { loanId: string; structureId: string } | undefined;
  for (let i = 0; i < 200; i++) {
    const isRecovery = i % 2 === 0;
    const periodicity = random.chance(0.8) ? 'monthly' : 'quarterly';
    const perYear = periodicity === 'monthly' ? 12 : 4;
    const expected: CalendarDate = addMonths(today, -random.int(0, 40), random.int(1, 28));
    const loan = (
      await createLoan(db, admin, {
        product_id: (isRecovery ? recovery : commonLaw).id,
        structure_id: random.pick(structures).id,
        principal: `${random.int(isRecovery ? 5 : 10, isRecovery ? 150 : 300) * 1000}.00`,
        annual_rate_percent: isRecovery
          ? '0'
          : random.pick(['1', '1.5', '2', '2.5', '3', '3.5', '4']),
        periodicity,
        term_periods: (isRecovery ? random.int(4, 8) : random.int(3, 10)) * perYear,
        deferral_periods: isRecovery
          ? Math.floor((random.int(12, 24) * perYear) / 12)
          : random.int(0, 1) * 3,
        deferral_type: random.chance(0.7) ? 'partial' : 'total',
        method: isRecovery
          ? random.pick(['annuity', 'linear'] as const)
          : random.pick(['annuity', 'annuity', 'linear', 'bullet'] as const),
        disbursement_date: expected,
      })
    ).body;
    if (random.chance(0.85) && expected <= today) {
      await disburseLoan(db, admin, loan.id, { date: expected, amount: loan.principal }, today);
      disbursed += 1;
      const { paid, example: suits } = await payDueInstalments(db, admin, loan.id, random, today);
      repayments += paid;
      if (suits) example ??= { loanId: loan.id, structureId: loan.structure_id };
    }
  }

  if (!example)
    throw new Error(
      "the seed made no loan paid up to date with twelve instalments ahead, for the README's examples",
    );
  const manager = await createApiKey(db, admin, {
    role: 'manager',
    fund_id: fund.id,
    label: 'demo manager',
  });
  const auditor = await createApiKey(db, admin, {
    role: 'auditor',
    fund_id: fund.id,
    label: 'demo auditor',
  });
  const borrower = structures.find((s) => s.id === example.structureId)!;
  const portal = await createApiKey(db, admin, {
    role: 'structure',
    structure_id: borrower.id,
    label: 'demo partner portal',
  });
  await db.destroy();

  // Shell lines, for `eval` or copy-paste (the README's examples use these names); `#` lines for the reader.
  console.log(
    `# ${fund.name}: 2 products, ${structures.length} structures, 200 loans (${disbursed} disbursed, ${repayments} repayments).`,
  );
  console.log(
    "# Its id and one API key per role, shown once (the admin's key is the ADMIN_API_KEY you set):",
  );
  console.log(`export FUND_ID=${fund.id}`);
  console.log(`export MANAGER_KEY=${manager.secret}`);
  console.log(`export AUDITOR_KEY=${auditor.secret}`);
  console.log(`# The structure key reads only the loans of ${borrower.legal_name}:`);
  console.log(`export STRUCTURE_ID=${borrower.id}`);
  console.log(`export STRUCTURE_KEY=${portal.secret}`);
  console.log('# One of its loans: active, paid up to date, twelve instalments ahead at least:');
  console.log(`export LOAN_ID=${example.loanId}`);
}

seed().catch((error: unknown) => {
  console.error(error instanceof DataDirInUseError ? error.message : error); // a refusal, not a bug: no stack
  process.exit(1);
});
