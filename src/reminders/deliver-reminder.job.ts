import type { Job } from 'bullmq';
import { recordReminderDelivery } from '../metrics/registry';
import { deliverReminder, type DeliveryDeps, type DeliveryOutcome } from './deliver-reminder';

export { DELIVER_REMINDER } from './reminders.repository';

/** The BullMQ processor: one attempt; the job's own attempts and backoff make the retries. */
export function deliverReminderJob(deps: DeliveryDeps, attempts: number) {
  return async (job: Job<{ reminder_id: string }>): Promise<{ outcome: DeliveryOutcome }> => {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? attempts);
    const outcome = await deliverReminder(deps, job.data.reminder_id, isLastAttempt);
    recordReminderDelivery(outcome);
    return { outcome };
  };
}
