import { v7 as uuidv7 } from 'uuid';
import { auditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { executeWrites } from '../db/writes';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { findVisibleFund } from '../funds/find-visible-fund';
import type { RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { enqueue } from '../outbox/outbox';
import { exportView } from './export.view';
import { BUILD_EXPORT, exportJobId, findExportById, insertExportWrite } from './exports.repository';

/**
 * POST /v1/exports: a fund's manager or auditor (or the admin) asks for its books as files as of a
 * date, today by default, not a day to come. An auditor may ask: the export changes no book, it
 * only reads them. The export, its job and the audit event land together; a worker builds the
 * bundle (202: the caller polls its Location).
 */
export async function requestExport(
  db: Db,
  context: RequestContext,
  body: { fund_id: string; as_of?: string },
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  const { actor } = context;
  const fund = await findVisibleFund(db, actor, body.fund_id, 'fund_id'); // 404 if unknown, not the key's, or a structure's key
  const asOf = (body.as_of ?? today) as CalendarDate;
  if (asOf > today)
    throw new DomainError('rule_violation', 'An export cannot be as of a day to come.', [
      { field: 'as_of', message: `must not be after today, ${today}` },
    ]);
  const id = uuidv7();
  return transactOnce(
    db,
    idempotency,
    (trx) =>
      executeWrites(trx, [
        insertExportWrite({ id, fundId: fund.id, asOf, requestedBy: actor.keyId }),
        enqueue({
          queue: 'exports',
          name: BUILD_EXPORT,
          jobId: exportJobId(id),
          payload: { export_id: id, request_id: context.requestId || null },
        }),
        ...auditEvent(context, {
          fundId: fund.id,
          action: 'export.requested',
          entityType: 'export',
          entityId: id,
          state: { id, fund_id: fund.id, as_of: asOf },
        }),
      ]).then(async () => (await findExportById(trx, id))!),
    (row) => ({ status: 202, body: exportView(row) }),
  );
}
