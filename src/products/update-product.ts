import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { CollateralClass, RatingClass } from '../domain/gge';
import { assertCanWrite, seesFund, type RequestContext } from '../http/auth';
import { assertIfMatch } from '../http/etag';
import { changedMembers, fieldChanges } from '../http/merge-patch';
import { productView } from './product.view';
import {
  findProductById,
  lockProductForUpdate,
  updateProductRow,
  type Product,
} from './products.repository';

/**
 * What may change on a product: its name, and whether it takes new loans. Never its ranges, methods,
 * rounding or guarantee: its loans were granted within them, and a product's terms that move under
 * its loans would make "within the product's ranges" mean nothing; other terms are a new product.
 */
export interface UpdateProductBody {
  name?: string;
  active?: boolean;
  /** State aid (docs/state-aid.md): the classes its future loans take by default; null, the platform's. Loans keep theirs. */
  rating_class?: RatingClass | null;
  collateral_class?: CollateralClass | null;
}

/**
 * PATCH /v1/products/{id}: the fund's manager (or the admin). `active: false` refuses new loans of the
 * product (422 naming product_id); its existing loans are disbursed and serviced as before. The ETag
 * check and the write happen under the row's lock; an edit that changes nothing writes nothing.
 */
export async function updateProduct(
  db: Db,
  context: RequestContext,
  productId: string,
  body: UpdateProductBody,
  ifMatch: string | undefined,
): Promise<Product> {
  const found = await findProductById(db, productId);
  if (!found || !seesFund(context.actor, found.fund_id))
    throw new DomainError('not_found', 'No such product.');
  assertCanWrite(context.actor);
  return db.transaction().execute(async (trx) => {
    const before = (await lockProductForUpdate(trx, productId))!;
    assertIfMatch(ifMatch, before.version);
    const changes = changedMembers(
      {
        name: before.name,
        active: before.active,
        rating_class: before.rating_class,
        collateral_class: before.collateral_class,
      },
      {
        name: body.name ?? before.name,
        active: body.active ?? before.active,
        rating_class: body.rating_class === undefined ? before.rating_class : body.rating_class,
        collateral_class:
          body.collateral_class === undefined ? before.collateral_class : body.collateral_class,
      },
    );
    if (Object.keys(changes).length === 0) return before;
    const after = await updateProductRow(trx, productId, changes);
    const changed = fieldChanges(productView(before), productView(after));
    await recordAuditEvent(trx, context, {
      fundId: after.fund_id,
      action: 'product.updated',
      entityType: 'product',
      entityId: after.id,
      state: { ...productView(after), changes: changed },
    });
    return after;
  });
}
