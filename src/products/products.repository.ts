import { sql, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ProductsTable } from '../db/schema';
import {
  COLLATERAL_CLASSES,
  RATING_CLASSES,
  type CollateralClass,
  type RatingClass,
} from '../domain/gge';
import { formatMoney, parseMoney, ROUNDINGS, type Money, type Rounding } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { PERIODICITIES, type Periodicity } from '../domain/periods';
import { LOAN_KINDS, type LoanKind } from '../domain/product-ranges';
import { formatRate, parseRate, type Rate } from '../domain/rate';
import { METHODS, type Method } from '../domain/schedule';

/** A product as the application holds it: amounts, rates and closed lists parsed once, here. */
export interface Product {
  readonly id: string;
  readonly fund_id: string;
  readonly name: string;
  readonly kind: LoanKind;
  readonly principal_min: Money;
  readonly principal_max: Money;
  readonly annual_rate_percent_min: Rate;
  readonly annual_rate_percent_max: Rate;
  readonly term_periods_min: number;
  readonly term_periods_max: number;
  readonly deferral_periods_max: number;
  readonly methods: Method[];
  readonly periodicities: Periodicity[];
  readonly rounding: Rounding;
  readonly guarantee_coverage_percent: Rate;
  readonly created_at: Date;
  readonly version: number;
  readonly active: boolean;
  readonly rating_class: RatingClass | null;
  readonly collateral_class: CollateralClass | null;
}

export type NewProduct = Omit<Product, 'created_at' | 'version' | 'active'>;

export function rowToProduct(row: Selectable<ProductsTable>): Product {
  return {
    ...row,
    kind: oneOf(LOAN_KINDS, row.kind, 'products.kind'),
    principal_min: parseMoney(row.principal_min),
    principal_max: parseMoney(row.principal_max),
    annual_rate_percent_min: parseRate(row.annual_rate_percent_min),
    annual_rate_percent_max: parseRate(row.annual_rate_percent_max),
    methods: row.methods.map((m) => oneOf(METHODS, m, 'products.methods')),
    periodicities: row.periodicities.map((p) => oneOf(PERIODICITIES, p, 'products.periodicities')),
    rounding: oneOf(ROUNDINGS, row.rounding, 'products.rounding'),
    guarantee_coverage_percent: parseRate(row.guarantee_coverage_percent),
    rating_class:
      row.rating_class === null
        ? null
        : oneOf(RATING_CLASSES, row.rating_class, 'products.rating_class'),
    collateral_class:
      row.collateral_class === null
        ? null
        : oneOf(COLLATERAL_CLASSES, row.collateral_class, 'products.collateral_class'),
  };
}

const productColumns = (product: NewProduct): Insertable<ProductsTable> => ({
  ...product,
  principal_min: formatMoney(product.principal_min),
  principal_max: formatMoney(product.principal_max),
  annual_rate_percent_min: formatRate(product.annual_rate_percent_min),
  annual_rate_percent_max: formatRate(product.annual_rate_percent_max),
  guarantee_coverage_percent: formatRate(product.guarantee_coverage_percent),
});

export async function insertProduct(
  trx: Transaction<Database>,
  product: NewProduct,
): Promise<Product> {
  return rowToProduct(
    await trx
      .insertInto('products')
      .values(productColumns(product))
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export async function findProductById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<Product | undefined> {
  const row = await db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToProduct(row);
}

export async function listProducts(
  db: Db,
  filter: { fundId?: string; active?: boolean; afterId?: string; limit: number },
): Promise<Product[]> {
  let query = db.selectFrom('products').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.active !== undefined) query = query.where('active', '=', filter.active);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return (await query.execute()).map(rowToProduct);
}

/** The fund's products among `ids` (a product of another fund is not found, as through the API). */
export async function findProductsOfFund(
  db: Db,
  fundId: string,
  ids: string[],
): Promise<Product[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('products')
    .selectAll()
    .where('fund_id', '=', fundId)
    .where(sql<boolean>`id = ANY(${ids}::uuid[])`)
    .execute();
  return rows.map(rowToProduct);
}

/** The product, locked until the transaction ends: an edit checks its ETag and writes it in one step. */
export async function lockProductForUpdate(
  trx: Transaction<Database>,
  id: string,
): Promise<Product | undefined> {
  const row = await trx
    .selectFrom('products')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && rowToProduct(row);
}

export async function updateProductRow(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<Pick<Product, 'name' | 'active' | 'rating_class' | 'collateral_class'>>,
): Promise<Product> {
  return rowToProduct(
    await trx
      .updateTable('products')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

/** Whether the product takes loans, read under a FOR SHARE lock that a deactivation (FOR UPDATE) waits for, and that waits for one. */
export async function lockProductForShare(
  trx: Transaction<Database>,
  id: string,
): Promise<boolean> {
  const row = await trx
    .selectFrom('products')
    .select('active')
    .where('id', '=', id)
    .forShare()
    .executeTakeFirstOrThrow();
  return row.active;
}
