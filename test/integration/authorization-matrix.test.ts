import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import request, { type Response } from 'supertest';
import YAML from 'yaml';
import type { CalendarDate } from '../../src/domain/dates';
import { publishEvents } from '../../src/events/publish-events';
import { OPENAPI_PATH } from '../../src/http/openapi';
import { scanReminders } from '../../src/reminders/scan-reminders';
import { computeReport } from '../../src/reports/compute-report';
import { buildExport } from '../../src/exports/build-export';
import { ADMIN_KEY, testApp } from '../support/app';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import {
  as,
  createFund,
  createKey,
  createProduct,
  createStructure,
  pathTemplateOf,
  randomSiret,
  unique,
} from '../support/portfolio';
import {
  CELLS,
  endpointBody,
  isAllowed,
  loanBody,
  MATRIX,
  type Caller,
  type MatrixCell,
  type Req,
  type World,
} from '../support/authorization-matrix';

// The policy is the table in ./authorization-matrix.ts; this file builds the world and runs every cell.

let app: Express;
let world: World;
let keys: Record<Caller, string | undefined>;

async function createLoan(productId: string, structureId: string): Promise<string> {
  const res = await as(app, ADMIN_KEY).post('/v1/loans', loanBody(productId, structureId));
  if (res.status !== 201)
    throw new Error(`creating a loan answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

async function createActiveLoan(productId: string, structureId: string): Promise<string> {
  const id = await createLoan(productId, structureId);
  const res = await as(app, ADMIN_KEY).post(`/v1/loans/${id}/disbursement`, {
    date: '2025-01-15',
    amount: '10000.00',
  });
  if (res.status !== 200)
    throw new Error(`disbursing a loan answered ${res.status}: ${JSON.stringify(res.body)}`);
  return id;
}

async function createRepayment(loanId: string): Promise<string> {
  const res = await as(app, ADMIN_KEY).post(
    `/v1/loans/${loanId}/repayments`,
    { amount: '100.00', value_date: '2025-02-15' },
    { 'Idempotency-Key': randomUUID() },
  );
  if (res.status !== 201)
    throw new Error(`recording a repayment answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** An endpoint made with this key (a structure key's is its structure's; the admin names the fund). */
async function createEndpoint(key: string, fundId?: string): Promise<string> {
  const res = await as(app, key).post('/v1/webhook-endpoints', endpointBody(fundId));
  if (res.status !== 201)
    throw new Error(
      `creating a webhook endpoint answered ${res.status}: ${JSON.stringify(res.body)}`,
    );
  return res.body.id as string;
}

/** The one event of this type the admin finds with this filter. */
async function findEvent(filter: string, type: string): Promise<string> {
  const res = await as(app, ADMIN_KEY).get(`/v1/events?${filter}&type=${type}`);
  if (res.status !== 200 || res.body.items.length !== 1)
    throw new Error(`finding a ${type} event answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.items[0].id as string;
}

async function restructure(loanId: string): Promise<void> {
  const res = await as(app, ADMIN_KEY).post(`/v1/loans/${loanId}/restructurings`, {
    type: 'extension',
    effective_date: '2025-02-20',
    reason: 'matrix',
    remaining_periods: 30,
  });
  if (res.status !== 201)
    throw new Error(`restructuring a loan answered ${res.status}: ${JSON.stringify(res.body)}`);
}

beforeAll(async () => {
  // Plain http to 127.0.0.1 for the webhook endpoints: nothing is delivered, no dispatcher runs here.
  app = await testApp({ outbound: { allowInsecure: true } });
  const [fundA, fundB] = await Promise.all([createFund(app), createFund(app)]);
  const [productA, productB] = await Promise.all([
    createProduct(app, fundA.id, ADMIN_KEY),
    createProduct(app, fundB.id, ADMIN_KEY),
  ]);
  const [A1, A2, B1, B2] = await Promise.all(
    [fundA, fundA, fundB, fundB].map((fund) => createStructure(app, fund.id, ADMIN_KEY)),
  );
  const product = { A1: productA.id, A2: productA.id, B1: productB.id };
  const structures = { A1: A1!.id, A2: A2!.id, B1: B1!.id, B2: B2!.id };
  const [pendingA1, pendingA2, pendingB1, activeA1, activeA2, activeB1] = await Promise.all([
    createLoan(productA.id, structures.A1),
    createLoan(productA.id, structures.A2),
    createLoan(productB.id, structures.B1),
    createActiveLoan(productA.id, structures.A1),
    createActiveLoan(productA.id, structures.A2),
    createActiveLoan(productB.id, structures.B1),
  ]);
  // The shared active loans get a repayment and then a restructuring, so that their lists have items to check.
  const [repaymentA1, repaymentA2, repaymentB1] = await Promise.all(
    [activeA1, activeA2, activeB1].map(createRepayment),
  );
  await Promise.all([activeA1, activeA2, activeB1].map(restructure));
  // Reminders of both funds' loans, so that the reminders list has items to check.
  await Promise.all(
    [fundA, fundB].map(async (fund) =>
      scanReminders(await testDb(), '2025-12-31' as CalendarDate, fund.id),
    ),
  );
  // A done report of each fund, computed here as the worker would.
  const [reportA, reportB] = await Promise.all(
    [fundA, fundB].map(async (fund) => {
      const res = await as(app, ADMIN_KEY).post('/v1/reports', {
        fund_id: fund.id,
        as_of: '2025-06-30',
      });
      if (res.status !== 202)
        throw new Error(`requesting a report answered ${res.status}: ${JSON.stringify(res.body)}`);
      if ((await computeReport(await testDb(), res.body.id, true)) !== 'done')
        throw new Error('the report was not computed');
      return res.body.id as string;
    }),
  );
  // A done export of each fund, built here as the worker would.
  const [exportA, exportB] = await Promise.all(
    [fundA, fundB].map(async (fund) => {
      const res = await as(app, ADMIN_KEY).post('/v1/exports', {
        fund_id: fund.id,
        as_of: '2025-06-30',
      });
      if (res.status !== 202)
        throw new Error(`requesting an export answered ${res.status}: ${JSON.stringify(res.body)}`);
      if ((await buildExport(await testDb(), res.body.id, true)) !== 'done')
        throw new Error('the export was not built');
      return res.body.id as string;
    }),
  );
  // An import of each fund, queued (a structure to create): what GET /v1/imports/{import_id} shows.
  const [importA, importB] = await Promise.all(
    [fundA, fundB].map(async (fund) => {
      const structures = `legal_name,siret,legal_form,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email\n${unique('Import')},${randomSiret()},association,88.99B,69123,69,84,1,import@example.org\n`;
      const res = await as(app, ADMIN_KEY).post('/v1/imports', {
        fund_id: fund.id,
        mode: 'commit',
        structures,
      });
      if (res.status !== 202)
        throw new Error(`requesting an import answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.id as string;
    }),
  );
  // A funding source of each fund (issue 15): the target of reads and of refused changes.
  const [sourceA, sourceB] = await Promise.all(
    [fundA, fundB].map(async (fund) => {
      const res = await as(app, ADMIN_KEY).post(`/v1/funds/${fund.id}/funding-sources`, {
        origin: 'region',
        label: 'matrix',
        amount_committed: '1000.00',
        start_date: '2024-01-01',
      });
      if (res.status !== 201)
        throw new Error(
          `recording a funding source answered ${res.status}: ${JSON.stringify(res.body)}`,
        );
      return res.body.id as string;
    }),
  );
  const [manager, auditor, structureKey, revoked, spareA, spareB] = await Promise.all([
    createKey(app, { role: 'manager', fund_id: fundA.id }),
    createKey(app, { role: 'auditor', fund_id: fundA.id }),
    createKey(app, { role: 'structure', structure_id: structures.A1 }),
    createKey(app, { role: 'manager', fund_id: fundA.id }),
    createKey(app, { role: 'auditor', fund_id: fundA.id }),
    createKey(app, { role: 'auditor', fund_id: fundB.id }),
  ]);
  const revocation = await as(app, ADMIN_KEY).delete(`/v1/api-keys/${revoked.id}`);
  if (revocation.status !== 200) throw new Error(`revoking a key answered ${revocation.status}`);

  keys = {
    none: undefined,
    revoked: revoked.secret,
    admin: ADMIN_KEY,
    manager: manager.secret,
    auditor: auditor.secret,
    structure: structureKey.secret,
  };
  const [endpointA1, endpointA, endpointB] = await Promise.all([
    createEndpoint(structureKey.secret),
    createEndpoint(ADMIN_KEY, fundA.id),
    createEndpoint(ADMIN_KEY, fundB.id),
  ]);
  // An event of fund A itself (structure_id null), published as the dispatcher does when it disables a fund's endpoint.
  const fundEndpoint = await as(app, ADMIN_KEY).get(`/v1/webhook-endpoints/${endpointA}`);
  await (await testDb()).transaction().execute((trx) =>
    publishEvents(trx, null, [
      {
        type: 'webhook_endpoint.disabled',
        fundId: fundA.id,
        structureId: null,
        loanId: null,
        data: fundEndpoint.body,
      },
    ]),
  );
  const [eventA1, eventA, eventB1] = await Promise.all([
    findEvent(`loan_id=${activeA1}`, 'loan.disbursed'),
    findEvent(`fund_id=${fundA.id}`, 'webhook_endpoint.disabled'),
    findEvent(`loan_id=${activeB1}`, 'loan.disbursed'),
  ]);
  world = {
    fundA: fundA.id,
    fundB: fundB.id,
    productA: productA.id,
    productB: productB.id,
    structures,
    pending: { A1: pendingA1, A2: pendingA2, B1: pendingB1 },
    active: { A1: activeA1, A2: activeA2, B1: activeB1 },
    repayment: { A1: repaymentA1!, A2: repaymentA2!, B1: repaymentB1! },
    report: { A: reportA!, B: reportB! },
    export: { A: exportA!, B: exportB! },
    import: { A: importA!, B: importB! },
    spareKey: { A: spareA.id, B: spareB.id },
    event: { A1: eventA1, A: eventA, B1: eventB1 },
    endpoint: { A1: endpointA1, A: endpointA, B: endpointB },
    fundingSource: { A: sourceA!, B: sourceB! },
    freshPendingLoan: (structure) => createLoan(product[structure], structures[structure]),
    freshActiveLoan: (structure) => createActiveLoan(product[structure], structures[structure]),
    freshRepayment: async (structure) => {
      const loan = await createActiveLoan(product[structure], structures[structure]);
      return { loan, repayment: await createRepayment(loan) };
    },
    freshKey: async (fund) =>
      (await createKey(app, { role: 'auditor', fund_id: fund === 'A' ? fundA.id : fundB.id })).id,
    freshEndpoint: (owner) =>
      owner === 'A1' ? createEndpoint(structureKey.secret) : createEndpoint(ADMIN_KEY, fundB.id),
  };
});

