import type { Logger } from 'pino';
import type { Db } from '../src/db/connect';
import { claimDeliveries } from '../src/webhooks/webhook-deliveries.repository';
import { deliverWebhook, type WebhookDelivery } from '../src/webhooks/deliver-webhook';

/**
 * Keeps up to `settings.concurrency` webhook deliveries under way: claims what may go as slots free
 * up, polls every `intervalMs` when nothing is due. A claim is held for longer than an attempt can
 * last; a dispatcher that dies holding one gives it back when the hold ends (at least once). While
 * the database is away it logs once and keeps polling. `stop` waits for the deliveries under way.
 */
export function startWebhookDispatcher(options: { db: Db; settings: WebhookDelivery; logger: Logger; intervalMs?: number }): { stop(): Promise<void> } {
  const { db, settings, logger } = options;
  const intervalMs = options.intervalMs ?? 250;
  const leaseMs = settings.timeoutMs + 30_000;
  const underWay = new Set<Promise<unknown>>();
  let stopped = false;
  let claiming = false;
  let again = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;

  const fill = async (): Promise<void> => {
    if (stopped) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = true;
    clearTimeout(timer);
    let claimed = 0;
    try {
      const free = settings.concurrency - underWay.size;
      if (free > 0) {
        const deliveries = await claimDeliveries(db, free, settings.perEndpoint, leaseMs);
        claimed = deliveries.length;
        for (const delivery of deliveries) {
          const work = deliverWebhook(db, delivery, settings, logger)
            .catch((error: unknown) => logger.warn({ err: error, delivery_id: delivery.id }, 'webhook dispatcher: an outcome was not recorded; the delivery goes again when its hold ends'))
            .finally(() => {
              underWay.delete(work);
              void fill();
            });
          underWay.add(work);
        }
      }
      if (failing) logger.info('webhook dispatcher: the database answers again');
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, 'webhook dispatcher: a claim failed (PostgreSQL unreachable?); deliveries wait and claims go on');
      failing = true;
    } finally {
      claiming = false;
    }
    if (stopped) return;
    if (again || (claimed > 0 && underWay.size < settings.concurrency)) {
      again = false;
      setImmediate(() => void fill());
    } else {
      timer = setTimeout(() => void fill(), intervalMs);
    }
  };
  void fill();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      while (claiming) await new Promise((resolve) => setTimeout(resolve, 10));
      await Promise.all(underWay);
    },
  };
}
