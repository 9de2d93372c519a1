import express, { Router, type RequestHandler } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { verifyJsonStructure } from '../http/body';
import { actorOf, contextOf, seesFund } from '../http/auth';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { importView } from './import.view';
import { findImportById } from './imports.repository';
import { requestImport } from './request-import';
import { type Today } from '../http/clock';
import { dryRunImport, type ImportBody } from './dry-run-import';
import type { ImportKind } from './import-columns';
import { importTemplate, type Conventions } from './import-templates';

/**
 * POST /v1/imports carries its CSV files as JSON strings, up to this many bytes in all: the 100 kB
 * of the other routes would hold a few hundred loans, this holds tens of thousands of rows.
 * Memory stays bounded by it: one body at a time per request, the files read record by record.
 */
export const IMPORT_BODY_LIMIT = '20mb';

/**
 * Its own JSON parser, mounted before the app's: express.json leaves a body already parsed alone,
 * so this route alone takes IMPORT_BODY_LIMIT (with the same structure check and UTF-8 only).
 */
export function importBodyParser(): RequestHandler {
  const parse = express.json({
    limit: IMPORT_BODY_LIMIT,
    type: ['application/json', 'application/*+json'],
    verify: verifyJsonStructure,
  });
  // The app's problem for a large body names its 100 kB: this one names the route's own limit.
  const tooLarge = new DomainError(
    'invalid_request',
    'The import is larger than 20 MB: split it.',
    [{ field: '', message: 'is larger than 20 MB' }],
  );
  return (req, res, next) =>
    parse(req, res, (error?: unknown) =>
      next(
        (error as { type?: string } | undefined)?.type === 'entity.too.large' ? tooLarge : error,
      ),
    );
}

export function importsRouter(db: Db, today: Today): Router {
  const router = Router();

  router.post('/v1/imports', async (req, res) => {
    const body = req.body as ImportBody;
    if (body.mode !== 'commit') {
      res.json(await dryRunImport(db, contextOf(req), body, today()));
      return;
    }
    const answer = await requestImport(db, contextOf(req), body, today(), idempotencyOf(req));
    if (answer.status === 202) res.location(`/v1/imports/${(answer.body as { id: string }).id}`);
    sendStored(res, answer);
  });

  router.get('/v1/imports/:import_id', async (req, res) => {
    const row = await findImportById(db, String(req.params.import_id));
    if (!row || !seesFund(actorOf(req), row.fund_id))
      throw new DomainError('not_found', 'No such import.');
    res.json(importView(row));
  });

  router.get('/v1/imports/templates/:kind.csv', (req, res) => {
    const kind = String(req.params.kind) as ImportKind;
    const conventions = ((req.query as { conventions?: string }).conventions ??
      'en') as Conventions;
    res
      .type('text/csv; charset=utf-8')
      .set(
        'Content-Disposition',
        `attachment; filename="${kind}${conventions === 'fr' ? '-fr' : ''}.csv"`,
      )
      .send(importTemplate(kind, conventions));
  });

  return router;
}
