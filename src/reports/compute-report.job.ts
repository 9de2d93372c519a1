import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { timeReportComputation } from '../metrics/registry';
import { computeReport, type ReportOutcome } from './compute-report';

/** The BullMQ processor of `report-<id>` jobs: one attempt; the job's attempts and backoff retry. `reads`: see computeReport. */
export function computeReportJob(db: Db, reads: Db = db) {
  return async (
    job: Job<{ report_id: string; request_id?: string | null }>,
  ): Promise<{ outcome: ReportOutcome }> => {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return {
      outcome: await timeReportComputation(() =>
        computeReport(db, job.data.report_id, isLastAttempt, job.data.request_id ?? null, reads),
      ),
    };
  };
}
