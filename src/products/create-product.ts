import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError, type FieldError } from '../domain/errors';
import type { CollateralClass, RatingClass } from '../domain/gge';
import { parseMoney, type Rounding } from '../domain/money';
import type { Periodicity } from '../domain/periods';
import type { LoanKind } from '../domain/product-ranges';
import { MAX_ANNUAL_RATE, MAX_PERCENT, parseRate } from '../domain/rate';
import type { Method } from '../domain/schedule';
import { findVisibleFund } from '../funds/find-visible-fund';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { productView } from './product.view';
import { insertProduct, type NewProduct } from './products.repository';

export interface CreateProductBody {
  fund_id: string;
  name: string;
  kind: LoanKind;
  principal_min: string;
  principal_max: string;
  annual_rate_percent_min: string;
  annual_rate_percent_max: string;
  term_periods_min: number;
  term_periods_max: number;
  deferral_periods_max: number;
  methods: Method[];
  periodicities: Periodicity[];
  rounding?: Rounding;
  guarantee_coverage_percent?: string;
  /** State aid (docs/state-aid.md): the classes its loans take unless they name theirs. */
  rating_class?: RatingClass | null;
  collateral_class?: CollateralClass | null;
}

/** The product the body describes, its amounts and rates parsed (the schema checked their form). */
const productOf = (body: CreateProductBody): Omit<NewProduct, 'id'> => ({
  fund_id: body.fund_id,
  name: body.name,
  kind: body.kind,
  principal_min: parseMoney(body.principal_min),
  principal_max: parseMoney(body.principal_max),
  annual_rate_percent_min: parseRate(body.annual_rate_percent_min),
  annual_rate_percent_max: parseRate(body.annual_rate_percent_max),
  term_periods_min: body.term_periods_min,
  term_periods_max: body.term_periods_max,
  deferral_periods_max: body.deferral_periods_max,
  methods: [...new Set(body.methods)],
  periodicities: [...new Set(body.periodicities)],
  rounding: body.rounding ?? 'half_up',
  guarantee_coverage_percent: parseRate(body.guarantee_coverage_percent ?? '0'),
  rating_class: body.rating_class ?? null,
  collateral_class: body.collateral_class ?? null,
});

/** Ranges that hold together: every broken one, named by field. */
function checkProduct(p: Omit<NewProduct, 'id'>): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  if (p.principal_min <= 0n) fail('principal_min', 'must be greater than 0');
  if (p.principal_min > p.principal_max) fail('principal_max', 'must be at least principal_min');
  if (p.annual_rate_percent_max > MAX_ANNUAL_RATE)
    fail('annual_rate_percent_max', 'must be at most 100');
  if (p.annual_rate_percent_min > p.annual_rate_percent_max)
    fail('annual_rate_percent_max', 'must be at least annual_rate_percent_min');
  if (p.term_periods_min > p.term_periods_max)
    fail('term_periods_max', 'must be at least term_periods_min');
  if (p.deferral_periods_max >= p.term_periods_max)
    fail('deferral_periods_max', 'must be less than term_periods_max');
  if (p.guarantee_coverage_percent > MAX_PERCENT)
    fail('guarantee_coverage_percent', 'must be at most 100');
  return errors;
}

export async function createProduct(
  db: Db,
  context: RequestContext,
  body: CreateProductBody,
  idempotency?: IdempotentRequest,
) {
  await findVisibleFund(db, context.actor, body.fund_id, 'fund_id');
  assertCanWrite(context.actor);
  const values = productOf(body);
  const broken = checkProduct(values);
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The product’s ranges do not hold together.', broken);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const product = await insertProduct(trx, { id: uuidv7(), ...values });
      await recordAuditEvent(trx, context, {
        fundId: product.fund_id,
        action: 'product.created',
        entityType: 'product',
        entityId: product.id,
        state: productView(product),
      });
      return product;
    },
    (product) => ({ status: 201, body: productView(product) }),
  );
}
