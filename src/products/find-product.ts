import type { Db } from '../db/connect';
import { findProductById, type ProductRow } from './products.repository';

export type { ProductRow };

/** A product by id, for other features that refer to one (they never read the products table themselves). */
export function findProduct(db: Db, id: string): Promise<ProductRow | undefined> {
  return findProductById(db, id);
}
