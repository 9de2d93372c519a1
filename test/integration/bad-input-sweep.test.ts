/**
 * The bad-input sweep (issue 11). For every operation of openapi.yaml, a valid baseline request
 * (the table below), then one bad value at a time — every parameter, every body property
 * (recursively), whole bodies — generated from the schema by test/support/bad-inputs.ts. Each
 * answer: never a 5xx; every error application/problem+json with type, title, status and detail, a
 * 400 or 422 naming its fields; an id of another fund a 404; nothing accepted that breaks the
 * contract; and nothing written: a request that fails leaves every table's row count as it was.
 * A 2xx to a write that keeps the contract is not a failure but is listed in the report, and the
 * count is taken again. On a database of its own, so that no other test file's rows move the counts.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { sql } from 'kysely';
import pino from 'pino';
import request, { type Response } from 'supertest';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db/connect';
import type { CalendarDate } from '../../src/domain/dates';
import { hashSecret } from '../../src/http/auth';
import { scanReminders } from '../../src/reminders/scan-reminders';
import { computeReport } from '../../src/reports/compute-report';
import { buildExport } from '../../src/exports/build-export';
import { ADMIN_KEY, LIMITS_OUT_OF_REACH } from '../support/app';
import { loanBody } from '../support/authorization-matrix';
import {
  bodyMutations,
  bodyText,
  contractValid,
  operations,
  parameterMutations,
  renderUrl,
  requestMutations,
  type Mutation,
  type Operation,
  type RequestShape,
  type ValueContext,
} from '../support/bad-inputs';
import { isolatedDatabase } from '../support/db';
import {
  as,
  createFund,
  createKey,
  createProduct,
  createStructure,
  productBody,
  randomSiret,
  structureBody,
  unique,
} from '../support/portfolio';

jest.setTimeout(60_000);

// ---------------------------------------------------------------- the world the baselines name

/** Fund A is swept; fund B holds the same resources, whose ids a manager of A must not reach. */
interface World {
  readonly fund: string;
  readonly product: string;
  readonly structure: string;
  /** An active loan with a repayment: the loan the reads name. */
  readonly loan: string;
  readonly repayment: string;
  readonly report: string;
  readonly export: string;
  readonly import: string;
  readonly key: string;
  /** A webhook endpoint of the fund, and the event of its loan's creation. */
  readonly endpoint: string;
  readonly event: string;
  /** A funding source of the fund (issue 15). */
  readonly fundingSource: string;
}
let a: World;
let b: World;
let managerKey: string;

/**
 * The maps below name path parameters and body fields in snake_case, as the JSON fields are named:
 * a parameter still spelt in camelCase ("loanId", before the rename of path parameters reaches a
 * branch) finds its entry all the same.
 */
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
/** Path parameters, by name, when the operation's baseline does not bring a fresh target of its own. */
const pathDefaults = (w: World): Record<string, string> => ({
  fund_id: w.fund,
  product_id: w.product,
  structure_id: w.structure,
  loan_id: w.loan,
  repayment_id: w.repayment,
  report_id: w.report,
  export_id: w.export,
  import_id: w.import,
  key_id: w.key,
  version: '1',
  endpoint_id: w.endpoint,
  event_id: w.event,
  kind: 'loans',
  source_id: w.fundingSource,
  linked_id: w.structure, // state aid: unlinking a structure from itself removes nothing (204)
});
/** Which of fund B's ids stands for a field or parameter of this name. */
const context: ValueContext = {
  otherFund: (name) =>
    (
      ({
        fund_id: b.fund,
        product_id: b.product,
        structure_id: b.structure,
        loan_id: b.loan,
        repayment_id: b.repayment,
        report_id: b.report,
        export_id: b.export,
        import_id: b.import,
        key_id: b.key,
        endpoint_id: b.endpoint,
        event_id: b.event,
        source_id: b.fundingSource,
        funding_source_id: b.fundingSource,
        linked_id: b.structure,
      }) as Record<string, string>
    )[snakeCase(name)],
};

