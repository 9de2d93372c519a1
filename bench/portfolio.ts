/**
 * A fund's portfolio big enough to time the workers on (bench/workers.ts): template loans made and
 * serviced through the real use cases — disbursed over 2021–2025, 60 monthly instalments, most paid
 * on their due dates, some in arrears, repaid early, written off (then a recovery) or restructured —
 * then cloned in SQL with every row that belongs to a loan (its state aid too: the fund records EU
 * base rates first, so each template has a GGE): 200 templates and 99 copies of each make
 * 20,000 loans, about 1.4 million instalments (a restructuring or a prepayment adds a schedule
 * version). The clones keep their template's structure and product, so the portfolio stays spread
 * over the structures' departments, NAF codes and legal forms.
 */
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from '../src/db/connect';
import { migrate } from '../src/db/migrate';
import { parseDate, type CalendarDate } from '../src/domain/dates';
import { cents, formatMoney, parseMoney } from '../src/domain/money';
import type { Periodicity } from '../src/domain/periods';
import type { Method } from '../src/domain/schedule';
import { withLuhnCheckDigit } from '../src/domain/structure-identifiers';
import { createFund } from '../src/funds/create-fund';
import { ADMIN, type RequestContext } from '../src/http/auth';
import { getTrialBalance } from '../src/ledger/get-trial-balance';
import { createLoan } from '../src/loans/create-loan';
import { disburseLoan } from '../src/servicing/disburse-loan';
import { createProduct } from '../src/products/create-product';
import { recordRepayment } from '../src/servicing/record-repayment';
import { restructureLoan, type RestructuringBody } from '../src/servicing/restructure-loan';
import { writeOffLoan } from '../src/servicing/write-off-loan';
import { recordBaseRate } from '../src/state-aid/record-base-rate';
import { createStructure } from '../src/structures/create-structure';

/** The day the portfolio stops: nothing is paid, restructured or written off after it. */
export const PORTFOLIO_TODAY = '2026-03-31' as CalendarDate;

const admin: RequestContext = { actor: ADMIN, requestId: 'bench-portfolio' };

// Department, a commune in it, its region: where the structures are.
export const PLACES = [
  ['69', '69123', '84'],
  ['75', '75056', '11'],
  ['13', '13055', '93'],
  ['33', '33063', '75'],
  ['59', '59350', '32'],
  ['44', '44109', '52'],
  ['31', '31555', '76'],
  ['67', '67482', '44'],
  ['35', '35238', '53'],
  ['2A', '2A004', '94'],
  ['974', '97411', '04'],
  ['21', '21231', '27'],
  ['45', '45234', '24'],
  ['14', '14118', '28'],
  ['63', '63113', '84'],
  ['34', '34172', '76'],
  ['06', '06088', '93'],
  ['76', '76540', '28'],
  ['92', '92050', '11'],
  ['38', '38185', '84'],
] as const;
export const NAF_CODES = [
  '88.99B',
  '88.10A',
  '56.10A',
  '38.32Z',
  '94.99Z',
  '47.11F',
  '85.59A',
  '90.01Z',
  '81.30Z',
  '01.13Z',
  '49.39A',
  '87.30A',
];
export const LEGAL_FORMS = ['association', 'cooperative', 'mutual', 'foundation', 'esus_company'];

/** A seeded generator (mulberry32): the same portfolio on every run. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000)
    .toISOString()
    .slice(0, 10) as CalendarDate;

type Behaviour = 'on_time' | 'arrears' | 'repaid_early' | 'written_off' | 'restructured';

/** About 60 % on time, 15 % in arrears, 8 % repaid early, 7 % written off, 10 % restructured. */
function behaviourOf(draw: number): Behaviour {
  if (draw < 0.6) return 'on_time';
  if (draw < 0.75) return 'arrears';
  if (draw < 0.83) return 'repaid_early';
  if (draw < 0.9) return 'written_off';
  return 'restructured';
}

