import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import {
  as,
  createProduct,
  createStructure,
  fundWithManager,
  type CreatedKey,
  type Fund,
} from './portfolio';

export interface LoanTerms {
  principal?: string;
  annual_rate_percent?: string;
  term_periods?: number;
  deferral_periods?: number;
  deferral_type?: 'partial' | 'total';
  method?: 'annuity' | 'linear';
  periodicity?: 'monthly' | 'quarterly';
  disbursement_date?: string;
  first_due_date?: string;
  kind?: 'recovery' | 'common_law';
}

/** A fund, its manager, a product wide enough for the terms, a structure; and the calls of that manager. */
export async function servicingDesk(
  app: Express,
  kind: 'recovery' | 'common_law' = 'common_law',
  overrides: { fund?: Record<string, unknown>; structure?: Record<string, unknown> } = {},
) {
  const { fund, manager } = await fundWithManager(app, overrides.fund);
  const product = await createProduct(app, fund.id, manager.secret, {
    kind,
    principal_min: '100.00',
    principal_max: '1000000.00',
    annual_rate_percent_max: '20',
    term_periods_min: 1,
    term_periods_max: 360,
    deferral_periods_max: 60,
    methods: ['annuity', 'linear', 'bullet'],
    periodicities: ['monthly', 'quarterly', 'semiannual', 'annual'],
  });
  const structure = await createStructure(app, fund.id, manager.secret, overrides.structure);
  const api = as(app, manager.secret);
  return { fund, manager, product, structure, api };
}

export type Desk = Awaited<ReturnType<typeof servicingDesk>>;

/** Creates and disburses a loan: by default 10,000.00 at 12 % over 12 months, annuity, 30E/360, from 15 January 2025. */
export async function disbursedLoan(desk: Desk, terms: LoanTerms = {}): Promise<{ id: string }> {
  const { principal = '10000.00', disbursement_date = '2025-01-15', ...rest } = terms;
  const created = await desk.api.post('/v1/loans', {
    product_id: desk.product.id,
    structure_id: desk.structure.id,
    principal,
    annual_rate_percent: '12',
    periodicity: 'monthly',
    term_periods: 12,
    method: 'annuity',
    disbursement_date,
    ...rest,
  });
  if (created.status !== 201)
    throw new Error(`loan: ${created.status} ${JSON.stringify(created.body)}`);
  const disbursed = await desk.api.post(`/v1/loans/${created.body.id}/disbursement`, {
    date: disbursement_date,
    amount: principal,
  });
  if (disbursed.status !== 200)
    throw new Error(`disbursement: ${disbursed.status} ${JSON.stringify(disbursed.body)}`);
  return { id: created.body.id as string };
}

/** POST a repayment with a fresh Idempotency-Key (or the one given). */
export function repay(
  desk: { api: Desk['api'] },
  loanId: string,
  body: Record<string, unknown>,
  key: string = randomUUID(),
) {
  return desk.api.post(`/v1/loans/${loanId}/repayments`, body, { 'Idempotency-Key': key });
}

export type { CreatedKey, Fund };
