import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, seesFund, type Actor } from '../http/auth';
import { type Today } from '../http/clock';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { reportSummaryView, reportView } from './report.view';
import type { CalendarDate } from '../domain/dates';
import { findReportById, findReports, type Report, type ReportStatus } from './reports.repository';
import { requestReport } from './request-report';

/** A report its fund's keys (and the admin) read; for anyone else, including structures, it does not exist. */
async function findVisibleReport(db: Db, actor: Actor, id: string): Promise<Report> {
  const report = await findReportById(db, id);
  if (!report || !seesFund(actor, report.fund_id))
    throw new DomainError('not_found', 'No such report.');
  return report;
}

/** `reads`: where its list goes, the read replica if there is one (docs/read-replica.md); the rest reads and writes `db`. */
export function reportsRouter(db: Db, reads: Db, today: Today): Router {
  const router = Router();

  router.post('/v1/reports', async (req, res) => {
    const report = await requestReport(
      db,
      contextOf(req),
      req.body as Parameters<typeof requestReport>[2],
      today(),
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/reports/${report.body.id}`), report);
  });

  router.get('/v1/reports', async (req, res) => {
    const actor = actorOf(req);
    // openapi.yaml has checked the status's list and the date's form
    const query = req.query as { fund_id?: string; status?: ReportStatus; as_of?: CalendarDate };
    if (
      actor.role === 'structure' ||
      (query.fund_id !== undefined && !seesFund(actor, query.fund_id))
    ) {
      throw new DomainError('not_found', 'No such fund.', [
        { field: 'fund_id', message: 'not found', in: 'query' },
      ]);
    }
    const page = pageOf(req.query, SERIAL_KEY);
    const rows = await findReports(reads, {
      fundId: query.fund_id ?? actor.fundId ?? undefined,
      status: query.status,
      asOf: query.as_of,
      afterSeq: page.after,
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageResult(rows, page, (row) => row.seq);
    res.json({ items: items.map(reportSummaryView), next_cursor });
  });

  // Before /v1/reports/:report_id, which would take "….csv" for an id.
  router.get('/v1/reports/:report_id.csv', async (req, res) => {
    const report = await findVisibleReport(db, actorOf(req), String(req.params.report_id));
    if (report.status !== 'done')
      throw new DomainError('conflict', `The report is not ready: it is ${report.status}.`);
    res
      .type('text/csv; charset=utf-8')
      .set(
        'Content-Disposition',
        `attachment; filename="report-${report.fund_id}-${report.as_of}.csv"`,
      )
      .set('Repr-Digest', `sha-256=:${Buffer.from(report.csv_sha256!, 'hex').toString('base64')}:`)
      .send(report.csv);
  });

  router.get('/v1/reports/:report_id', async (req, res) => {
    const report = await findVisibleReport(db, actorOf(req), String(req.params.report_id));
    if (report.status === 'queued' || report.status === 'running') res.set('Retry-After', '2');
    res.json(reportView(report));
  });

  return router;
}
