import type { Logger } from 'pino';
import type { Db } from '../src/db/connect';
import type { QueueName } from '../src/queues/redis';
import { relayOutbox, type JobSink } from '../src/outbox/relay-outbox';

/**
 * Relays the outbox every `intervalMs` (at once again while rows remain). While Redis refuses, it
 * logs the outage once, keeps trying, and logs when rows flow again. `stop` waits for the pass
 * under way.
 */
export function startRelay(options: {
  db: Db;
  queues: (name: QueueName) => JobSink;
  logger: Logger;
  intervalMs?: number;
}): { stop(): Promise<void> } {
  const { db, queues, logger } = options;
  const intervalMs = options.intervalMs ?? 500;
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();

  const runPass = async () => {
    let relayed = 0;
    try {
      relayed = await relayOutbox(db, queues);
      if (failing && relayed > 0) logger.info({ relayed }, 'outbox relay: rows flow again');
      if (relayed > 0) failing = false;
    } catch (error) {
      if (!failing)
        logger.warn(
          { err: error },
          'outbox relay: a pass failed (Redis or PostgreSQL unreachable?); rows wait in the outbox and passes go on',
        );
      failing = true;
    }
    if (!stopped) timer = setTimeout(() => (pass = runPass()), relayed > 0 ? 0 : intervalMs);
  };
  pass = runPass();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
