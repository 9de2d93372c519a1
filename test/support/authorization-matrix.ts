/**
 * The authorization matrix: for every operation of openapi.yaml, who may call it on what.
 *
 * This table IS the policy, written from DOMAIN.md "Access" and the `apiKey` security scheme of
 * openapi.yaml, not from the code:
 * - no key, or an unknown or revoked key: 401 on every route but the public ones;
 * - public (no key needed): POST /v1/schedules/preview, GET /healthz, GET /readyz, GET /openapi.yaml, GET /docs;
 * - admin: the platform, everything; the only role that opens a fund (anyone else: 403);
 * - manager: one fund, read and write; auditor: one fund, read only (reports, ledger, audit trail, keys);
 * - structure: one structure, read only: its own structure record, its loans and their schedules;
 * - anything outside a key's scope is a 404, as if it did not exist;
 * - a write by a read-only key inside its scope is a 403.
 *
 * "own" is fund A (or, for the structure key, structure A1 and its loans); "other" is the same kind
 * of resource in fund B, except for the structure key on structure-level routes, where it is
 * structure A2 of the same fund (the stricter neighbour). Routes with no scope (the public ones,
 * opening a fund, listing funds: nothing to name) have no "other" column.
 *
 * Choices the rules leave open, asserted here:
 * - a structure key listing funds gets 200 with an empty list: GET /v1/funds documents no 404 in
 *   openapi.yaml, and an empty page says nothing exists; listing products or API keys gets 404,
 *   which those operations document (a structure key sees no product and no key). The test
 *   checks that every listed item is in the caller's scope, so "200" can never leak.
 * - lists in "own" scope are unfiltered for fund-scoped keys (the server must scope them) and
 *   `?fund_id=A` for the admin (who would otherwise see every fund of the run).
 * - a structure key creating a loan for its own structure names product A, which it cannot see:
 *   404 (the product does not exist for it); creating products, structures or keys names fund A,
 *   which is not in its scope either: 404.
 * - a structure key editing its own structure (PATCH): it reads the record, so the write is a 403, as
 *   for an auditor; a partner portal does not keep the fund's record of its structure.
 * - a structure key disbursing or cancelling its own loan: the loan is in its scope (it reads it),
 *   so the write is a 403, as for an auditor. (At commit debd3c9 these two cells answered 404:
 *   disburse-loan.ts and cancel-loan.ts checked seesFund, not seesStructure.)
 * - servicing a loan (recording a repayment or a restructuring, reversing a repayment, writing the
 *   loan off) is a loan write like disbursing: the structure key gets 403 on its own loan, 404 on
 *   A2's; a repayment or a restructuring answers 201 (it creates one), a reversal or a write-off 200.
 *   Reading a loan's repayments, restructurings or statement is a read of the loan.
 * - a moratorium is declared on a fund: like creating a product, the structure key does not see
 *   fund A (404), the auditor is read-only (403).
 * - a loan's repayments and restructurings name only `loan_id`, no fund or structure, so they have
 *   no listItem: the 404 on the loan is the scope check, and the test checks that every item is the
 *   path's loan's (the shared active loans get a repayment and a restructuring in beforeAll, so
 *   the lists are never empty).
 * - allowed servicing cells act on fresh loans (a new active loan; for a reversal, a new repayment on
 *   one), refused ones on the shared active loan and its shared repayment. The dates follow the
 *   loans' history (disbursed 2025-01-15; repaid 2025-02-15; restructured 2025-02-20; written off
 *   2025-03-01), as the servicing rules want. A moratorium (2025-02-20) restructures every active
 *   loan of the fund, the shared ones included: reads of them still answer 200, refusals come
 *   before any rule on the loan's state, and a fresh loan made after it carries none of it. The
 *   cells pass in any order (checked with jest --randomize, but for the final count).
 * - events and webhook endpoints: "own" is structure A1's for every caller (an event of its loan, an
 *   endpoint its key registered); the structure key's "other" is fund A's own (structure_id null: an
 *   event of the fund, the fund's endpoint), the stricter neighbour since A1's events flow into it;
 *   everyone else's is fund B's. A structure key registers, changes, deletes and redelivers to its
 *   structure's endpoints (the one thing it writes, what a partner portal does): 2xx in "own", where
 *   the auditor gets 403. Registering, the admin names fund A; the others name no fund. A redelivery
 *   names the endpoint (A1's, or the other fund's); nothing is delivered: no dispatcher runs here.
 * - impact snapshots (issue 15, docs/funding.md): a structure key records its own structure's (201 in
 *   "own": the one write it makes about its own record, what a partner portal asks the borrower each
 *   year) and gets 404 on A2's; the auditor is read-only (403). Funding sources, the report by source
 *   and the EU indicators are fund-level (a structure key sees none of them: 404); a loan's split is
 *   read as the loan is (the structure key reads its own) and changed as the loan is (403 for it).
 */

import { randomUUID } from 'node:crypto';
import { productBody, structureBody, unique } from './portfolio';

