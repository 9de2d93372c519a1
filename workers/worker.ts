import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../src/db/errors';
import { RetryLater } from '../src/queues/retry-later';

/** How long a job waits before trying again while the database is away (not one of its attempts). */
const DATABASE_RETRY_MS = 5_000;

/** The request id of the change that asked for the job (carried in its data), so that one id follows it. */
const requestIdOf = (job: Job | undefined) =>
  (job?.data as { request_id?: string } | undefined)?.request_id ?? null;

/**
 * A BullMQ worker of `queue` running each job by its name's processor, logging what each job became.
 * Every processor is safe to run again, so a job whose worker died (stalled) is given back up to
 * three times rather than BullMQ's one; reminders, reports, exports and imports whose job was lost
 * are queued again anyway.
 */
export function startWorker(
  queue: string,
  processors: Record<string, (job: Job) => Promise<unknown>>,
  options: {
    connection: Redis;
    concurrency: number;
    jobLockMs: number;
    prefix: string | undefined;
    logger: Logger;
  },
): Worker {
  const { logger, jobLockMs } = options;
  const worker = new Worker(
    queue,
    async (job, token) => {
      const processor = processors[job.name];
      if (!processor) throw new Error(`no processor for job ${job.name} on queue ${queue}`);
      try {
        return await processor(job);
      } catch (error) {
        // The database away (a restart, a failover), or another run holding the work: the job runs
        // again later without spending one of its attempts, so that it never fails for good for that.
        const laterMs =
          error instanceof RetryLater
            ? error.delayMs
            : isDatabaseUnavailable(error)
              ? DATABASE_RETRY_MS
              : undefined;
        if (laterMs === undefined || token === undefined) throw error;
        logger.warn(
          {
            queue,
            job: job.name,
            job_id: job.id,
            request_id: requestIdOf(job),
            retry_in_ms: laterMs,
            err: { message: (error as Error).message },
          },
          'job put off',
        );
        await job.moveToDelayed(Date.now() + laterMs, token);
        throw new DelayedError();
      }
    },
    {
      connection: options.connection,
      concurrency: options.concurrency,
      lockDuration: jobLockMs,
      stalledInterval: jobLockMs,
      maxStalledCount: 3,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    },
  );
  worker.on('completed', (job, result) =>
    logger.info(
      { queue, job: job.name, job_id: job.id, request_id: requestIdOf(job), result },
      'job done',
    ),
  );
  worker.on('failed', (job, error) =>
    logger.error(
      {
        queue,
        job: job?.name,
        job_id: job?.id,
        request_id: requestIdOf(job),
        attempt: job?.attemptsMade,
        err: error,
      },
      'job failed',
    ),
  );
  worker.on('error', () => undefined);
  return worker;
}
