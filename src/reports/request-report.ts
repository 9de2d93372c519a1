import { v7 as uuidv7 } from 'uuid';
import { auditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { executeWrites } from '../db/writes';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { findVisibleFund } from '../funds/find-visible-fund';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { enqueue } from '../outbox/outbox';
import { reportView } from './report.view';
import {
  COMPUTE_REPORT,
  findReportById,
  insertReportWrite,
  reportJobId,
  type ReportType,
} from './reports.repository';

/**
 * POST /v1/reports: a fund's manager (or the admin) asks for its report as of a date, today by
 * default, not a day to come. The report, its job and the audit event land together; a worker
 * computes it (202: the caller polls its Location).
 */
export async function requestReport(
  db: Db,
  context: RequestContext,
  body: { fund_id: string; as_of?: string; type?: ReportType },
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  const { actor } = context;
  const fund = await findVisibleFund(db, actor, body.fund_id, 'fund_id'); // 404 if unknown or not the key's
  assertCanWrite(actor);
  const asOf = (body.as_of ?? today) as CalendarDate;
  if (asOf > today)
    throw new DomainError('rule_violation', 'A report cannot be as of a day to come.', [
      { field: 'as_of', message: `must not be after today, ${today}` },
    ]);
  const id = uuidv7();
  return transactOnce(
    db,
    idempotency,
    (trx) =>
      executeWrites(trx, [
        insertReportWrite({ id, fundId: fund.id, asOf, requestedBy: actor.keyId, type: body.type }),
        enqueue({
          queue: 'reports',
          name: COMPUTE_REPORT,
          jobId: reportJobId(id),
          payload: { report_id: id, request_id: context.requestId || null },
        }),
        ...auditEvent(context, {
          fundId: fund.id,
          action: 'report.requested',
          entityType: 'report',
          entityId: id,
          state: { id, fund_id: fund.id, as_of: asOf, type: body.type ?? 'resilience' },
        }),
      ]).then(async () => (await findReportById(trx, id))!),
    (report) => ({ status: 202, body: reportView(report) }),
  );
}
