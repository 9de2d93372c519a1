import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Every metric of ours starts with it (prom-client's process and Node.js metrics keep their usual names). */
export const PREFIX = 'solidarity_loans_';

/**
 * What this process did since it started: counters and histograms incremented where the work
 * happens, and prom-client's process metrics. One per process, so that the API running the workers
 * in its own process (PGlite) shows both on its one endpoint. The gauges read at scrape time are
 * each metrics server's own (collectors.ts).
 */
export const activity = new Registry();
collectDefaultMetrics({ register: activity });

export const httpRequests = new Counter({
  name: `${PREFIX}http_requests_total`,
  help: 'HTTP requests answered, by route template ("unmatched" when no route took them), method and status code',
  labelNames: ['route', 'method', 'status_code'] as const,
  registers: [activity],
});

export const httpDuration = new Histogram({
  name: `${PREFIX}http_request_duration_seconds`,
  help: "Time from a request's arrival to the end of its answer, by route template, method and status code",
  labelNames: ['route', 'method', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [activity],
});

const reminderChannels = new Counter({
  name: `${PREFIX}reminder_channel_deliveries_total`,
  help: 'Attempts to hand a reminder to one channel, by channel (webhook, email) and outcome (sent, failed)',
  labelNames: ['channel', 'outcome'] as const,
  registers: [activity],
});

const reminderJobs = new Counter({
  name: `${PREFIX}reminder_deliveries_total`,
  help: 'Reminder delivery jobs that ended, by outcome (sent, skipped, failed: given up, no_channel, done_already)',
  labelNames: ['outcome'] as const,
  registers: [activity],
});

const webhookDeliveries = new Counter({
  name: `${PREFIX}webhook_deliveries_total`,
  help: 'Attempts to deliver an event to a webhook endpoint, by outcome (delivered, failed, disabled: failed and the endpoint disabled)',
  labelNames: ['outcome'] as const,
  registers: [activity],
});

const reports = new Counter({
  name: `${PREFIX}reports_computed_total`,
  help: 'Report computations that ended, by outcome (done, done_already, failed: given up, error: thrown, to be retried)',
  labelNames: ['outcome'] as const,
  registers: [activity],
});

const reportDuration = new Histogram({
  name: `${PREFIX}report_computation_duration_seconds`,
  help: 'Time taken by one report computation, whatever its outcome',
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [activity],
});

/** Outcomes become label values written the Prometheus way ("no channel" → "no_channel"). */
const label = (outcome: string) => outcome.replaceAll(' ', '_');

export function recordReminderChannel(
  channel: 'webhook' | 'email',
  outcome: 'sent' | 'failed',
): void {
  reminderChannels.inc({ channel, outcome });
}

export function recordReminderDelivery(outcome: string): void {
  reminderJobs.inc({ outcome: label(outcome) });
}

export function recordWebhookDelivery(outcome: 'delivered' | 'failed' | 'disabled'): void {
  webhookDeliveries.inc({ outcome });
}

/** Times one report computation and counts its outcome ("error" when it throws, to be retried). */
export async function timeReportComputation<T extends string>(
  compute: () => Promise<T>,
): Promise<T> {
  const stop = reportDuration.startTimer();
  try {
    const outcome = await compute();
    reports.inc({ outcome: label(outcome) });
    return outcome;
  } catch (error) {
    reports.inc({ outcome: 'error' });
    throw error;
  } finally {
    stop();
  }
}