export const CALLERS = ['none', 'revoked', 'admin', 'manager', 'auditor', 'structure'] as const;
export type Caller = (typeof CALLERS)[number];
export type Scope = 'own' | 'other';
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What the test builds in beforeAll: two funds, A and B, alike. */
export interface World {
  readonly fundA: string;
  readonly fundB: string;
  readonly productA: string;
  readonly productB: string;
  /** A1 is the structure key's own; A2 its neighbour in the same fund; B1, B2 in fund B. */
  readonly structures: {
    readonly A1: string;
    readonly A2: string;
    readonly B1: string;
    readonly B2: string;
  };
  /** Per structure: a pending loan (never changed by an allowed call) and an active (disbursed) one. */
  readonly pending: { readonly A1: string; readonly A2: string; readonly B1: string };
  readonly active: { readonly A1: string; readonly A2: string; readonly B1: string };
  /** Per structure: a repayment on its active loan (which also has a restructuring), the target of reads and refused reversals. */
  readonly repayment: { readonly A1: string; readonly A2: string; readonly B1: string };
  /** A done report of each fund: the target of reads. */
  readonly report: { readonly A: string; readonly B: string };
  /** A done export of each fund: the target of reads. */
  readonly export: { readonly A: string; readonly B: string };
  readonly import: { readonly A: string; readonly B: string };
  /** Keys of no caller, in each fund: read targets, and the target of refused revocations. */
  readonly spareKey: { readonly A: string; readonly B: string };
  /** Events: A1's active loan's disbursement, one of fund A itself (structure_id null), B1's active loan's disbursement. */
  readonly event: { readonly A1: string; readonly A: string; readonly B1: string };
  /** Enabled webhook endpoints: structure A1's (made with its key), fund A's and fund B's own (structure_id null). */
  readonly endpoint: { readonly A1: string; readonly A: string; readonly B: string };
  /** A funding source of each fund (issue 15). */
  readonly fundingSource: { readonly A: string; readonly B: string };
  /** A new pending loan of this structure, for a write that should succeed. */
  freshPendingLoan(structure: 'A1' | 'A2' | 'B1'): Promise<string>;
  /** A new active (disbursed 2025-01-15) loan of this structure, for a servicing write that should succeed. */
  freshActiveLoan(structure: 'A1' | 'A2' | 'B1'): Promise<string>;
  /** A new repayment on a new active loan of this structure, for a reversal that should succeed. */
  freshRepayment(
    structure: 'A1' | 'A2' | 'B1',
  ): Promise<{ readonly loan: string; readonly repayment: string }>;
  /** A new auditor key of this fund, for a revocation that should succeed. */
  freshKey(fund: 'A' | 'B'): Promise<string>;
  /** A new webhook endpoint of structure A1 or of fund B, for a change or a deletion that should succeed. */
  freshEndpoint(owner: 'A1' | 'B'): Promise<string>;
}

