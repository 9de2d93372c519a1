import { Queue, type Job, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createTransport } from 'nodemailer';
import type { ReminderDelivery } from '../src/config';
import type { Db } from '../src/db/connect';
import { DELIVER_REMINDER, deliverReminderJob } from '../src/reminders/deliver-reminder.job';
import { computeReportJob } from '../src/reports/compute-report.job';
import {
  MONTHLY_REPORTS,
  MONTHLY_REPORTS_SCHEDULE,
  monthlyReportsJob,
} from '../src/reports/monthly-reports.job';
import {
  REQUEUE_STALLED_REPORTS,
  REQUEUE_STALLED_REPORTS_SCHEDULE,
  requeueStalledReportsJob,
} from '../src/reports/requeue-stalled-reports.job';
import {
  REQUEUE_STALLED_EXPORTS,
  REQUEUE_STALLED_EXPORTS_SCHEDULE,
  requeueStalledExportsJob,
} from '../src/exports/requeue-stalled-exports.job';
import { COMPUTE_REPORT } from '../src/reports/reports.repository';
import { buildExportJob } from '../src/exports/build-export.job';
import { BUILD_EXPORT } from '../src/exports/exports.repository';
import { commitImportJob } from '../src/imports/commit-import.job';
import { COMMIT_IMPORT } from '../src/imports/imports.repository';
import {
  REQUEUE_STALLED_IMPORTS,
  REQUEUE_STALLED_IMPORTS_SCHEDULE,
  requeueStalledImportsJob,
} from '../src/imports/requeue-stalled-imports.job';
import {
  PURGE_EXPIRED_KEYS,
  PURGE_EXPIRED_KEYS_SCHEDULE,
  purgeExpiredKeysJob,
} from '../src/idempotency/purge-expired-keys.job';
import {
  SCAN_REMINDERS,
  SCAN_REMINDERS_SCHEDULE,
  scanRemindersJob,
} from '../src/reminders/scan-reminders.job';
import {
  assertNoEviction,
  connectRedisForProducers,
  connectRedisForWorkers,
  openQueues,
  QUEUE_NAMES,
} from '../src/queues/redis';
import { todayInParis } from '../src/http/clock';
import { STRICT_OUTBOUND, type OutboundPolicy } from '../src/http/outbound';
import { startRelay } from './relay';
import { startWebhookDispatcher } from './webhooks';
import { startWorker } from './worker';
import type { WebhookDelivery } from '../src/webhooks/deliver-webhook';

/** Jobs of the house itself, on schedules of their own (not asked for by changes, so not in the outbox). */
export const MAINTENANCE_QUEUE = 'maintenance';

/** The maintenance queue's job schedulers, by job name (cron patterns in Europe/Paris). */
const SCHEDULES = [
  [PURGE_EXPIRED_KEYS, PURGE_EXPIRED_KEYS_SCHEDULE],
  [SCAN_REMINDERS, SCAN_REMINDERS_SCHEDULE],
  [MONTHLY_REPORTS, MONTHLY_REPORTS_SCHEDULE],
  [REQUEUE_STALLED_REPORTS, REQUEUE_STALLED_REPORTS_SCHEDULE],
  [REQUEUE_STALLED_EXPORTS, REQUEUE_STALLED_EXPORTS_SCHEDULE],
  [REQUEUE_STALLED_IMPORTS, REQUEUE_STALLED_IMPORTS_SCHEDULE],
] as const;

const CLOSE_TIMEOUT_MS = 10_000;

