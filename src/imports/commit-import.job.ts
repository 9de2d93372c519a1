import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { todayInParis } from '../http/clock';
import { commitImport, type ImportOutcome } from './commit-import';

/** The BullMQ processor of `import-<id>` jobs: one attempt; the job's attempts and backoff retry. */
export function commitImportJob(db: Db) {
  return async (
    job: Job<{ import_id: string; request_id?: string | null }>,
  ): Promise<{ outcome: ImportOutcome }> => {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return { outcome: await commitImport(db, job.data.import_id, todayInParis(), isLastAttempt) };
  };
}