interface Row {
  number: number;
  due_date: CalendarDate;
  total: string;
  balance_after: string;
}

/** The current schedule's instalments of a loan, in order. */
async function currentRows(db: Db, loanId: string): Promise<Row[]> {
  const { rows } =
    await sql<Row>`SELECT i.number, i.due_date::text AS due_date, i.total::text AS total, i.balance_after::text AS balance_after
    FROM instalments i JOIN loans l ON l.id = i.loan_id AND l.schedule_version = i.version WHERE l.id = ${loanId}::uuid ORDER BY i.number`.execute(
      db,
    );
  return rows;
}

/** Pays each row its total on its due date (the common repayment: appended, not replayed). */
async function pay(db: Db, loanId: string, rows: readonly Row[]): Promise<void> {
  for (const row of rows) {
    if (parseMoney(row.total) === 0n) continue;
    await recordRepayment(
      db,
      admin,
      loanId,
      { amount: row.total, value_date: row.due_date },
      `bench-${loanId}-${row.number}-${row.due_date}`,
      PORTFOLIO_TODAY,
    );
  }
}

/**
 * What happens to one template loan after its disbursement, as the back office would record it;
 * returns what was done (a loan too young for the plan drawn is paid on time).
 */
async function service(
  db: Db,
  loanId: string,
  behaviour: Behaviour,
  draw: () => number,
): Promise<Behaviour> {
  const rows = await currentRows(db, loanId);
  const due = rows.filter((row) => row.due_date <= PORTFOLIO_TODAY);
  const upTo = (count: number) => due.slice(0, Math.max(0, count));
  if (behaviour === 'arrears' && due.length > 0) {
    // 1 to 7 instalments missed at the end: from a few days to about 200 days late.
    await pay(db, loanId, upTo(due.length - 1 - Math.floor(draw() * Math.min(7, due.length))));
    return behaviour;
  }
  if (behaviour === 'repaid_early' && due.length > 8) {
    const last = 6 + Math.floor(draw() * (due.length - 7));
    await pay(db, loanId, upTo(last));
    const closing = due[last]!; // its instalment and every principal left, on its due date
    await recordRepayment(
      db,
      admin,
      loanId,
      {
        amount: formatMoney(cents(parseMoney(closing.total) + parseMoney(closing.balance_after))),
        value_date: closing.due_date,
      },
      `bench-${loanId}-closing`,
      PORTFOLIO_TODAY,
    );
    return behaviour;
  }
  if (behaviour === 'written_off' && due.length > 16) {
    const stopped = 3 + Math.floor(draw() * (due.length - 16));
    await pay(db, loanId, upTo(stopped));
    const writtenOffOn = addDays(due[stopped + 6]!.due_date, 1); // six instalments unpaid
    const written = (
      await writeOffLoan(
        db,
        admin,
        loanId,
        { date: writtenOffOn, reason: 'Liquidation judiciaire' },
        PORTFOLIO_TODAY,
      )
    ).body;
    const recovered = cents(
      (parseMoney(written.written_off_principal ?? '0') * BigInt(10 + Math.floor(draw() * 20))) /
        100n,
    );
    const recoveredOn = addDays(writtenOffOn, 45);
    if (recovered > 0n && recoveredOn <= PORTFOLIO_TODAY) {
      await recordRepayment(
        db,
        admin,
        loanId,
        { amount: formatMoney(recovered), value_date: recoveredOn },
        `bench-${loanId}-recovery`,
        PORTFOLIO_TODAY,
      );
    }
    return behaviour;
  }
  if (behaviour === 'restructured' && due.length > 12) {
    const at = 6 + Math.floor(draw() * (due.length - 10));
    // Half of them had missed two instalments, which the restructuring capitalises.
    const withArrears = draw() < 0.5;
    await pay(db, loanId, upTo(withArrears ? at - 2 : at));
    const effective = addDays(due[at - 1]!.due_date, 1);
    const kind = Math.floor(draw() * 3);
    const body: RestructuringBody =
      kind === 0
        ? {
            type: 'moratorium',
            periods: 6,
            deferral_type: 'partial',
            effective_date: effective,
            reason: 'Recovery plan',
          }
        : kind === 1
          ? {
              type: 'extension',
              remaining_periods: rows.length - at + 12,
              effective_date: effective,
              reason: 'Activity down',
            }
          : {
              type: 'rate_change',
              annual_rate_percent: '0.5',
              effective_date: effective,
              reason: 'Renegotiated',
            };
    await restructureLoan(
      db,
      admin,
      loanId,
      { ...body, capitalise_arrears: withArrears },
      PORTFOLIO_TODAY,
    );
    await pay(
      db,
      loanId,
      (await currentRows(db, loanId)).filter(
        (row) => row.due_date > effective && row.due_date <= PORTFOLIO_TODAY,
      ),
    );
    return behaviour;
  }
  await pay(db, loanId, due);
  return 'on_time';
}

