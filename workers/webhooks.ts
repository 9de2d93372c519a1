import type { Logger } from 'pino';
import type { Db } from '../src/db/connect';
import {
  abandonDeliveriesOfClosedEndpoints,
  claimDeliveries,
  recordDelivered,
  releaseOrphanedWaits,
  type ClaimedDelivery,
} from '../src/webhooks/webhook-deliveries.repository';
import { deliverWebhook, type Taken, type WebhookDelivery } from '../src/webhooks/deliver-webhook';
import { recordWebhookDelivery } from '../src/metrics/registry';

/** How often the deliveries left waiting behind nothing are let go, and those of closed endpoints given up. */
const SWEEP_EVERY_MS = 2000;
/** Deliveries claimed ahead, per delivery slot: the next one starts as a slot frees, without waiting for a claim. */
const CLAIM_AHEAD = 2;

/**
 * Keeps up to `settings.concurrency` webhook deliveries under way (`perEndpoint` to one endpoint),
 * with as many again claimed ahead, so that a freed slot starts the next delivery at once; claims
 * more as they run low, and polls every `intervalMs` when nothing is due. A claim is held for longer
 * than an attempt can last: a dispatcher that dies holding some gives them back when the hold ends
 * (at least once). While the database is away it logs once and keeps polling. `stop` waits for the
 * deliveries under way; those claimed ahead go back when their hold ends.
 */
export function startWebhookDispatcher(options: {
  db: Db;
  settings: WebhookDelivery;
  logger: Logger;
  intervalMs?: number;
}): { stop(): Promise<void> } {
  const { db, settings, logger } = options;
  const intervalMs = options.intervalMs ?? 250;
  const leaseMs = settings.timeoutMs + 30_000;
  const ahead = new Map<string, { delivery: ClaimedDelivery; claimedAt: number }[]>(); // claimed, not started, by endpoint
  // A delivery claimed ahead starts only while its hold outlasts an attempt; later, it is left to a next claim.
  const startableForMs = leaseMs - settings.timeoutMs - 5_000;
  const running = new Map<string, number>(); // started, by endpoint
  const underWay = new Set<Promise<unknown>>();
  let claimedAhead = 0;
  let posting = 0;
  let stopped = false;
  let claiming = false;
  let again = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let releasedAt = 0;

  const recordTaken = takenRecorder(db);

  // An endpoint's slot is free once it answered; recording the outcome goes on beside the next request.
  const start = (delivery: ClaimedDelivery) => {
    running.set(delivery.endpoint_id, (running.get(delivery.endpoint_id) ?? 0) + 1);
    posting += 1;
    let answered = false;
    const free = () => {
      if (answered) return;
      answered = true;
      posting -= 1;
      running.set(delivery.endpoint_id, running.get(delivery.endpoint_id)! - 1);
      pump();
    };
    const work = deliverWebhook(db, delivery, settings, logger, free, recordTaken)
      .then((outcome) => {
        recordWebhookDelivery(outcome);
        if (outcome !== 'disabled') return;
        claimedAhead -= ahead.get(delivery.endpoint_id)?.length ?? 0; // given up with the endpoint
        ahead.delete(delivery.endpoint_id);
      })
      .catch((error: unknown) =>
        logger.warn(
          { err: error, delivery_id: delivery.id },
          'webhook dispatcher: an outcome was not recorded; the delivery goes again when its hold ends',
        ),
      )
      .finally(() => {
        free();
        underWay.delete(work);
        pump();
        if (claimedAhead < settings.concurrency) void fill();
      });
    underWay.add(work);
  };

  /** Starts what was claimed ahead, as the slots allow. */
  const pump = () => {
    if (stopped) return;
    for (const [endpoint, queue] of ahead) {
      // Requests under way within `concurrency`, and outcomes still to record within as many again.
      while (
        queue.length > 0 &&
        posting < settings.concurrency &&
        underWay.size < 2 * settings.concurrency &&
        (running.get(endpoint) ?? 0) < settings.perEndpoint
      ) {
        claimedAhead -= 1;
        const { delivery, claimedAt } = queue.shift()!;
        if (Date.now() - claimedAt < startableForMs) start(delivery);
      }
    }
  };

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
      if (Date.now() - releasedAt >= SWEEP_EVERY_MS) {
        releasedAt = Date.now();
        await releaseOrphanedWaits(db);
        await abandonDeliveriesOfClosedEndpoints(db);
      }
      const room = CLAIM_AHEAD * settings.concurrency - underWay.size - claimedAhead;
      if (room > 0) {
        // An endpoint with a slot's worth in hand gets no more: what is in hand must start within its hold.
        const inHand = [...ahead]
          .filter(([, queue]) => queue.length >= settings.perEndpoint)
          .map(([endpoint]) => endpoint);
        const deliveries = await claimDeliveries(
          db,
          room,
          CLAIM_AHEAD * settings.perEndpoint,
          leaseMs,
          inHand,
        );
        claimed = deliveries.length;
        const claimedAt = Date.now();
        for (const delivery of deliveries) {
          if (!ahead.has(delivery.endpoint_id)) ahead.set(delivery.endpoint_id, []);
          ahead.get(delivery.endpoint_id)!.push({ delivery, claimedAt });
        }
        claimedAhead += claimed;
        pump();
      }
      if (failing) logger.info('webhook dispatcher: the database answers again');
      failing = false;
    } catch (error) {
      if (!failing)
        logger.warn(
          { err: error },
          'webhook dispatcher: a claim failed (PostgreSQL unreachable?); deliveries wait and claims go on',
        );
      failing = true;
    } finally {
      claiming = false;
    }
    if (stopped) return;
    if (again || (claimed > 0 && claimedAhead < settings.concurrency)) {
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

/** Records deliveries taken together: those that come while a statement runs go in the next. */
function takenRecorder(db: Db): (taken: Taken) => Promise<void> {
  const toRecord: { taken: Taken; recorded: () => void; failed: (error: unknown) => void }[] = [];
  let recording = false;
  const recordSoon = async () => {
    if (recording || toRecord.length === 0) return;
    recording = true;
    const batch = toRecord.splice(0, 500);
    try {
      await recordDelivered(
        db,
        batch.map((item) => item.taken),
      );
      for (const item of batch) item.recorded();
    } catch (error) {
      for (const item of batch) item.failed(error);
    } finally {
      recording = false;
      void recordSoon();
    }
  };
  return (taken) =>
    new Promise<void>((recorded, failed) => {
      toRecord.push({ taken, recorded, failed });
      void recordSoon();
    });
}