async function withinTime(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

/**
 * A job handed to Redis is the outbox's no longer (its row is stamped sent): a Redis that keeps
 * nothing on disk loses the jobs waiting in it when it restarts. Said once at start, not refused.
 */
async function warnIfNotPersistent(redis: Redis, logger: Logger): Promise<void> {
  const info = await redis.info('persistence');
  if (/^aof_enabled:0/m.test(info)) {
    logger.warn(
      'Redis keeps no append-only file: jobs waiting in it are lost if it restarts (set appendonly yes)',
    );
  }
}

/** The SMTP transport of the reminders, if configured. */
function mailerOf(reminders: ReminderDelivery) {
  if (!reminders.smtpUrl) return undefined;
  // Bounded like a webhook: a silent SMTP server must not hold the delivery slots (nodemailer waits minutes by default).
  const timeouts = {
    connectionTimeout: reminders.webhookTimeoutMs,
    greetingTimeout: reminders.webhookTimeoutMs,
    socketTimeout: reminders.webhookTimeoutMs,
  };
  return {
    transport: createTransport({ url: reminders.smtpUrl, ...timeouts }),
    from: reminders.mailFrom,
  };
}

export interface Workers {
  /** Stops taking work, lets the work under way finish, and closes the connections. */
  close(): Promise<void>;
  /** The queues these workers serve, for the metrics to count their jobs. */
  readonly queues: readonly Queue[];
}

/**
 * The background side of the service, on `db` and the Redis at `redisUrl`: the outbox relay, which
 * moves the work that changes ask for into BullMQ queues; the processors of the reminders queue
 * (delivery) and of the reports queue; and those of the maintenance queue with its job schedulers
 * (the nightly purge of expired Idempotency-Keys, the morning scan that makes the reminders due, the
 * monthly reports). Refuses a Redis that may evict keys (it would lose jobs).
 */
export async function startWorkers(options: {
  db: Db;
  /** Where the reports' indicators and the exports' snapshot are read, the read replica if any (docs/read-replica.md); `db` unless given. */
  reads?: Db;
  redisUrl: string;
  logger: Logger;
  reminders: ReminderDelivery;
  queuePrefix?: string;
  relayIntervalMs?: number;
  jobLockMs?: number;
  /** false: no outbox relay (tests that share a database with other tests' outbox rows) */
  relay?: boolean;
  /** Without it, no webhook dispatcher runs here. */
  webhooks?: WebhookDelivery;
  /** Where reminder webhooks may go (STRICT_OUTBOUND unless given). */
  outbound?: OutboundPolicy;
}): Promise<Workers> {
  const { db, redisUrl, logger } = options;
  const prefix = options.queuePrefix ? { prefix: options.queuePrefix } : {};
  let closing = false;
  const { redis, ready } = connectRedisForProducers(redisUrl, () => closing);
  const workerRedis = connectRedisForWorkers(redisUrl, () => closing);
  workerRedis.on('error', () => undefined); // the worker reconnects; its jobs wait in Redis
  const { reminders, jobLockMs = 30_000 } = options;
  const queues = openQueues(redis, {
    prefix: options.queuePrefix,
    jobOptions: {
      reminders: {
        attempts: reminders.attempts,
        backoff: { type: 'exponential', delay: reminders.backoffMs },
      },
      reports: { attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
      exports: { attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
      imports: { attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
    },
  });
  const mailer = mailerOf(reminders);
  const maintenance = new Queue(MAINTENANCE_QUEUE, {
    connection: redis,
    ...prefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 60_000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  }).on('error', () => undefined);
  const running: Worker[] = []; // set once started; close() may come before
  let relay: { stop(): Promise<void> } = { stop: async () => undefined };
  let dispatcher: { stop(): Promise<void> } = { stop: async () => undefined };

  const close = async () => {
    closing = true; // from now on a lost connection ends instead of reconnecting
    await Promise.all([relay.stop(), dispatcher.stop()]);
    // BullMQ waits for the jobs under way, and for its connections to end: while Redis is down they
    // end at their next reconnection attempt (see `closing`); CLOSE_TIMEOUT_MS bounds it all.
    await withinTime(
      Promise.all(running.map((worker) => worker.close(workerRedis.status !== 'ready'))),
      CLOSE_TIMEOUT_MS,
    );
    await withinTime(Promise.all([queues.close(), maintenance.close()]), CLOSE_TIMEOUT_MS);
    workerRedis.disconnect();
    redis.disconnect();
    mailer?.transport.close();
  };

  try {
    await ready;
    await assertNoEviction(redis);
    await warnIfNotPersistent(redis, logger);
    for (const [name, schedule] of SCHEDULES)
      await maintenance.upsertJobScheduler(name, schedule, { name });
  } catch (error) {
    await close();
    throw error;
  }

  const work = (
    queue: string,
    concurrency: number,
    processors: Record<string, (job: Job) => Promise<unknown>>,
  ) =>
    running.push(
      startWorker(queue, processors, {
        connection: workerRedis,
        concurrency,
        jobLockMs,
        prefix: options.queuePrefix,
        logger,
      }),
    );
  work(MAINTENANCE_QUEUE, 1, {
    [PURGE_EXPIRED_KEYS]: purgeExpiredKeysJob(db),
    [SCAN_REMINDERS]: scanRemindersJob(db),
    [MONTHLY_REPORTS]: monthlyReportsJob(db),
    [REQUEUE_STALLED_REPORTS]: requeueStalledReportsJob(db),
    [REQUEUE_STALLED_EXPORTS]: requeueStalledExportsJob(db),
    [REQUEUE_STALLED_IMPORTS]: requeueStalledImportsJob(db),
  });
  const delivery = {
    db,
    mailer,
    timeoutMs: reminders.webhookTimeoutMs,
    outbound: options.outbound ?? STRICT_OUTBOUND,
    now: () => new Date(),
    today: () => todayInParis(),
  };
  work('reminders', 8, { [DELIVER_REMINDER]: deliverReminderJob(delivery, reminders.attempts) });
  work('reports', 1, { [COMPUTE_REPORT]: computeReportJob(db, options.reads) }); // one at a time: each reads the whole fund
  work('exports', 1, { [BUILD_EXPORT]: buildExportJob(db, options.reads) }); // one at a time: each reads the whole fund, and streams
  work('imports', 1, { [COMMIT_IMPORT]: commitImportJob(db) }); // one at a time: each writes a whole portfolio in one transaction

  if (options.relay !== false)
    relay = startRelay({ db, queues: queues.sink, logger, intervalMs: options.relayIntervalMs });
  if (options.webhooks)
    dispatcher = startWebhookDispatcher({ db, settings: options.webhooks, logger });
  logger.info({ queues: [...QUEUE_NAMES, MAINTENANCE_QUEUE] }, 'workers started');
  return { close, queues: [...QUEUE_NAMES.map((name) => queues.get(name)), maintenance] };
}