/** The fund, its two products and 20 structures, through the use cases. */
async function fundWithStructures(db: Db, draw: () => number) {
  const fund = (
    await createFund(db, admin, {
      name: 'Bench portfolio fund',
      region_code: '84',
      department_codes: PLACES.map(([department]) => department),
    })
  ).body;
  const range = {
    principal_min: '1000',
    term_periods_min: 12,
    term_periods_max: 120,
    deferral_periods_max: 12,
    methods: ['annuity', 'linear'] satisfies Method[],
    periodicities: ['monthly'] satisfies Periodicity[],
  };
  const recovery = (
    await createProduct(db, admin, {
      ...range,
      fund_id: fund.id,
      name: 'Recovery loan',
      kind: 'recovery',
      principal_max: '100000',
      annual_rate_percent_min: '0',
      annual_rate_percent_max: '2',
      guarantee_coverage_percent: '50',
    })
  ).body;
  const commonLaw = (
    await createProduct(db, admin, {
      ...range,
      fund_id: fund.id,
      name: 'Common-law loan',
      kind: 'common_law',
      principal_max: '500000',
      annual_rate_percent_min: '0',
      annual_rate_percent_max: '10',
    })
  ).body;
  const structures: string[] = [];
  for (const [index, [department, commune, region]] of PLACES.entries()) {
    const structure = (
      await createStructure(db, admin, {
        fund_id: fund.id,
        legal_name: `Bench structure ${index}`,
        siret: withLuhnCheckDigit(`${String(412_000_000 + index * 7919).padStart(9, '0')}0001`),
        legal_form: LEGAL_FORMS[index % LEGAL_FORMS.length]!,
        naf_code: NAF_CODES[index % NAF_CODES.length]!,
        commune_code: commune,
        department_code: department,
        region_code: region,
        jobs_fte: (1 + Math.floor(draw() * 8000) / 100).toFixed(2),
        contact_email: `structure${index}@example.org`,
      })
    ).body;
    structures.push(structure.id);
  }
  // EU base rates before the first disbursement, so that every template gets its GGE (and its
  // aid_grants row) at disbursement, as a fund that keeps its rates up to date would: the state-aid
  // register (bench:state-aid) reads them. Illustrative figures, not the Commission's.
  for (const [effective_date, rate_percent] of [
    ['2020-01-01', '0.50'],
    ['2023-01-01', '3.00'],
  ] as const) {
    await recordBaseRate(db, admin, {
      fund_id: fund.id,
      effective_date: parseDate(effective_date),
      rate_percent,
    });
  }
  return { fund, recovery, commonLaw, structures };
}