/** Sends the request as this caller, with no check yet: the cell records the status first. */
async function send(req: Req, key: string | undefined): Promise<Response> {
  const call = request(app)[req.method](req.path);
  if (key !== undefined) call.set('Authorization', `Bearer ${key}`);
  for (const [name, value] of Object.entries(req.headers ?? {})) call.set(name, value);
  return req.body === undefined
    ? call
    : call.set('Content-Type', 'application/json').send(JSON.stringify(req.body));
}

/** What each caller may see in a list: the admin everything, fund keys fund A, the structure key A1. */
function visible(caller: Caller, item: { fund: string; structure?: string }): boolean {
  if (caller === 'admin') return true;
  if (caller === 'manager' || caller === 'auditor') return item.fund === world.fundA;
  if (caller === 'structure') return item.structure === world.structures.A1;
  return false;
}

const results: { cell: MatrixCell; status: number }[] = [];

async function runCell(cell: MatrixCell): Promise<void> {
  const req = await cell.route[cell.scope]!.build(world, {
    caller: cell.caller,
    allowed: cell.allowed,
  });
  expect(req.method).toBe(cell.route.method);
  expect(pathTemplateOf(req.path)).toBe(cell.route.path);
  const res = await send(req, keys[cell.caller]);
  results.push({ cell, status: res.status });
  expect(res.status).toBe(cell.expected);
  expectContract(res, cell.route.method, cell.route.path);
  if (res.status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  if (cell.route.listItem && res.status === 200) {
    const items = res.body.items as Record<string, unknown>[];
    const outside = items.map(cell.route.listItem).filter((item) => !visible(cell.caller, item));
    expect(outside).toEqual([]);
    if (cell.caller !== 'admin' && cell.route.path !== '/v1/funds')
      expect(items.length).toBeGreaterThan(0);
  }
  if (cell.route.loanList && res.status === 200) {
    const loanId = req.path.split('/')[3];
    const items = res.body.items as Record<string, unknown>[];
    expect(items.filter((item) => item.loan_id !== loanId)).toEqual([]);
    expect(items.length).toBeGreaterThan(0);
  }
}

describe('the table covers the contract', () => {
  it('lists every operation of openapi.yaml exactly once, and nothing else', () => {
    const spec = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const methods = new Set(['get', 'post', 'put', 'patch', 'delete']);
    const documented = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => methods.has(m))
        .map((m) => `${m} ${path}`),
    );
    const tabled = MATRIX.map((route) => `${route.method} ${route.path}`);
    expect(new Set(tabled).size).toBe(tabled.length);
    expect([...tabled].sort()).toEqual([...documented].sort());
  });
});

describe('authorization matrix', () => {
  it.each(CELLS.map((cell) => [cell.name, cell] as const))('%s', async (_name, cell) => {
    await runCell(cell);
  });
});

describe('no unexpected allow', () => {
  it('every 2xx answered a cell that the table allows, and every cell ran', () => {
    expect(results).toHaveLength(CELLS.length);
    const unexpected = results
      .filter((r) => isAllowed(r.status) && !r.cell.allowed)
      .map((r) => `${r.cell.name}: got ${r.status}`);
    expect(unexpected).toEqual([]);
  });
});