const DATED = '2025-01-15';
type Lender = Pick<World, 'product' | 'structure'>;
/** A new pending loan of fund A (or of the fund whose product and structure are given). */
async function pendingLoan(w: Lender = a): Promise<string> {
  const res = await as(app, ADMIN_KEY).post('/v1/loans', loanBody(w.product, w.structure));
  if (res.status !== 201) throw new Error(`creating a loan answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}
async function activeLoan(w: Lender = a): Promise<string> {
  const id = await pendingLoan(w);
  const res = await as(app, ADMIN_KEY).post(`/v1/loans/${id}/disbursement`, {
    date: DATED,
    amount: '10000.00',
  });
  if (res.status !== 200) throw new Error(`disbursing a loan answered ${res.status}: ${res.text}`);
  return id;
}
async function repayment(loanId: string): Promise<string> {
  const res = await as(app, ADMIN_KEY).post(
    `/v1/loans/${loanId}/repayments`,
    { amount: '100.00', value_date: '2025-02-15' },
    { 'Idempotency-Key': randomUUID() },
  );
  if (res.status !== 201)
    throw new Error(`recording a repayment answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}
/** A done report, computed here as the worker would. */
async function doneReport(fundId: string): Promise<string> {
  const res = await as(app, ADMIN_KEY).post('/v1/reports', {
    fund_id: fundId,
    as_of: '2025-06-30',
  });
  if (res.status !== 202 || (await computeReport(db, res.body.id, true)) !== 'done')
    throw new Error(`the report of ${fundId} was not made: ${res.text}`);
  return res.body.id as string;
}

/** A done export, built here as the worker would. */
async function doneExport(fundId: string): Promise<string> {
  const res = await as(app, ADMIN_KEY).post('/v1/exports', {
    fund_id: fundId,
    as_of: '2025-06-30',
  });
  if (res.status !== 202 || (await buildExport(db, res.body.id, true)) !== 'done')
    throw new Error(`the export of ${fundId} was not made: ${res.text}`);
  return res.body.id as string;
}

/** An import, queued (a structure to create). */
async function queuedImport(fundId: string): Promise<string> {
  const structures = `legal_name,siret,legal_form,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email\nSwept import,${randomSiret()},association,88.99B,69123,69,84,1,import@example.org\n`;
  const res = await as(app, ADMIN_KEY).post('/v1/imports', {
    fund_id: fundId,
    mode: 'commit',
    structures,
  });
  if (res.status !== 202) throw new Error(`the import of ${fundId} was not queued: ${res.text}`);
  return res.body.id as string;
}

/** A fund with one of each resource (its active loan has a repayment; its reminders are made). */
async function buildWorld(): Promise<World> {
  const fund = (await createFund(app)).id;
  const [product, structure] = await Promise.all([
    createProduct(app, fund, ADMIN_KEY),
    createStructure(app, fund, ADMIN_KEY),
  ]);
  const lender = { product: product.id, structure: structure.id };
  const loan = await activeLoan(lender);
  const [paid, made, key] = await Promise.all([
    repayment(loan),
    doneReport(fund),
    createKey(app, { role: 'auditor', fund_id: fund }),
  ]);
  const exported = await doneExport(fund);
  const imported = await queuedImport(fund);
  await scanReminders(db, '2025-06-30' as CalendarDate, fund);
  const endpoint = await webhookEndpoint(fund);
  const event = (await as(app, ADMIN_KEY).get(`/v1/events?loan_id=${loan}&type=loan.created`)).body
    .items[0].id as string;
  const source = await as(app, ADMIN_KEY).post(`/v1/funds/${fund}/funding-sources`, {
    origin: 'region',
    label: 'sweep',
    amount_committed: '1000.00',
    start_date: '2024-01-01',
  });
  if (source.status !== 201)
    throw new Error(`recording a funding source answered ${source.status}: ${source.text}`);
  return {
    fund,
    ...lender,
    loan,
    repayment: paid,
    report: made,
    export: exported,
    import: imported,
    key: key.id,
    endpoint,
    event,
    fundingSource: source.body.id as string,
  };
}

async function webhookEndpoint(fundId: string): Promise<string> {
  const res = await as(app, ADMIN_KEY).post('/v1/webhook-endpoints', {
    url: 'https://example.org/hook',
    event_types: ['loan.created'],
    fund_id: fundId,
  });
  if (res.status !== 201)
    throw new Error(`registering a webhook endpoint answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}
/** A fund has at most 16 endpoints: those the sweep made are deleted before it makes another. */
async function forgetSweptEndpoints(): Promise<void> {
  await sql`UPDATE webhook_endpoints SET deleted_at = now() WHERE fund_id = ${a.fund}::uuid AND id <> ${a.endpoint}::uuid AND deleted_at IS NULL`.execute(
    db,
  );
}
const freshEndpoint = async () => {
  await forgetSweptEndpoints();
  return { endpoint_id: await webhookEndpoint(a.fund) };
};

// ---------------------------------------------------------------- the baselines: one valid request per operation

interface Baseline {
  readonly query?: () => Record<string, string>;
  readonly headers?: () => Record<string, string>;
  readonly body?: () => unknown;
  /** A fresh resource for a write that changes it (its path parameters), made again after each 2xx. */
  readonly target?: () => Promise<Record<string, string>>;
  /** Fund A's manager may call it (all but opening a fund); mutations are also sent, for a sample, with its key. */
  readonly manager?: false;
  /** A POST that writes nothing (the simulator): its 2xx are not listed. */
  readonly stateless?: true;
}

const AS_OF = { query: () => ({ as_of: '2025-06-30' }) };
const freshPending = async () => ({ loan_id: await pendingLoan() });
const freshActive = async () => ({ loan_id: await activeLoan() });
const freshRepayment = async () => {
  const loanId = await activeLoan();
  return { loan_id: loanId, repayment_id: await repayment(loanId) };
};
const TERMS = {
  principal: '10000.00',
  annual_rate_percent: '2',
  periodicity: 'monthly',
  term_periods: 24,
  deferral_periods: 0,
  deferral_type: 'partial',
  method: 'annuity',
  day_count: '30E/360',
  rounding: 'half_up',
  instalment_multiple: '0.01',
  disbursement_date: DATED,
  first_due_date: '2025-02-15',
};
/**
 * A moratorium of another length each time: the same one declared twice is a 409, which would hide
 * what the mutation does. Of common-law loans, which fund A has none of: each one accepted stays
 * cheap (the restructuring of a loan is swept through POST …/restructurings).
 */
let moratoria = 0;
const nextPeriods = () => 1 + (moratoria++ % 120);
const REMINDERS = {
  reminder_days_before: [15, 3],
  reminder_days_after: [1, 15, 30],
  reminder_channels: ['webhook', 'email'],
  webhook_url: 'https://example.org/hook',
};

/** Impact snapshots (issue 15): one per structure and date, so each baseline gets a date of its own. */
let snapshotDays = 0;
const impactSnapshot = () => ({
  snapshot_date: new Date(Date.UTC(2001, 0, 1) + snapshotDays++ * 86_400_000)
    .toISOString()
    .slice(0, 10),
  jobs_fte: '10.5',
  jobs_created: 2,
  jobs_maintained: '8.5',
  still_active: true,
  revenue: '120000.00',
});

let baseRates = 0;
/** Another structure of fund A for a link, made again after each link. */
let partner = '';
/** Optional properties are in the baselines where one request can hold them all; the others are added by their mutations. */
const BASELINES: Record<string, Baseline> = {
  'GET /healthz': {},
  'GET /readyz': {},
  'GET /openapi.yaml': {},
  'GET /docs': {},
  'POST /v1/schedules/preview': { body: () => TERMS, stateless: true },
  'POST /v1/funds': {
    body: () => ({
      name: unique('Fonds'),
      region_code: '84',
      department_codes: ['69', '01'],
      currency: 'EUR',
      ...REMINDERS,
    }),
    manager: false,
  },
  'GET /v1/funds': {},
  'GET /v1/funds/{fund_id}': {},
  'PATCH /v1/funds/{fund_id}': { body: () => ({ name: unique('Fonds'), ...REMINDERS }) },
  'GET /v1/funds/{fund_id}/webhook-secret': {},
  'GET /v1/funds/{fund_id}/ledger/trial-balance': AS_OF,
  'POST /v1/products': {
    body: () => ({ ...productBody(a.fund), rounding: 'half_up', guarantee_coverage_percent: '50' }),
  },
  'GET /v1/products': {},
  'GET /v1/products/{product_id}': {},
  'PATCH /v1/products/{product_id}': { body: () => ({ name: unique('Produit'), active: true }) },
  'POST /v1/structures': {
    body: () =>
      structureBody(a.fund, { rna: 'W691234567', webhook_url: 'https://example.org/hook' }),
  },
  'GET /v1/structures': {},
  'GET /v1/structures/{structure_id}': {},
  // Identifiers aside: the structure has a loan, so a new SIRET would be a 409 (they are swept as mutations).
  'PATCH /v1/structures/{structure_id}': {
    body: () => ({
      legal_name: unique('Structure'),
      legal_form: 'association',
      esus: true,
      naf_code: '88.99B',
      commune_code: '69123',
      department_code: '69',
      region_code: '84',
      jobs_fte: '3.5',
      contact_email: 'sweep@example.org',
      webhook_url: 'https://example.org/hook',
    }),
  },
  'POST /v1/loans': {
    body: () => ({
      product_id: a.product,
      structure_id: a.structure,
      ...TERMS,
      funding: [{ funding_source_id: a.fundingSource, percent: '100' }],
    }),
  },
  'GET /v1/loans': {},
  'GET /v1/loans/{loan_id}': AS_OF,
  'PATCH /v1/loans/{loan_id}': {
    body: () => ({ leverage_bank_loans: '20000.00', leverage_grants: '5000' }),
  }, // issue 15 item 4 (h-terr)
  'POST /v1/loans/{loan_id}/disbursement': {
    target: freshPending,
    body: () => ({ date: DATED, amount: '10000.00' }),
  },
  'POST /v1/loans/{loan_id}/cancellation': {
    target: freshPending,
    body: () => ({ reason: 'sweep' }),
  },
  'GET /v1/loans/{loan_id}/schedule': AS_OF,
  'GET /v1/loans/{loan_id}/schedule/versions': {},
  'GET /v1/loans/{loan_id}/schedule/versions/{version}': AS_OF,
  'POST /v1/loans/{loan_id}/repayments': {
    target: freshActive,
    headers: () => ({ 'Idempotency-Key': randomUUID() }),
    body: () => ({
      amount: '100.00',
      value_date: '2025-02-15',
      reference: 'VIR 2025-02',
      prepayment: 'reduce_term',
    }),
  },
  'GET /v1/loans/{loan_id}/repayments': {},
  'GET /v1/loans/{loan_id}/repayments/{repayment_id}': {},
  'POST /v1/loans/{loan_id}/repayments/{repayment_id}/reversal': {
    target: freshRepayment,
    body: () => ({ reason: 'sweep' }),
  },
  'POST /v1/loans/{loan_id}/restructurings': {
    target: freshActive,
    body: () => ({
      type: 'moratorium',
      effective_date: '2025-02-20',
      reason: 'sweep',
      periods: 3,
      deferral_type: 'partial',
      capitalise_arrears: false,
    }),
  },
  'GET /v1/loans/{loan_id}/restructurings': {},
  'POST /v1/loans/{loan_id}/write-off': {
    target: freshActive,
    body: () => ({ date: '2025-03-01', reason: 'sweep' }),
  },
  'GET /v1/loans/{loan_id}/statement': AS_OF,
  'POST /v1/funds/{fund_id}/moratoria': {
    body: () => ({
      kind: 'common_law',
      effective_date: '2025-02-20',
      periods: nextPeriods(),
      deferral_type: 'partial',
      capitalise_arrears: false,
      reason: 'sweep',
    }),
  },
  'POST /v1/api-keys': {
    body: () => ({ role: 'manager', fund_id: a.fund, label: unique('sweep') }),
  },
  'GET /v1/api-keys': {},
  'GET /v1/api-keys/{key_id}': {},
  'DELETE /v1/api-keys/{key_id}': {
    target: async () => ({
      key_id: (await createKey(app, { role: 'auditor', fund_id: a.fund })).id,
    }),
  },
  'GET /v1/audit-events': {},
  'GET /v1/audit-events/verify': { query: () => ({ fund_id: a.fund }) },
  'GET /v1/reminders': {},
  'POST /v1/reminders/scan': { body: () => ({ as_of: '2025-06-30', fund_id: a.fund }) },
  'POST /v1/reports': { body: () => ({ fund_id: a.fund, as_of: '2025-06-30' }) },
  'GET /v1/reports': {},
  'GET /v1/reports/{report_id}': {},
  'GET /v1/reports/{report_id}.csv': {},
  'POST /v1/imports': {
    body: () => ({
      fund_id: a.fund,
      mode: 'dry_run',
      repayments: 'loan_external_reference,value_date,amount\nP1,2025-02-28,100.00\n',
    }),
    stateless: true,
  },
  'GET /v1/imports/{import_id}': {},
  'GET /v1/imports/templates/{kind}.csv': { query: () => ({ conventions: 'fr' }) },
  // issue 15, territories (h-terr)
  'GET /v1/funds/{fund_id}/territories': { query: () => ({ level: 'epci', as_of: '2025-06-30' }) },
  'GET /v1/funds/{fund_id}/territories.csv': {
    query: () => ({ level: 'commune', as_of: '2025-06-30' }),
  },
  'POST /v1/exports': { body: () => ({ fund_id: a.fund, as_of: '2025-06-30' }) },
  'GET /v1/exports': {},
  'GET /v1/exports/{export_id}': {},
  'GET /v1/exports/{export_id}/bundle.zip': {},
  // State aid (docs/state-aid.md): one base rate per fund and date, so a date of its own each time.
  'POST /v1/eu-base-rates': {
    body: () => ({
      fund_id: a.fund,
      effective_date: `${2100 + baseRates++}-01-01`,
      rate_percent: '-0.31',
    }),
  },
  'GET /v1/eu-base-rates': { query: () => ({ fund_id: a.fund }) },
  'POST /v1/structures/{structure_id}/declared-aid': {
    body: () => ({
      grantor: 'Région',
      grant_date: '2024-06-01',
      amount: '1000.00',
      legal_basis: 'de_minimis',
    }),
  },
  'GET /v1/structures/{structure_id}/declared-aid': {},
  'POST /v1/structures/{structure_id}/undertaking-links': {
    target: async () => ((partner = (await createStructure(app, a.fund, ADMIN_KEY)).id), {}),
    body: () => ({ structure_id: partner }),
  },
  'DELETE /v1/structures/{structure_id}/undertaking-links/{linked_id}': {},
  'GET /v1/structures/{structure_id}/state-aid': AS_OF,
  'GET /v1/funds/{fund_id}/state-aid': { query: () => ({ from: '2025-01-01', to: '2025-12-31' }) },
  'GET /v1/funds/{fund_id}/state-aid.csv': {
    query: () => ({ from: '2025-01-01', to: '2025-12-31' }),
  },
  'GET /v1/events': {
    query: () => ({
      type: 'loan.created,loan.disbursed',
      loan_id: a.loan,
      since: '2025-01-01T00:00:00Z',
    }),
  },
  'GET /v1/events/{event_id}': {},
  'POST /v1/events/{event_id}/redeliveries': { body: () => ({ endpoint_id: a.endpoint }) },
  'POST /v1/webhook-endpoints': {
    target: async () => (await forgetSweptEndpoints(), {}),
    body: () => ({
      url: 'https://example.org/hook',
      event_types: ['loan.created', 'loan.repaid'],
      description: unique('sweep'),
      enabled: true,
      fund_id: a.fund,
    }),
  },
  'GET /v1/webhook-endpoints': {},
  'GET /v1/webhook-endpoints/{endpoint_id}': {},
  'PATCH /v1/webhook-endpoints/{endpoint_id}': {
    target: freshEndpoint,
    body: () => ({
      url: 'https://example.org/other',
      event_types: ['loan.created'],
      description: 'sweep',
      enabled: true,
    }),
  },
  'DELETE /v1/webhook-endpoints/{endpoint_id}': { target: freshEndpoint },
  'POST /v1/webhook-endpoints/{endpoint_id}/secret-rotation': { target: freshEndpoint },
  'GET /v1/webhook-endpoints/{endpoint_id}/deliveries': { query: () => ({ event_id: a.event }) },
  // --- issue 15 items 3-4: impact snapshots, funding sources, EU indicators
  'POST /v1/structures/{structure_id}/impact-snapshots': { body: impactSnapshot },
  'GET /v1/structures/{structure_id}/impact-snapshots': {
    query: () => ({ from: '2000-01-01', to: '2030-12-31' }),
  },
  'POST /v1/funds/{fund_id}/funding-sources': {
    body: () => ({
      origin: 'erdf',
      programme_code: '2021FR16RFPR015',
      priority: 'Priorité 1',
      label: unique('sweep'),
      amount_committed: '1000.00',
      start_date: '2024-01-01',
      end_date: '2029-12-31',
    }),
  },
  'GET /v1/funds/{fund_id}/funding-sources': {},
  'GET /v1/funds/{fund_id}/funding-sources/{source_id}': {},
  'PATCH /v1/funds/{fund_id}/funding-sources/{source_id}': {
    body: () => ({ label: unique('sweep'), amount_committed: '2000.00', end_date: '2030-12-31' }),
  },
  'GET /v1/funds/{fund_id}/funding-report': {
    query: () => ({ from: '2025-01-01', to: '2025-12-31' }),
  },
  'GET /v1/funds/{fund_id}/eu-indicators': {
    query: () => ({
      from: '2025-01-01',
      to: '2025-12-31',
      funding_source_id: a.fundingSource,
      also_fund_ids: a.fund,
    }),
  },
  // issue 15 item 3: the CSV versions
  'GET /v1/funds/{fund_id}/funding-report.csv': {
    query: () => ({ from: '2025-01-01', to: '2025-12-31' }),
  },
  'GET /v1/funds/{fund_id}/eu-indicators.csv': {
    query: () => ({
      from: '2025-01-01',
      to: '2025-12-31',
      funding_source_id: a.fundingSource,
      also_fund_ids: a.fund,
    }),
  },
  'GET /v1/loans/{loan_id}/funding': {},
  'PUT /v1/loans/{loan_id}/funding': {
    target: freshPending,
    body: () => ({ shares: [{ funding_source_id: a.fundingSource, percent: '100' }] }),
  },
};

function baselineShape(
  op: Operation,
  baseline: Baseline,
  target: Record<string, string> | undefined,
): RequestShape {
  const defaults = pathDefaults(a);
  const params = Object.fromEntries(
    op.parameters
      .filter((p) => p.in === 'path')
      .map((p) => [p.name, target?.[snakeCase(p.name)] ?? defaults[snakeCase(p.name)]!]),
  );
  const body = baseline.body?.();
  return {
    params,
    query: Object.entries(baseline.query?.() ?? {}),
    headers: baseline.headers?.() ?? {},
    body: body === undefined ? undefined : { json: body },
    contentType: body === undefined ? undefined : 'application/json',
  };
}

// ---------------------------------------------------------------- sending and judging

type Caller = 'admin' | 'manager' | 'none';
const keyOf = (caller: Caller) =>
  ({ admin: ADMIN_KEY, manager: managerKey, none: undefined })[caller];

async function send(op: Operation, shape: RequestShape, caller: Caller): Promise<Response> {
  const call = request(server)[op.method](renderUrl(op, shape));
  const key = keyOf(caller);
  if (key) call.set('Authorization', `Bearer ${key}`);
  for (const [name, value] of Object.entries(shape.headers)) call.set(name, value);
  if (shape.body) {
    const text = bodyText(shape.body);
    // A string is sent as is under the type set; a Buffer without one goes with no Content-Type at all.
    if (shape.contentType) call.set('Content-Type', shape.contentType).send(text);
    else call.send(Buffer.from(text));
  }
  return call;
}

interface Failure {
  readonly operation: string;
  readonly where: string;
  readonly kind: string;
  readonly caller: Caller;
  readonly status: number;
  readonly problem: string;
  readonly body: string;
  readonly log?: string;
}
const failures: Failure[] = [];
const acceptedWrites: {
  operation: string;
  where: string;
  kind: string;
  status: number;
  valid: boolean | undefined;
}[] = [];
let requestsSent = 0;

const isProblem = (res: Response) =>
  /^application\/problem\+json\b/.test(String(res.headers['content-type'] ?? ''));

/** What is wrong with this answer to this mutated request (nothing, most of the time). */
function judge(
  op: Operation,
  mutation: Mutation,
  caller: Caller,
  shape: RequestShape,
  res: Response,
): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push('5xx');
  if (res.status >= 400) {
    const body = (res.body ?? {}) as Record<string, unknown>;
    if (!isProblem(res))
      problems.push(`error not application/problem+json (${String(res.headers['content-type'])})`);
    else if (
      typeof body.type !== 'string' ||
      typeof body.title !== 'string' ||
      typeof body.detail !== 'string' ||
      body.status !== res.status
    ) {
      problems.push('problem without type, title, detail or the HTTP status');
    }
    if (
      (res.status === 400 || res.status === 422) &&
      !(Array.isArray(body.errors) && body.errors.length > 0)
    )
      problems.push(`${res.status} without errors`);
  }
  const ok = res.status >= 200 && res.status < 300;
  if (mutation.otherFund === 'not-found' && res.status !== 404)
    problems.push("another fund's id not answered 404");
  if (
    mutation.otherFund === 'not-found-or-empty' &&
    res.status !== 404 &&
    !(res.status === 200 && res.body.items?.length === 0)
  ) {
    problems.push("another fund's id as a filter: neither 404 nor an empty page");
  }
  if (ok && caller === 'none' && !op.isPublic) problems.push('2xx without an API key');
  if (ok && !mutation.otherFund && contractValid(op, shape) === false)
    problems.push('2xx to a request that breaks the contract');
  return problems;
}

// ---------------------------------------------------------------- nothing written

let tables: string[] = [];
async function rowCounts(): Promise<Record<string, number>> {
  const columns = sql.raw(
    tables.map((t) => `(SELECT count(*) FROM "${t}")::int AS "${t}"`).join(', '),
  );
  // A parameter, so that the connection prepares the statement once (src/db/connect.ts) instead of planning it each time.
  const { rows } = await sql<Record<string, number>>`SELECT ${columns} WHERE ${1}::int = 1`.execute(
    db,
  );
  return rows[0]!;
}
const changes = (before: Record<string, number>, after: Record<string, number>) =>
  tables
    .filter((t) => before[t] !== after[t])
    .map((t) => `${t} ${after[t]! > before[t]! ? '+' : ''}${after[t]! - before[t]!}`);

// ---------------------------------------------------------------- the server's own account of a 500

const serverErrors = new Map<string, string>();
const ourFrames = (stack: string | undefined) =>
  (stack ?? '')
    .split('\n')
    .filter((frame) => frame.includes('/src/'))
    .slice(0, 2)
    .map((frame) => frame.trim().replace(`${process.cwd()}/`, ''));
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as {
        msg?: string;
        request_id?: string;
        err?: { type?: string; message?: string; stack?: string };
      };
      if (entry.msg === 'unhandled error' && entry.request_id && entry.err) {
        serverErrors.set(
          entry.request_id,
          [
            `${entry.err.type}: ${entry.err.message?.slice(0, 160)}`,
            ...ourFrames(entry.err.stack),
          ].join(' '),
        );
      }
    }
    done();
  },
});

// ---------------------------------------------------------------- the sweep of one operation

/** Who sends a mutation: the admin; fund A's manager one time in five (an id of fund B: the manager alone); whole bodies as they say. */
function callersOf(mutation: Mutation, index: number, baseline: Baseline): Caller[] {
  const callers: Caller[] = mutation.otherFund
    ? ['manager']
    : ['admin', ...(mutation.alsoSentBy ?? (index % 5 === 0 ? ['manager'] : []))];
  return callers.filter((caller) => caller !== 'manager' || baseline.manager !== false);
}

const slowest: { ms: number; what: string }[] = [];

async function sweep(op: Operation): Promise<void> {
  const baseline = BASELINES[op.name]!;
  const writes = op.method !== 'get' && !baseline.stateless;
  let target = await baseline.target?.();
  const record = (
    mutation: Pick<Mutation, 'where' | 'kind'>,
    caller: Caller,
    res: Response,
    problem: string,
  ) =>
    failures.push({
      operation: op.name,
      where: mutation.where,
      kind: mutation.kind,
      caller,
      status: res.status,
      problem,
      body: res.text?.slice(0, 200) ?? '',
      log: serverErrors.get(String(res.headers['x-request-id'])),
    });

  // The baseline itself must pass, or every mutation would be refused for the baseline's fault.
  const first = await send(op, baselineShape(op, baseline, target), 'admin');
  requestsSent += 1;
  if (first.status < 200 || first.status > 299)
    record(
      { where: '(baseline)', kind: 'the valid baseline request' },
      'admin',
      first,
      'baseline not accepted',
    );
  if (writes && baseline.target) target = await baseline.target();

  const sample = baseline.body?.();
  const mutations = [
    ...parameterMutations(op.parameters, context),
    ...(op.body ? bodyMutations(op.body.schema, sample, context) : []),
    ...requestMutations(op, sample),
  ];
  const sends = mutations.flatMap((mutation, index) =>
    callersOf(mutation, index, baseline).map((caller) => ({ mutation, caller })),
  );

  let counts = await rowCounts();
  const run = async ({ mutation, caller }: (typeof sends)[number]) => {
    const shape = mutation.apply(baselineShape(op, baseline, target));
    const started = performance.now();
    const res = await send(op, shape, caller);
    requestsSent += 1;
    for (const problem of judge(op, mutation, caller, shape, res))
      record(mutation, caller, res, problem);
    if (!writes) return;
    slowest.push({
      ms: performance.now() - started,
      what: `${res.status} ${op.name} ${mutation.where} = ${mutation.kind} [${caller}]`,
    });
    const after = await rowCounts();
    if (res.status >= 200 && res.status < 300) {
      acceptedWrites.push({
        operation: op.name,
        where: mutation.where,
        kind: mutation.kind,
        status: res.status,
        valid: contractValid(op, shape),
      });
      if (baseline.target) target = await baseline.target();
      counts = await rowCounts();
      return;
    }
    const written = changes(counts, after);
    if (written.length > 0)
      record(
        mutation,
        caller,
        res,
        `wrote rows while answering ${res.status}: ${written.join(', ')}`,
      );
    counts = after;
  };

  if (writes) {
    // One at a time, so that a row written by a failed request is seen as that request's.
    for (const one of sends) await run(one);
    return;
  }
  // Reads, a few at a time; none of them may write anything.
  for (let i = 0; i < sends.length; i += 4) await Promise.all(sends.slice(i, i + 4).map(run));
  const written = changes(counts, await rowCounts());
  if (written.length > 0) {
    failures.push({
      operation: op.name,
      where: '(any)',
      kind: '(every mutation of a read)',
      caller: 'admin',
      status: 0,
      problem: `a read wrote rows: ${written.join(', ')}`,
      body: '',
    });
  }
}

// ---------------------------------------------------------------- the report

/** "  12  key" lines, the largest count first. */
function tally<T>(items: readonly T[], keyOf: (item: T) => string): string[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return [...counts]
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .map(([key, n]) => `  ${String(n).padStart(5)}  ${key}`);
}

/** Items with the same key once, with the distinct values of `part` they differ by. */
function merged<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  part: (item: T) => string,
): string[] {
  const groups = new Map<string, Set<string>>();
  for (const item of items)
    groups.set(keyOf(item), (groups.get(keyOf(item)) ?? new Set()).add(part(item)));
  return [...groups].map(([key, parts]) => `${key} [${[...parts].join(', ')}]`);
}

const causeOf = (f: Failure) => f.log ?? f.problem;

function report(seconds: number): string {
  const lines = [
    `Bad-input sweep: ${requestsSent} requests to ${OPERATIONS.length} operations in ${seconds.toFixed(1)} s; ${failures.length} failed.`,
  ];
  if (failures.length > 0) {
    lines.push(
      '',
      "Failures by cause (the server's log line for a 500):",
      ...tally(failures, causeOf),
    );
    lines.push('', 'Failures by operation:', ...tally(failures, (f) => f.operation));
    lines.push('', 'Failures by kind of mutation:', ...tally(failures, (f) => f.kind));
    lines.push('', 'Every failure, by cause: status operation where = mutation [callers]:');
    for (const cause of new Set(failures.map(causeOf))) {
      const ofCause = failures.filter((f) => causeOf(f) === cause);
      lines.push(
        `  ${cause}${ofCause[0]!.log ? '' : ` — ${ofCause[0]!.body.replace(/\s+/g, ' ')}`}`,
      );
      lines.push(
        ...merged(
          ofCause,
          (f) => `    ${f.status} ${f.operation} ${f.where} = ${f.kind}`,
          (f) => f.caller,
        ),
      );
    }
  }
  if (acceptedWrites.length > 0) {
    lines.push(
      '',
      `Writes that accepted a mutated request (${acceptedWrites.length} requests; it kept the contract unless marked):`,
    );
    lines.push(
      ...merged(
        acceptedWrites,
        (w) => `  ${w.status} ${w.operation} ${w.where}`,
        (w) => `${w.kind}${w.valid === false ? ' (BREAKS THE CONTRACT)' : ''}`,
      ),
    );
  }
  const slow = [...slowest].sort((x, y) => y.ms - x.ms).slice(0, 8);
  lines.push(
    '',
    'Slowest answers to writes (sent one at a time):',
    ...slow.map((s) => `  ${s.ms.toFixed(0).padStart(5)} ms  ${s.what}`),
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------- the test

let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;
let server: Server;
let started: number;

beforeAll(async () => {
  iso = await isolatedDatabase('sweep');
  db = iso.db;
  app = createApp({
    logger: pino({ level: 'error' }, logSink),
    db,
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
  });
  server = app.listen(0, '127.0.0.1');
  [a, b] = [await buildWorld(), await buildWorld()];
  managerKey = (await createKey(app, { role: 'manager', fund_id: a.fund })).secret;
  const { rows } = await sql<{
    table_name: string;
  }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(
    db,
  );
  tables = rows.map((row) => row.table_name);
  started = performance.now();
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await iso.drop();
});

// Writes first: the reads then also meet what the writes' accepted mutations left behind (a huge repayment, say).
const OPERATIONS = [
  ...operations().filter((op) => op.method !== 'get'),
  ...operations().filter((op) => op.method === 'get'),
];
const line = (f: Failure) =>
  `${f.status} ${f.where} = ${f.kind} [${f.caller}]: ${f.problem}${f.log ? ` — ${f.log}` : ''}`;

it('has a baseline for every operation of openapi.yaml, and for nothing else', () => {
  expect(Object.keys(BASELINES).sort()).toEqual(OPERATIONS.map((op) => op.name).sort());
});

describe('bad inputs', () => {
  it.each(OPERATIONS.map((op) => [op.name, op] as const))(
    '%s: no 5xx, problem+json everywhere, nothing written',
    async (_name, op) => {
      const before = failures.length;
      await sweep(op);
      expect(failures.slice(before).map(line)).toEqual([]);
    },
  );

  it('found nothing, over every operation (the report)', () => {
    console.log(report((performance.now() - started) / 1000));
    expect(failures.length).toBe(0);
  });
});
