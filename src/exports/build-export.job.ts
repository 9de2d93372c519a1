import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { buildExport, type ExportOutcome } from './build-export';

/** The BullMQ processor of `export-<id>` jobs: one attempt; the job's attempts and backoff retry. `reads`: see buildExport. */
export function buildExportJob(db: Db, reads: Db = db) {
  return async (
    job: Job<{ export_id: string; request_id?: string | null }>,
  ): Promise<{ outcome: ExportOutcome }> => {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return { outcome: await buildExport(db, job.data.export_id, isLastAttempt, reads) };
  };
}
