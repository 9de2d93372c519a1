import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import {
  findProductById,
  findProductsOfFund,
  lockProductForShare,
  type Product,
} from './products.repository';

export { findProductsOfFund, type Product };

/** A product by id, for other features that refer to one (they never read the products table themselves). */
export function findProduct(db: Db, id: string): Promise<Product | undefined> {
  return findProductById(db, id);
}

/**
 * Inside a loan's creation: whether the product still takes loans, the product locked against a
 * deactivation until the loan commits (a deactivation under way is waited for, then seen).
 */
export function productTakesLoans(trx: Transaction<Database>, id: string): Promise<boolean> {
  return lockProductForShare(trx, id);
}