/** The templates: made, disbursed and serviced through the use cases, `concurrency` loans at a time. */
async function makeTemplates(
  db: Db,
  templates: number,
  concurrency: number,
): Promise<{ fundId: string; behaviours: Map<Behaviour, number> }> {
  const draw = random(20_260_331);
  const { fund, recovery, commonLaw, structures } = await fundWithStructures(db, draw);
  const first = Date.parse('2021-01-04T00:00:00Z');
  const span = (Date.parse('2025-12-20T00:00:00Z') - first) / 86_400_000;
  const plans = Array.from({ length: templates }, (_, index) => {
    const isRecovery = index % 3 === 0;
    return {
      index,
      behaviour: behaviourOf(draw()),
      seed: Math.floor(draw() * 2 ** 31),
      body: {
        product_id: isRecovery ? recovery.id : commonLaw.id,
        structure_id: structures[index % structures.length]!,
        principal: isRecovery
          ? `${5_000 + 500 * Math.floor(draw() * 90)}.00`
          : `${10_000 + 1_000 * Math.floor(draw() * 140)}.00`,
        annual_rate_percent: isRecovery
          ? draw() < 0.5
            ? '0'
            : '1'
          : (2 + Math.floor(draw() * 10) / 4).toFixed(2),
        periodicity: 'monthly' as const,
        term_periods: 60,
        method: draw() < 0.8 ? ('annuity' as const) : ('linear' as const),
        disbursement_date: addDays('2021-01-04', Math.floor((index * span) / templates)),
      },
    };
  });
  const behaviours = new Map<Behaviour, number>();
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next++]!;
      const loan = (await createLoan(db, admin, plan.body)).body;
      await disburseLoan(
        db,
        admin,
        loan.id,
        { date: plan.body.disbursement_date, amount: plan.body.principal },
        PORTFOLIO_TODAY,
      );
      const done = await service(db, loan.id, plan.behaviour, random(plan.seed));
      behaviours.set(done, (behaviours.get(done) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { fundId: fund.id, behaviours };
}

/** The tables that hold a loan's rows, parents first. */
const CLONED = [
  'loans',
  'schedule_versions',
  'instalments',
  'repayments',
  'allocations',
  'restructurings',
  'arrears_settlements',
  'journal_entries',
  'journal_lines',
  'aid_grants',
];
/** Copies cloned per transaction. */
const CHUNK = 10;
const MAPS = [
  'template_loans',
  'loan_map',
  'repayment_map',
  'restructuring_map',
  'entry_map',
  'seq_map',
];

type Columns = Map<string, { name: string; drawn: boolean }[]>;

/**
 * `INSERT INTO table (…) SELECT … FROM rest`: every column of the table, as `t.column` unless
 * mapped. Columns a sequence or an identity fills are left out, so that new values are drawn,
 * unless mapped (the servicing facts' seq, drawn in the templates' order: see mapClones).
 */
function copyStatement(
  columns: Columns,
  table: string,
  rest: string,
  mapped: Record<string, string>,
): string {
  const kept = columns.get(table)!.filter((column) => column.name in mapped || !column.drawn);
  return `INSERT INTO ${table} (${kept.map((c) => c.name).join(', ')}) SELECT ${kept.map((c) => mapped[c.name] ?? `t.${c.name}`).join(', ')} FROM ${rest}`;
}

/**
 * uuidv7-shaped ids for the clones, in (k, template) order: a fixed millisecond, then a counter
 * where a uuidv7 has random bits. The use cases' ids are uuidv7 too, so the clones sort after the
 * templates, and inserted in id order they append to the indexes instead of landing all over them.
 */
const orderedId = (millis: number) =>
  `(lpad(to_hex(${millis}::bigint), 12, '0') || '70008' || lpad(to_hex(row_number() OVER (ORDER BY k, template)), 15, '0'))::uuid`;

/**
 * The maps from each template row to its clones, new uuids in (k, template) order: loan_map,
 * repayment_map, restructuring_map, entry_map (template, k, id), and seq_map for the facts' seq.
 * Unlogged tables rather than temporary ones: two connections share them.
 */
async function mapClones(client: pg.Client, fundId: string, copies: number): Promise<void> {
  await client.query(
    'CREATE UNLOGGED TABLE template_loans AS SELECT id FROM loans WHERE fund_id = $1',
    [fundId],
  );
  const maps = [
    ['loan_map', 'loans', 'id'],
    ['repayment_map', 'repayments', 'loan_id'],
    ['restructuring_map', 'restructurings', 'loan_id'],
    ['entry_map', 'journal_entries', 'loan_id'],
  ];
  for (const [index, [map, table, loan]] of maps.entries()) {
    await client.query(
      `CREATE UNLOGGED TABLE ${map} AS SELECT template, k, ${orderedId(Date.now() + index)} AS id
      FROM (SELECT t.id AS template, k FROM ${table} t, generate_series(1, $1) k WHERE t.${loan} IN (SELECT id FROM template_loans)) clones ORDER BY k, template`,
      [copies],
    );
  }
  // The facts of a loan (repayments, restructurings, the write-off) are ordered by one sequence,
  // the tie-break of a replay: each clone draws new numbers in its template's order.
  await client.query(
    `CREATE UNLOGGED TABLE seq_map AS SELECT k, template, nextval('servicing_facts_seq') AS seq FROM (
    SELECT k, template FROM (
      SELECT seq AS template FROM repayments WHERE loan_id IN (SELECT id FROM template_loans)
      UNION ALL SELECT seq FROM restructurings WHERE loan_id IN (SELECT id FROM template_loans)
      UNION ALL SELECT written_off_seq FROM loans WHERE id IN (SELECT id FROM template_loans) AND written_off_seq IS NOT NULL
    ) facts, generate_series(1, $1) k ORDER BY k, template) ordered`,
    [copies],
  );
  for (const map of MAPS.slice(1)) {
    await client.query(`CREATE UNIQUE INDEX ON ${map} (template, k)`);
    await client.query(`ANALYZE ${map}`);
  }
}

/**
 * The rows of clones `from` to `to` of every template loan (the loans themselves excepted), each
 * table in one statement, in the new ids' order. A journal entry's source ("repayment:<id>",
 * "restructuring:<id>") and the entry it reverses point at the clone's own. Journal lines are
 * copied unchanged, so every entry still balances: the deferred trigger checks it at the commit
 * of the transaction that writes both.
 */
async function cloneRows(
  client: pg.Client,
  columns: Columns,
  from: number,
  to: number,
  trace: (text: string, ms: number) => void,
): Promise<void> {
  const run = async (text: string) => {
    const started = performance.now();
    await client.query(text, text.includes('$1') ? [from, to] : []);
    trace(text, performance.now() - started);
  };
  const clones = (alias: string) => `${alias}.k BETWEEN $1 AND $2`;
  await run(
    copyStatement(
      columns,
      'schedule_versions',
      `schedule_versions t JOIN loan_map m ON m.template = t.loan_id WHERE ${clones('m')} ORDER BY m.id, t.version`,
      { loan_id: 'm.id' },
    ),
  );
  await run(
    copyStatement(
      columns,
      'instalments',
      `instalments t JOIN loan_map m ON m.template = t.loan_id WHERE ${clones('m')} ORDER BY m.id, t.version, t.number`,
      { loan_id: 'm.id' },
    ),
  );
  await run(
    copyStatement(
      columns,
      'repayments',
      `repayments t JOIN repayment_map r ON r.template = t.id JOIN loan_map m ON m.template = t.loan_id AND m.k = r.k
    JOIN seq_map s ON s.k = r.k AND s.template = t.seq WHERE ${clones('r')} ORDER BY r.id`,
      { id: 'r.id', loan_id: 'm.id', seq: 's.seq' },
    ),
  );
  await run(
    copyStatement(
      columns,
      'allocations',
      `allocations t JOIN repayment_map r ON r.template = t.repayment_id WHERE ${clones('r')} ORDER BY r.id, t.number`,
      { repayment_id: 'r.id' },
    ),
  );
  await run(
    copyStatement(
      columns,
      'restructurings',
      `restructurings t JOIN restructuring_map x ON x.template = t.id JOIN loan_map m ON m.template = t.loan_id AND m.k = x.k
    JOIN seq_map s ON s.k = x.k AND s.template = t.seq WHERE ${clones('x')} ORDER BY x.id`,
      { id: 'x.id', loan_id: 'm.id', seq: 's.seq' },
    ),
  );
  // The loan's state aid (its GGE at disbursement, and at a restructuring that changed it): the
  // loans' own state-aid columns come with the loans; the grants get fresh ids (a default, not drawn).
  await run(
    copyStatement(
      columns,
      'aid_grants',
      `aid_grants t JOIN loan_map m ON m.template = t.loan_id WHERE ${clones('m')} ORDER BY m.id, t.seq`,
      { id: 'gen_random_uuid()', loan_id: 'm.id' },
    ),
  );
  await run(
    copyStatement(
      columns,
      'arrears_settlements',
      `arrears_settlements t JOIN restructuring_map x ON x.template = t.restructuring_id WHERE ${clones('x')} ORDER BY x.id, t.number`,
      { restructuring_id: 'x.id' },
    ),
  );
  await run('BEGIN');
  await run(
    copyStatement(
      columns,
      'journal_entries',
      `journal_entries t JOIN entry_map e ON e.template = t.id JOIN loan_map m ON m.template = t.loan_id AND m.k = e.k
    LEFT JOIN entry_map v ON v.template = t.reverses AND v.k = e.k
    LEFT JOIN repayment_map r ON 'repayment:' || r.template = t.source AND r.k = e.k
    LEFT JOIN restructuring_map x ON 'restructuring:' || x.template = t.source AND x.k = e.k
    WHERE ${clones('e')} ORDER BY e.id`,
      {
        id: 'e.id',
        loan_id: 'm.id',
        reverses: 'v.id',
        source: `CASE WHEN r.id IS NOT NULL THEN 'repayment:' || r.id WHEN x.id IS NOT NULL THEN 'restructuring:' || x.id ELSE t.source END`,
      },
    ),
  );
  await run(
    copyStatement(
      columns,
      'journal_lines',
      `journal_lines t JOIN entry_map e ON e.template = t.entry_id WHERE ${clones('e')} ORDER BY e.id, t.line`,
      { entry_id: 'e.id' },
    ),
  );
  await run('COMMIT'); // the balance triggers run here, once per entry and line
}

/**
 * Every loan of the fund (the templates) cloned `copies` times with all its rows, under new uuids
 * mapped consistently. The maps and the loans on one connection; then the other tables on two
 * (two cores: PostgreSQL runs a statement on one), CHUNK copies at a time.
 */
async function cloneTemplates(databaseUrl: string, fundId: string, copies: number): Promise<void> {
  const trace = (text: string, ms: number) => {
    if (process.env.BENCH_TRACE)
      console.log(`  ${(ms / 1000).toFixed(2)} s  ${text.replace(/\s+/g, ' ').slice(0, 80)}`);
  };
  const clients = [new pg.Client(databaseUrl), new pg.Client(databaseUrl)];
  await Promise.all(
    clients.map(async (client) => {
      await client.connect();
      await client.query("SET work_mem = '256MB'"); // the ordered inserts sort in memory
    }),
  );
  try {
    const first = clients[0]!;
    const { rows } = await first.query<{ table_name: string; column_name: string; drawn: boolean }>(
      `
      SELECT table_name, column_name, (column_default LIKE 'nextval%' OR is_identity = 'YES') AS drawn FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = ANY($1) ORDER BY table_name, ordinal_position`,
      [CLONED],
    );
    const columns: Columns = new Map();
    for (const row of rows)
      columns.set(row.table_name, [
        ...(columns.get(row.table_name) ?? []),
        { name: row.column_name, drawn: row.drawn },
      ]);
    let started = performance.now();
    await mapClones(first, fundId, copies);
    trace('maps', performance.now() - started);
    started = performance.now();
    await first.query(
      copyStatement(
        columns,
        'loans',
        'loans t JOIN loan_map m ON m.template = t.id LEFT JOIN seq_map s ON s.k = m.k AND s.template = t.written_off_seq ORDER BY m.id',
        { id: 'm.id', written_off_seq: 's.seq' },
      ),
    );
    trace('loans', performance.now() - started);
    // Chunks of a few copies: each transaction's balance triggers then read pages still in shared buffers.
    let next = 1;
    await Promise.all(
      clients.map(async (client) => {
        while (next <= copies) {
          const from = next;
          next = Math.min(copies, from + CHUNK - 1) + 1;
          await cloneRows(client, columns, from, next - 1, trace);
        }
      }),
    );
    await first.query(`DROP TABLE ${MAPS.join(', ')}`);
    // As autovacuum would leave them (statistics, visibility map, hint bits), and so that it does not start on them during the measures.
    await first.query(`VACUUM (ANALYZE) ${CLONED.join(', ')}`);
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

export interface Portfolio {
  readonly fundId: string;
  readonly asOf: CalendarDate;
  readonly templates: number;
  readonly behaviours: Map<string, number>;
  readonly templateSeconds: number;
  readonly cloneSeconds: number;
  readonly counts: {
    loans: number;
    active: number;
    instalments: number;
    repayments: number;
    journalLines: number;
    aidGrants: number;
  };
  /** The loans-receivable balance as of asOf: the trial balance's, the templates' × (copies + 1), the loans' outstanding principal. */
  readonly receivable: { ledger: string; expected: string; outstanding: string };
}

const receivableOf = async (db: Db, fundId: string) =>
  (await getTrialBalance(db, ADMIN, fundId, PORTFOLIO_TODAY)).lines.find(
    (l) => l.account === 'loans_receivable',
  )!.balance;

/** Migrates the (empty) database, makes the templates, clones them; checks the ledger still adds up. */
export async function generatePortfolio(
  db: Db,
  databaseUrl: string,
  options: { templates: number; copies: number; concurrency: number },
): Promise<Portfolio> {
  await migrate(db);
  const started = performance.now();
  const { fundId, behaviours } = await makeTemplates(db, options.templates, options.concurrency);
  const templateReceivable = await receivableOf(db, fundId);
  const cloning = performance.now();
  await cloneTemplates(databaseUrl, fundId, options.copies);
  const done = performance.now();

  const {
    rows: [counts],
  } = await sql<Portfolio['counts'] & { outstanding: string }>`SELECT
    (SELECT count(*)::int FROM loans WHERE fund_id = ${fundId}::uuid) AS loans,
    (SELECT count(*)::int FROM loans WHERE fund_id = ${fundId}::uuid AND status = 'active') AS active,
    (SELECT count(*)::int FROM instalments) AS instalments,
    (SELECT count(*)::int FROM repayments) AS repayments,
    (SELECT count(*)::int FROM journal_lines) AS "journalLines",
    (SELECT count(*)::int FROM aid_grants WHERE fund_id = ${fundId}::uuid) AS "aidGrants",
    (SELECT sum(outstanding_principal)::text FROM loans WHERE fund_id = ${fundId}::uuid) AS outstanding`.execute(
    db,
  );
  const { outstanding, ...rest } = counts!;
  const ledger = await receivableOf(db, fundId);
  const expected = cents(templateReceivable * BigInt(options.copies + 1));
  return {
    fundId,
    asOf: PORTFOLIO_TODAY,
    templates: options.templates,
    behaviours,
    templateSeconds: (cloning - started) / 1000,
    cloneSeconds: (done - cloning) / 1000,
    counts: rest,
    receivable: { ledger: formatMoney(ledger), expected: formatMoney(expected), outstanding },
  };
}