export interface Req {
  readonly method: Method;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** `allowed`: the table expects a 2xx, so the request gets fresh resources of its own. */
export interface BuildContext {
  readonly caller: Caller;
  readonly allowed: boolean;
}

export type Statuses = Readonly<Record<Caller, number>>;

export interface Cell {
  readonly build: (w: World, ctx: BuildContext) => Req | Promise<Req>;
  readonly expect: Statuses;
}

/** Where a listed item lives, to check that a list shows nothing outside the caller's scope. */
export interface ItemScope {
  readonly fund: string;
  readonly structure?: string;
}

export interface Route {
  readonly method: Method;
  /** The path template, exactly as in openapi.yaml. */
  readonly path: string;
  readonly own: Cell;
  readonly other: Cell | null;
  /** For list operations: the scope of one item of `items`. */
  readonly listItem?: (item: Record<string, unknown>) => ItemScope;
  /** For lists of one loan's items (repayments, restructurings), which name only `loan_id`: each must be the path's loan. */
  readonly loanList?: true;
}

export const isAllowed = (status: number) => status >= 200 && status < 300;

/** One row of statuses, in the order of CALLERS: none, revoked, admin, manager, auditor, structure. */
function row(
  none: number,
  revoked: number,
  admin: number,
  manager: number,
  auditor: number,
  structure: number,
): Statuses {
  return { none, revoked, admin, manager, auditor, structure };
}

// The policy, by kind of operation. Columns: none, revoked, admin, manager, auditor, structure.
/** Public routes: no key needed, and a key (even revoked) changes nothing. */
const PUBLIC = row(200, 200, 200, 200, 200, 200);
/** Reading fund-level data (fund, products, keys, audit trail): a structure key sees none of it. */
const FUND_READ_OWN = row(401, 401, 200, 200, 200, 404);
/** Reading data of a structure or its loans: the structure key reads its own. */
const STRUCTURE_READ_OWN = row(401, 401, 200, 200, 200, 200);
/** Anything in fund B (or structure A2, for the structure key): only the admin. */
const READ_OTHER = row(401, 401, 200, 404, 404, 404);
/** Creating in fund A: the manager may, the auditor is read-only (403), the structure key does not see the fund (404). */
const CREATE_OWN = row(401, 401, 201, 201, 403, 404);
const CREATE_OTHER = row(401, 401, 201, 404, 404, 404);
/** Changing a loan of A1: the structure key reads it, so it is in its scope: 403 like the auditor. */
const LOAN_WRITE_OWN = row(401, 401, 200, 200, 403, 403);
/** Recording something on a loan of A1 (a repayment, a restructuring): the same, answering 201. */
const LOAN_CREATE_OWN = row(401, 401, 201, 201, 403, 403);
/** Revoking a key of fund A: the structure key does not see keys (404). */
const KEY_WRITE_OWN = row(401, 401, 200, 200, 403, 404);
const WRITE_OTHER = row(401, 401, 200, 404, 404, 404);
/** Acting on fund A as a whole (a reminder scan): the auditor is read-only (403), the structure key does not see the fund (404). */
const FUND_ACT_OWN = row(401, 401, 200, 200, 403, 404);
/** Asking for a report of fund A, answered 202 (accepted, computed later). */
const REPORT_REQUEST_OWN = row(401, 401, 202, 202, 403, 404);
const REPORT_REQUEST_OTHER = row(401, 401, 202, 404, 404, 404);
/** Asking for an export of fund A: it reads the books, so the auditor may too (202); the structure key does not see the fund. */
const EXPORT_REQUEST_OWN = row(401, 401, 202, 202, 202, 404);
/** Registering a webhook endpoint: a structure key registers its own structure's, the auditor is read-only. */
const ENDPOINT_CREATE_OWN = row(401, 401, 201, 201, 403, 201);
/** Changing, rotating the secret of or deleting (204) an endpoint of A1: its structure key may too. */
const ENDPOINT_WRITE_OWN = row(401, 401, 200, 200, 403, 200);
const ENDPOINT_DELETE_OWN = row(401, 401, 204, 204, 403, 204);
const DELETE_OTHER = row(401, 401, 204, 404, 404, 404);
/** Redelivering an event of A1 to A1's endpoint, answered 202 (queued). */
const REDELIVERY_OWN = row(401, 401, 202, 202, 403, 202);
const REDELIVERY_OTHER = row(401, 401, 202, 404, 404, 404);

/** The fund an own-scope list names: the admin names fund A; fund-scoped keys name nothing. */
const ownList =
  (base: string) =>
  (w: World, { caller }: BuildContext) => ({
    method: 'get' as const,
    path: caller === 'admin' ? `${base}?fund_id=${w.fundA}` : base,
  });
const otherList = (base: string) => (w: World) => ({
  method: 'get' as const,
  path: `${base}?fund_id=${w.fundB}`,
});

/** The structure-level "other": A2 for the structure key, B1 for everyone else. */
const otherStructure = (caller: Caller) => (caller === 'structure' ? 'A2' : 'B1');

const DISBURSEMENT = { date: '2025-01-15', amount: '10000.00' };
const REPAYMENT = { amount: '100.00', value_date: '2025-02-15' };
const REVERSAL = { reason: 'matrix' };
const RESTRUCTURING = {
  type: 'extension',
  effective_date: '2025-02-20',
  reason: 'matrix',
  remaining_periods: 30,
};
const WRITE_OFF = { date: '2025-03-01', reason: 'matrix' };
const IMPORT_FILE = 'loan_external_reference,value_date,amount\n';
/** A moratorium of another length each time: the same one declared twice is refused (409). */
let moratoriumPeriods = 0;
const moratorium = () => ({
  effective_date: '2025-02-20',
  periods: 1 + (moratoriumPeriods++ % 12),
  reason: 'matrix',
});
/** Impact snapshots (docs/funding.md): one per structure and date, so each call gets a date of its own. */
let snapshotDays = 0;
const impactSnapshot = () => {
  const day = new Date(Date.UTC(2001, 0, 1) + snapshotDays++ * 86_400_000)
    .toISOString()
    .slice(0, 10);
  return {
    snapshot_date: day,
    jobs_fte: '10',
    jobs_created: '1',
    jobs_maintained: '9',
    still_active: true,
  };
};
const FUNDING_SOURCE = {
  origin: 'department',
  label: 'matrix',
  amount_committed: '1000.00',
  start_date: '2024-01-01',
};
/** Recording a snapshot of A1: its structure key may (its one write, what a partner portal does), the auditor is read-only. */
const SNAPSHOT_CREATE_OWN = row(401, 401, 201, 201, 403, 201);
/** One EU base rate per fund and date: each recorded cell takes a date of its own (years 2100, 2101, …). */
let baseRates = 0;
const baseRateDate = () => `${2100 + baseRates++}-01-01`;
const DECLARED_AID = { grantor: 'matrice', grant_date: '2024-06-01', amount: '1000.00' };
/** Money-moving POSTs need an Idempotency-Key; a fresh one, so that no cell replays another. */
const idempotencyKey = () => ({ 'Idempotency-Key': randomUUID() });

export const loanBody = (productId: string, structureId: string) => ({
  product_id: productId,
  structure_id: structureId,
  principal: '10000.00',
  annual_rate_percent: '2',
  periodicity: 'monthly',
  term_periods: 24,
  method: 'annuity',
  disbursement_date: '2025-01-15',
});

const label = () => unique('matrice');

/** A loan to change: a fresh pending one when the change should succeed, else the shared pending one. */
async function loanToChange(
  w: World,
  structure: 'A1' | 'A2' | 'B1',
  allowed: boolean,
): Promise<string> {
  return allowed ? w.freshPendingLoan(structure) : w.pending[structure];
}

/** An active loan to service: a fresh one when the change should succeed, else the shared active one. */
async function activeLoanToChange(
  w: World,
  structure: 'A1' | 'A2' | 'B1',
  allowed: boolean,
): Promise<string> {
  return allowed ? w.freshActiveLoan(structure) : w.active[structure];
}

/** A repayment to reverse: a fresh one when the reversal should succeed, else the shared one. */
async function repaymentToReverse(
  w: World,
  structure: 'A1' | 'A2' | 'B1',
  allowed: boolean,
): Promise<{ loan: string; repayment: string }> {
  return allowed
    ? w.freshRepayment(structure)
    : { loan: w.active[structure], repayment: w.repayment[structure] };
}

/** A servicing POST on a loan of A1 ("own") or of the caller's other structure. */
const servicing =
  (scope: Scope, suffix: string, body: unknown, headers?: () => Record<string, string>) =>
  async (w: World, { caller, allowed }: BuildContext): Promise<Req> => {
    const loan = await activeLoanToChange(
      w,
      scope === 'own' ? 'A1' : otherStructure(caller),
      allowed,
    );
    return { method: 'post', path: `/v1/loans/${loan}${suffix}`, body, headers: headers?.() };
  };

const reversal =
  (scope: Scope) =>
  async (w: World, { caller, allowed }: BuildContext): Promise<Req> => {
    const { loan, repayment } = await repaymentToReverse(
      w,
      scope === 'own' ? 'A1' : otherStructure(caller),
      allowed,
    );
    return {
      method: 'post',
      path: `/v1/loans/${loan}/repayments/${repayment}/reversal`,
      body: REVERSAL,
    };
  };

/** A read of the shared active loan of A1 ("own") or of the caller's other structure. */
const loanRead =
  (scope: Scope, suffix: (w: World, structure: 'A1' | 'A2' | 'B1') => string) =>
  (w: World, { caller }: BuildContext): Req => {
    const structure = scope === 'own' ? 'A1' : otherStructure(caller);
    return { method: 'get', path: `/v1/loans/${w.active[structure]}${suffix(w, structure)}` };
  };

/** Where webhooks go in this file: nothing listens there, and no dispatcher runs (test/integration/events.test.ts delivers). */
const HOOK_URL = 'http://127.0.0.1:9/hook';
export const endpointBody = (fundId?: string) => ({
  url: HOOK_URL,
  event_types: ['loan.disbursed'],
  ...(fundId === undefined ? {} : { fund_id: fundId }),
});

/** The "other" event or endpoint: fund A's own for the structure key, fund B's (B1's event) for everyone else. */
const otherEvent = (w: World, caller: Caller) => (caller === 'structure' ? w.event.A : w.event.B1);
const otherEndpoint = (w: World, caller: Caller) =>
  caller === 'structure' ? w.endpoint.A : w.endpoint.B;

/** An endpoint to change: a fresh one when the change should succeed (A1's, or fund B's for the admin), else the shared one. */
async function endpointToChange(
  w: World,
  scope: Scope,
  caller: Caller,
  allowed: boolean,
): Promise<string> {
  if (scope === 'own') return allowed ? w.freshEndpoint('A1') : w.endpoint.A1;
  return allowed ? w.freshEndpoint('B') : otherEndpoint(w, caller);
}

const endpointChange =
  (scope: Scope, method: 'post' | 'patch' | 'delete', suffix: string, body?: unknown) =>
  async (w: World, { caller, allowed }: BuildContext): Promise<Req> => ({
    method,
    path: `/v1/webhook-endpoints/${await endpointToChange(w, scope, caller, allowed)}${suffix}`,
    body,
  });

const loanItem = (item: Record<string, unknown>): ItemScope => ({
  fund: String(item.fund_id),
  structure: String(item.structure_id),
});
const fundLevelItem = (item: Record<string, unknown>): ItemScope => ({
  fund: String(item.fund_id),
});

export const MATRIX: readonly Route[] = [
  // --- public
  {
    method: 'get',
    path: '/healthz',
    own: { build: () => ({ method: 'get', path: '/healthz' }), expect: PUBLIC },
    other: null,
  },
  {
    method: 'get',
    path: '/readyz',
    own: { build: () => ({ method: 'get', path: '/readyz' }), expect: PUBLIC },
    other: null,
  },
  {
    method: 'get',
    path: '/openapi.yaml',
    own: { build: () => ({ method: 'get', path: '/openapi.yaml' }), expect: PUBLIC },
    other: null,
  },
  {
    method: 'get',
    path: '/docs',
    own: { build: () => ({ method: 'get', path: '/docs' }), expect: PUBLIC },
    other: null,
  },
  {
    method: 'post',
    path: '/v1/schedules/preview',
    own: {
      build: () => ({
        method: 'post',
        path: '/v1/schedules/preview',
        body: {
          principal: '10000.00',
          annual_rate_percent: '12',
          periodicity: 'monthly',
          term_periods: 12,
          method: 'annuity',
          disbursement_date: '2025-01-15',
        },
      }),
      expect: PUBLIC,
    },
    other: null,
  },

  // --- funds
  {
    method: 'post',
    path: '/v1/funds',
    own: {
      build: () => ({
        method: 'post',
        path: '/v1/funds',
        body: { name: unique('Fonds matrice'), region_code: '84', department_codes: ['69'] },
      }),
      expect: row(401, 401, 201, 403, 403, 403), // only the admin opens a fund
    },
    other: null,
  },
  {
    method: 'get',
    path: '/v1/funds',
    // No fund_id filter in the contract: "own" is the plain list; a structure key gets an empty page.
    own: { build: () => ({ method: 'get', path: '/v1/funds' }), expect: STRUCTURE_READ_OWN },
    other: null,
    listItem: (item) => ({ fund: String(item.id) }),
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}',
    own: { build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundA}` }), expect: FUND_READ_OWN },
    other: { build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundB}` }), expect: READ_OTHER },
  },

  // --- products
  {
    method: 'post',
    path: '/v1/products',
    own: {
      build: (w) => ({ method: 'post', path: '/v1/products', body: productBody(w.fundA) }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w) => ({ method: 'post', path: '/v1/products', body: productBody(w.fundB) }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/products',
    own: { build: ownList('/v1/products'), expect: FUND_READ_OWN },
    other: { build: otherList('/v1/products'), expect: READ_OTHER },
    listItem: fundLevelItem,
  },
  {
    method: 'get',
    path: '/v1/products/{product_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/products/${w.productA}` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/products/${w.productB}` }),
      expect: READ_OTHER,
    },
  },
  {
    // Renaming only: the shared products must keep taking loans for the other cells.
    method: 'patch',
    path: '/v1/products/{product_id}',
    own: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/products/${w.productA}`,
        body: { name: label() },
      }),
      expect: FUND_ACT_OWN,
    },
    other: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/products/${w.productB}`,
        body: { name: label() },
      }),
      expect: WRITE_OTHER,
    },
  },

  // --- structures
  {
    method: 'post',
    path: '/v1/structures',
    own: {
      build: (w) => ({ method: 'post', path: '/v1/structures', body: structureBody(w.fundA) }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w) => ({ method: 'post', path: '/v1/structures', body: structureBody(w.fundB) }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/structures',
    // A structure key lists itself only; no structure_id filter exists, so its "other" is fund B too.
    own: { build: ownList('/v1/structures'), expect: STRUCTURE_READ_OWN },
    other: { build: otherList('/v1/structures'), expect: READ_OTHER },
    listItem: (item) => ({ fund: String(item.fund_id), structure: String(item.id) }),
  },
  {
    method: 'get',
    path: '/v1/structures/{structure_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/structures/${w.structures.A1}` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/structures/${w.structures[otherStructure(caller)]}`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    // The structure key reads its own record but does not edit it (403, like the auditor); A2's is not in its scope (404).
    method: 'patch',
    path: '/v1/structures/{structure_id}',
    own: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/structures/${w.structures.A1}`,
        body: { legal_name: label() },
      }),
      expect: LOAN_WRITE_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'patch',
        path: `/v1/structures/${w.structures[otherStructure(caller)]}`,
        body: { legal_name: label() },
      }),
      expect: WRITE_OTHER,
    },
  },

  // --- loans
  {
    method: 'post',
    path: '/v1/loans',
    own: {
      build: (w) => ({
        method: 'post',
        path: '/v1/loans',
        body: loanBody(w.productA, w.structures.A1),
      }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w, { caller }) => {
        const structure = otherStructure(caller);
        return {
          method: 'post',
          path: '/v1/loans',
          body: loanBody(structure === 'A2' ? w.productA : w.productB, w.structures[structure]),
        };
      },
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/loans',
    own: { build: ownList('/v1/loans'), expect: STRUCTURE_READ_OWN },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path:
          caller === 'structure'
            ? `/v1/loans?structure_id=${w.structures.A2}`
            : `/v1/loans?fund_id=${w.fundB}`,
      }),
      expect: READ_OTHER,
    },
    listItem: loanItem,
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/loans/${w.active.A1}` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/loans/${w.active[otherStructure(caller)]}`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    // issue 15 item 4 (h-terr): leverage, the loan's one editable part; the structure key reads its loan but does not edit it (403).
    method: 'patch',
    path: '/v1/loans/{loan_id}',
    own: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/loans/${w.active.A1}`,
        body: { leverage_grants: '1000.00' },
      }),
      expect: LOAN_WRITE_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'patch',
        path: `/v1/loans/${w.active[otherStructure(caller)]}`,
        body: { leverage_grants: '1000.00' },
      }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'post',
    path: '/v1/loans/{loan_id}/disbursement',
    own: {
      build: async (w, { allowed }) => ({
        method: 'post',
        path: `/v1/loans/${await loanToChange(w, 'A1', allowed)}/disbursement`,
        body: DISBURSEMENT,
      }),
      expect: LOAN_WRITE_OWN,
    },
    other: {
      build: async (w, { caller, allowed }) => ({
        method: 'post',
        path: `/v1/loans/${await loanToChange(w, otherStructure(caller), allowed)}/disbursement`,
        body: DISBURSEMENT,
      }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'post',
    path: '/v1/loans/{loan_id}/cancellation',
    own: {
      build: async (w, { allowed }) => ({
        method: 'post',
        path: `/v1/loans/${await loanToChange(w, 'A1', allowed)}/cancellation`,
        body: { reason: 'matrix' },
      }),
      expect: LOAN_WRITE_OWN,
    },
    other: {
      build: async (w, { caller, allowed }) => ({
        method: 'post',
        path: `/v1/loans/${await loanToChange(w, otherStructure(caller), allowed)}/cancellation`,
        body: { reason: 'matrix' },
      }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/schedule',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/loans/${w.active.A1}/schedule?as_of=2025-06-01` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/loans/${w.active[otherStructure(caller)]}/schedule?as_of=2025-06-01`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/schedule/versions',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/loans/${w.active.A1}/schedule/versions` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/loans/${w.active[otherStructure(caller)]}/schedule/versions`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/schedule/versions/{version}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/loans/${w.active.A1}/schedule/versions/1` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/loans/${w.active[otherStructure(caller)]}/schedule/versions/1`,
      }),
      expect: READ_OTHER,
    },
  },

  // --- servicing
  {
    method: 'post',
    path: '/v1/loans/{loan_id}/repayments',
    own: {
      build: servicing('own', '/repayments', REPAYMENT, idempotencyKey),
      expect: LOAN_CREATE_OWN,
    },
    other: {
      build: servicing('other', '/repayments', REPAYMENT, idempotencyKey),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/repayments',
    own: { build: loanRead('own', () => '/repayments'), expect: STRUCTURE_READ_OWN },
    other: { build: loanRead('other', () => '/repayments'), expect: READ_OTHER },
    loanList: true,
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/repayments/{repayment_id}',
    own: {
      build: loanRead('own', (w, s) => `/repayments/${w.repayment[s]}`),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: loanRead('other', (w, s) => `/repayments/${w.repayment[s]}`),
      expect: READ_OTHER,
    },
  },
  {
    method: 'post',
    path: '/v1/loans/{loan_id}/repayments/{repayment_id}/reversal',
    own: { build: reversal('own'), expect: LOAN_WRITE_OWN },
    other: { build: reversal('other'), expect: WRITE_OTHER },
  },
  {
    method: 'post',
    path: '/v1/loans/{loan_id}/restructurings',
    own: { build: servicing('own', '/restructurings', RESTRUCTURING), expect: LOAN_CREATE_OWN },
    other: { build: servicing('other', '/restructurings', RESTRUCTURING), expect: CREATE_OTHER },
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/restructurings',
    own: { build: loanRead('own', () => '/restructurings'), expect: STRUCTURE_READ_OWN },
    other: { build: loanRead('other', () => '/restructurings'), expect: READ_OTHER },
    loanList: true,
  },
  {
    method: 'post',
    path: '/v1/loans/{loan_id}/write-off',
    own: { build: servicing('own', '/write-off', WRITE_OFF), expect: LOAN_WRITE_OWN },
    other: { build: servicing('other', '/write-off', WRITE_OFF), expect: WRITE_OTHER },
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/statement',
    own: {
      build: loanRead('own', () => '/statement?as_of=2030-01-01'),
      expect: STRUCTURE_READ_OWN,
    },
    other: { build: loanRead('other', () => '/statement?as_of=2030-01-01'), expect: READ_OTHER },
  },
  {
    method: 'post',
    path: '/v1/funds/{fund_id}/moratoria',
    own: {
      build: (w) => ({
        method: 'post',
        path: `/v1/funds/${w.fundA}/moratoria`,
        body: moratorium(),
      }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: `/v1/funds/${w.fundB}/moratoria`,
        body: moratorium(),
      }),
      expect: CREATE_OTHER,
    },
  },

  // --- API keys
  {
    method: 'post',
    path: '/v1/api-keys',
    own: {
      build: (w) => ({
        method: 'post',
        path: '/v1/api-keys',
        body: { role: 'auditor', fund_id: w.fundA, label: label() },
      }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: '/v1/api-keys',
        body: { role: 'auditor', fund_id: w.fundB, label: label() },
      }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/api-keys',
    own: { build: ownList('/v1/api-keys'), expect: FUND_READ_OWN },
    other: { build: otherList('/v1/api-keys'), expect: READ_OTHER },
    listItem: fundLevelItem,
  },
  {
    method: 'get',
    path: '/v1/api-keys/{key_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/api-keys/${w.spareKey.A}` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/api-keys/${w.spareKey.B}` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'delete',
    path: '/v1/api-keys/{key_id}',
    own: {
      build: async (w, { allowed }) => ({
        method: 'delete',
        path: `/v1/api-keys/${allowed ? await w.freshKey('A') : w.spareKey.A}`,
      }),
      expect: KEY_WRITE_OWN,
    },
    other: {
      build: async (w, { allowed }) => ({
        method: 'delete',
        path: `/v1/api-keys/${allowed ? await w.freshKey('B') : w.spareKey.B}`,
      }),
      expect: WRITE_OTHER,
    },
  },

  // --- audit trail
  // --- reminders
  {
    method: 'get',
    path: '/v1/reminders',
    own: { build: ownList('/v1/reminders'), expect: STRUCTURE_READ_OWN },
    other: { build: otherList('/v1/reminders'), expect: READ_OTHER },
    listItem: loanItem,
  },
  {
    method: 'post',
    path: '/v1/reminders/scan',
    own: {
      build: (w) => ({
        method: 'post',
        path: '/v1/reminders/scan',
        body: { as_of: '2025-03-01', fund_id: w.fundA },
      }),
      expect: FUND_ACT_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: '/v1/reminders/scan',
        body: { as_of: '2025-03-01', fund_id: w.fundB },
      }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/audit-events',
    own: { build: ownList('/v1/audit-events'), expect: FUND_READ_OWN },
    other: { build: otherList('/v1/audit-events'), expect: READ_OTHER },
    listItem: fundLevelItem,
  },
  {
    method: 'post',
    path: '/v1/reports',
    own: {
      build: (w) => ({
        method: 'post',
        path: '/v1/reports',
        body: { fund_id: w.fundA, as_of: '2025-06-30' },
      }),
      expect: REPORT_REQUEST_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: '/v1/reports',
        body: { fund_id: w.fundB, as_of: '2025-06-30' },
      }),
      expect: REPORT_REQUEST_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/reports',
    own: { build: ownList('/v1/reports'), expect: FUND_READ_OWN },
    other: { build: otherList('/v1/reports'), expect: READ_OTHER },
    listItem: fundLevelItem,
  },
  {
    method: 'get',
    path: '/v1/reports/{report_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/reports/${w.report.A}` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/reports/${w.report.B}` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/reports/{report_id}.csv',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/reports/${w.report.A}.csv` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/reports/${w.report.B}.csv` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'post',
    path: '/v1/exports',
    own: {
      build: (w) => ({
        method: 'post',
        path: '/v1/exports',
        body: { fund_id: w.fundA, as_of: '2025-06-30' },
      }),
      expect: EXPORT_REQUEST_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: '/v1/exports',
        body: { fund_id: w.fundB, as_of: '2025-06-30' },
      }),
      expect: REPORT_REQUEST_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/exports',
    own: { build: ownList('/v1/exports'), expect: FUND_READ_OWN },
    other: { build: otherList('/v1/exports'), expect: READ_OTHER },
    listItem: fundLevelItem,
  },
  {
    method: 'get',
    path: '/v1/exports/{export_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/exports/${w.export.A}` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/exports/${w.export.B}` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/exports/{export_id}/bundle.zip',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/exports/${w.export.A}/bundle.zip` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/exports/${w.export.B}/bundle.zip` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'patch',
    path: '/v1/funds/{fund_id}',
    own: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/funds/${w.fundA}`,
        body: { reminder_days_before: [10, 2] },
      }),
      expect: FUND_ACT_OWN,
    },
    other: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/funds/${w.fundB}`,
        body: { reminder_days_before: [10, 2] },
      }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/webhook-secret',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundA}/webhook-secret` }),
      expect: FUND_ACT_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundB}/webhook-secret` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/ledger/trial-balance',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/ledger/trial-balance?as_of=2030-01-01`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/ledger/trial-balance?as_of=2030-01-01`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/audit-events/verify',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/audit-events/verify?fund_id=${w.fundA}` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/audit-events/verify?fund_id=${w.fundB}` }),
      expect: READ_OTHER,
    },
  },

  // --- events
  {
    method: 'get',
    path: '/v1/events',
    own: { build: ownList('/v1/events'), expect: STRUCTURE_READ_OWN },
    other: { build: otherList('/v1/events'), expect: READ_OTHER },
    listItem: loanItem, // an event names its fund and structure (null for the fund's own)
  },
  {
    method: 'get',
    path: '/v1/events/{event_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/events/${w.event.A1}` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({ method: 'get', path: `/v1/events/${otherEvent(w, caller)}` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'post',
    path: '/v1/events/{event_id}/redeliveries',
    own: {
      build: (w) => ({
        method: 'post',
        path: `/v1/events/${w.event.A1}/redeliveries`,
        body: { endpoint_id: w.endpoint.A1 },
      }),
      expect: REDELIVERY_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'post',
        path: `/v1/events/${otherEvent(w, caller)}/redeliveries`,
        body: { endpoint_id: otherEndpoint(w, caller) },
      }),
      expect: REDELIVERY_OTHER,
    },
  },

  // --- webhook endpoints
  {
    method: 'post',
    path: '/v1/webhook-endpoints',
    own: {
      build: (w, { caller }) => ({
        method: 'post',
        path: '/v1/webhook-endpoints',
        body: endpointBody(caller === 'admin' ? w.fundA : undefined),
      }),
      expect: ENDPOINT_CREATE_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: '/v1/webhook-endpoints',
        body: endpointBody(w.fundB),
      }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/webhook-endpoints',
    own: { build: ownList('/v1/webhook-endpoints'), expect: STRUCTURE_READ_OWN },
    other: { build: otherList('/v1/webhook-endpoints'), expect: READ_OTHER },
    listItem: loanItem, // an endpoint names its fund and structure (null for the fund's own)
  },
  {
    method: 'get',
    path: '/v1/webhook-endpoints/{endpoint_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/webhook-endpoints/${w.endpoint.A1}` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/webhook-endpoints/${otherEndpoint(w, caller)}`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'patch',
    path: '/v1/webhook-endpoints/{endpoint_id}',
    own: {
      build: endpointChange('own', 'patch', '', { description: 'matrix' }),
      expect: ENDPOINT_WRITE_OWN,
    },
    other: {
      build: endpointChange('other', 'patch', '', { description: 'matrix' }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'delete',
    path: '/v1/webhook-endpoints/{endpoint_id}',
    own: { build: endpointChange('own', 'delete', ''), expect: ENDPOINT_DELETE_OWN },
    other: { build: endpointChange('other', 'delete', ''), expect: DELETE_OTHER },
  },
  {
    method: 'post',
    path: '/v1/webhook-endpoints/{endpoint_id}/secret-rotation',
    own: { build: endpointChange('own', 'post', '/secret-rotation'), expect: ENDPOINT_WRITE_OWN },
    other: { build: endpointChange('other', 'post', '/secret-rotation'), expect: WRITE_OTHER },
  },
  {
    method: 'get',
    path: '/v1/webhook-endpoints/{endpoint_id}/deliveries',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/webhook-endpoints/${w.endpoint.A1}/deliveries` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/webhook-endpoints/${otherEndpoint(w, caller)}/deliveries`,
      }),
      expect: READ_OTHER,
    },
  },

  // --- imports: checking one is acting on the fund (the auditor is read-only); a template holds nothing of any fund
  {
    method: 'post',
    path: '/v1/imports',
    own: {
      build: (w) => ({
        method: 'post',
        path: '/v1/imports',
        body: { fund_id: w.fundA, repayments: IMPORT_FILE },
      }),
      expect: FUND_ACT_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: '/v1/imports',
        body: { fund_id: w.fundB, repayments: IMPORT_FILE },
      }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/imports/{import_id}',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/imports/${w.import.A}` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/imports/${w.import.B}` }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/imports/templates/{kind}.csv',
    own: {
      build: () => ({ method: 'get', path: '/v1/imports/templates/loans.csv' }),
      expect: STRUCTURE_READ_OWN,
    },
    other: null,
  },
  // --- issue 15, territories (h-terr): the fund's keys read them; a structure key sees no fund
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/territories',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/territories?level=epci&as_of=2030-01-01`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/territories?level=epci&as_of=2030-01-01`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/territories.csv',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundA}/territories.csv?level=region` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundB}/territories.csv?level=region` }),
      expect: READ_OTHER,
    },
  },

  // --- issue 15 items 3-4: impact snapshots (a structure key records its own), funding sources, EU indicators
  {
    method: 'post',
    path: '/v1/structures/{structure_id}/impact-snapshots',
    own: {
      build: (w) => ({
        method: 'post',
        path: `/v1/structures/${w.structures.A1}/impact-snapshots`,
        body: impactSnapshot(),
      }),
      expect: SNAPSHOT_CREATE_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'post',
        path: `/v1/structures/${w.structures[otherStructure(caller)]}/impact-snapshots`,
        body: impactSnapshot(),
      }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/structures/{structure_id}/impact-snapshots',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/structures/${w.structures.A1}/impact-snapshots` }),
      expect: STRUCTURE_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/structures/${w.structures[otherStructure(caller)]}/impact-snapshots`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'post',
    path: '/v1/funds/{fund_id}/funding-sources',
    own: {
      build: (w) => ({
        method: 'post',
        path: `/v1/funds/${w.fundA}/funding-sources`,
        body: FUNDING_SOURCE,
      }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: `/v1/funds/${w.fundB}/funding-sources`,
        body: FUNDING_SOURCE,
      }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/funding-sources',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundA}/funding-sources` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({ method: 'get', path: `/v1/funds/${w.fundB}/funding-sources` }),
      expect: READ_OTHER,
    },
    listItem: (item) => ({ fund: String(item.fund_id) }),
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/funding-sources/{source_id}',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/funding-sources/${w.fundingSource.A}`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/funding-sources/${w.fundingSource.B}`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'patch',
    path: '/v1/funds/{fund_id}/funding-sources/{source_id}',
    own: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/funds/${w.fundA}/funding-sources/${w.fundingSource.A}`,
        body: { label: label() },
      }),
      expect: FUND_ACT_OWN,
    },
    other: {
      build: (w) => ({
        method: 'patch',
        path: `/v1/funds/${w.fundB}/funding-sources/${w.fundingSource.B}`,
        body: { label: label() },
      }),
      expect: WRITE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/funding-report',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/funding-report?from=2025-01-01&to=2025-12-31`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/funding-report?from=2025-01-01&to=2025-12-31`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/eu-indicators',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/eu-indicators?from=2025-01-01&to=2025-12-31`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/eu-indicators?from=2025-01-01&to=2025-12-31`,
      }),
      expect: READ_OTHER,
    },
  },
  // issue 15 item 3: the CSV versions (no structure key: not CORS routes)
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/funding-report.csv',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/funding-report.csv?from=2025-01-01&to=2025-12-31`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/funding-report.csv?from=2025-01-01&to=2025-12-31`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/eu-indicators.csv',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/eu-indicators.csv?from=2025-01-01&to=2025-12-31`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/eu-indicators.csv?from=2025-01-01&to=2025-12-31`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/loans/{loan_id}/funding',
    own: { build: loanRead('own', () => '/funding'), expect: STRUCTURE_READ_OWN },
    other: { build: loanRead('other', () => '/funding'), expect: READ_OTHER },
  },
  {
    method: 'put',
    path: '/v1/loans/{loan_id}/funding',
    own: {
      build: async (w, { allowed }) => ({
        method: 'put',
        path: `/v1/loans/${await loanToChange(w, 'A1', allowed)}/funding`,
        body: { shares: [] },
      }),
      expect: LOAN_WRITE_OWN,
    },
    other: {
      build: async (w, { caller, allowed }) => ({
        method: 'put',
        path: `/v1/loans/${await loanToChange(w, otherStructure(caller), allowed)}/funding`,
        body: { shares: [] },
      }),
      expect: WRITE_OTHER,
    },
  },

  // --- state aid (docs/state-aid.md): fund data; a structure key sees none of it (404), the auditor reads
  {
    method: 'post',
    path: '/v1/eu-base-rates',
    own: {
      build: (w) => ({
        method: 'post',
        path: '/v1/eu-base-rates',
        body: { fund_id: w.fundA, effective_date: baseRateDate(), rate_percent: '3.5' },
      }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: '/v1/eu-base-rates',
        body: { fund_id: w.fundB, effective_date: baseRateDate(), rate_percent: '3.5' },
      }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/eu-base-rates',
    own: { build: ownList('/v1/eu-base-rates'), expect: FUND_READ_OWN },
    other: { build: otherList('/v1/eu-base-rates'), expect: READ_OTHER },
    listItem: (item) => ({ fund: String(item.fund_id) }),
  },
  {
    method: 'post',
    path: '/v1/structures/{structure_id}/declared-aid',
    own: {
      build: (w) => ({
        method: 'post',
        path: `/v1/structures/${w.structures.A1}/declared-aid`,
        body: DECLARED_AID,
      }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'post',
        path: `/v1/structures/${w.structures[otherStructure(caller)]}/declared-aid`,
        body: DECLARED_AID,
      }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/structures/{structure_id}/declared-aid',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/structures/${w.structures.A1}/declared-aid` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/structures/${w.structures[otherStructure(caller)]}/declared-aid`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'post',
    path: '/v1/structures/{structure_id}/undertaking-links',
    own: {
      build: (w) => ({
        method: 'post',
        path: `/v1/structures/${w.structures.A1}/undertaking-links`,
        body: { structure_id: w.structures.A2 },
      }),
      expect: CREATE_OWN,
    },
    other: {
      build: (w) => ({
        method: 'post',
        path: `/v1/structures/${w.structures.B1}/undertaking-links`,
        body: { structure_id: w.structures.B2 },
      }),
      expect: CREATE_OTHER,
    },
  },
  {
    method: 'delete',
    path: '/v1/structures/{structure_id}/undertaking-links/{linked_id}',
    own: {
      build: (w) => ({
        method: 'delete',
        path: `/v1/structures/${w.structures.A1}/undertaking-links/${w.structures.A2}`,
      }),
      expect: row(401, 401, 204, 204, 403, 404),
    },
    other: {
      build: (w) => ({
        method: 'delete',
        path: `/v1/structures/${w.structures.B1}/undertaking-links/${w.structures.B2}`,
      }),
      expect: DELETE_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/structures/{structure_id}/state-aid',
    own: {
      build: (w) => ({ method: 'get', path: `/v1/structures/${w.structures.A1}/state-aid` }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w, { caller }) => ({
        method: 'get',
        path: `/v1/structures/${w.structures[otherStructure(caller)]}/state-aid`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/state-aid',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/state-aid?from=2025-01-01&to=2025-12-31`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/state-aid?from=2025-01-01&to=2025-12-31`,
      }),
      expect: READ_OTHER,
    },
  },
  {
    method: 'get',
    path: '/v1/funds/{fund_id}/state-aid.csv',
    own: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundA}/state-aid.csv?from=2025-01-01&to=2025-12-31`,
      }),
      expect: FUND_READ_OWN,
    },
    other: {
      build: (w) => ({
        method: 'get',
        path: `/v1/funds/${w.fundB}/state-aid.csv?from=2025-01-01&to=2025-12-31`,
      }),
      expect: READ_OTHER,
    },
  },
];

/** One cell of the matrix: a route, a scope, a caller, and what the policy expects. */
export interface MatrixCell {
  readonly route: Route;
  readonly scope: Scope;
  readonly caller: Caller;
  readonly expected: number;
  readonly allowed: boolean;
  readonly name: string;
}

export const CELLS: readonly MatrixCell[] = MATRIX.flatMap((route) =>
  (['own', 'other'] as const).flatMap((scope) => {
    const cell = route[scope];
    if (!cell) return [];
    return CALLERS.map((caller) => ({
      route,
      scope,
      caller,
      expected: cell.expect[caller],
      allowed: isAllowed(cell.expect[caller]),
      name: `${route.method.toUpperCase()} ${route.path} [${scope}] as ${caller} → ${cell.expect[caller]}`,
    }));
  }),
);
