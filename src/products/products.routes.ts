import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, listScope, seesFund } from '../http/auth';
import { ifMatchOf, setEtag } from '../http/etag';
import { pageOf, pageResult, UUID_KEY } from '../http/pagination';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { createProduct, type CreateProductBody } from './create-product';
import { productView } from './product.view';
import { findProductById, listProducts } from './products.repository';
import { updateProduct, type UpdateProductBody } from './update-product';

/** `reads`: where its list goes, the read replica if there is one (docs/read-replica.md); the rest reads and writes `db`. */
export function productsRouter(db: Db, reads: Db): Router {
  const router = Router();

  router.post('/v1/products', async (req, res) => {
    const created = await createProduct(
      db,
      contextOf(req),
      req.body as CreateProductBody,
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/products/${created.body.id}`), created);
  });

  router.get('/v1/products', async (req, res) => {
    const actor = actorOf(req);
    if (actor.role === 'structure') throw new DomainError('not_found', 'No products here.');
    const query = req.query as { fund_id?: string; active?: boolean | string };
    const { fundId } = listScope(actor, query.fund_id);
    const page = pageOf(req.query, UUID_KEY);
    const active = query.active === undefined ? undefined : String(query.active) === 'true';
    const rows = await listProducts(reads, {
      fundId,
      active,
      afterId: page.after,
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageResult(rows, page, (p) => p.id);
    res.json({ items: items.map(productView), next_cursor });
  });

  router.get('/v1/products/:product_id', async (req, res) => {
    const product = await findProductById(db, String(req.params.product_id));
    if (!product || !seesFund(actorOf(req), product.fund_id))
      throw new DomainError('not_found', 'No such product.');
    setEtag(res, product.version).json(productView(product));
  });

  router.patch('/v1/products/:product_id', async (req, res) => {
    const product = await updateProduct(
      db,
      contextOf(req),
      String(req.params.product_id),
      req.body as UpdateProductBody,
      ifMatchOf(req),
    );
    setEtag(res, product.version).json(productView(product));
  });

  return router;
}
