import { createHash } from 'node:crypto';
import type { Db } from '../db/connect';
import { conflictsWithAnother, isDatabaseUnavailable } from '../db/errors';
import { readAfterPrimary } from '../db/read-replica';
import { canonicalJson } from '../domain/canonical-json';
import { publishEvents } from '../events/publish-events';
import { reportCsv } from '../http/csv';
import { reportSummaryView } from './report.view';
import { computeReportIndicators } from './report-indicators';
import { computeEvaluation } from '../evaluation/compute-evaluation';
import { failReport, finishReport, setReportProgress, startReport } from './reports.repository';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export type ReportOutcome = 'done' | 'done already' | 'failed';

/**
 * One attempt at a report (a job of the reports queue, delivered at least once): the indicators in
 * one read-only REPEATABLE READ transaction, so that every figure sees the same data; then the CSV
 * and both checksums, stored at once, after which PostgreSQL refuses any change. A failed attempt
 * puts it back in the queue; the last one leaves it `failed` with the error. The indicators are read
 * on `reads` (the replica, if any) once it has replayed what the primary held when the attempt
 * began, else on the primary: a repayment recorded, even back-dated, just before the report was
 * asked for is never missed. Everything else reads and writes `db`.
 */
export async function computeReport(
  db: Db,
  reportId: string,
  isLastAttempt: boolean,
  requestId: string | null = null,
  reads: Db = db,
): Promise<ReportOutcome> {
  const report = await startReport(db, reportId);
  if (!report) return 'done already';
  try {
    // The report's type picks its figures: the resilience indicators, or the evaluation (issue 15 item 4, docs/evaluation.md).
    const figures = report.type === 'evaluation' ? computeEvaluation : computeReportIndicators;
    const indicators = (source: Db) =>
      source
        .transaction()
        .setIsolationLevel('repeatable read')
        .setAccessMode('read only')
        .execute((trx): Promise<unknown> => figures(trx, report.fund_id, report.as_of));
    const result = await readAfterPrimary(db, reads, indicators).then(
      ({ result }) => result,
      (error: unknown) => {
        // A standby cancels a long read whose rows its replay must remove (a recovery conflict, 40001):
        // the primary computes it now, rather than the replica again at every retry.
        if (reads === db || !conflictsWithAnother(error)) throw error;
        return indicators(db);
      },
    );
    await setReportProgress(db, reportId, 80);
    const csv = reportCsv(result);
    // Done and announced together (report.completed, with the request id of the POST that asked for it).
    await db.transaction().execute(async (trx) => {
      const done = await finishReport(trx, reportId, {
        result,
        csv,
        sha256: sha256(canonicalJson(result)),
        csvSha256: sha256(csv),
      });
      if (!done) return;
      await publishEvents(trx, requestId, [
        {
          type: 'report.completed',
          fundId: done.fund_id,
          structureId: null,
          loanId: null,
          data: reportSummaryView(done),
        },
      ]);
    });
    return 'done';
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error; // not the report's failure: its job is tried again later
    await failReport(
      db,
      reportId,
      (error as { message?: string } | undefined)?.message ?? String(error),
      isLastAttempt,
    );
    if (isLastAttempt) return 'failed';
    throw error;
  }
}
