import { sql } from 'kysely';
import { Gauge, Registry } from 'prom-client';
import { poolStats, type Db } from '../db/connect';
import { answerWithin } from '../db/read-replica';
import { activity, PREFIX } from './registry';

/** What a scrape reads: the database (pool and outbox), and the queues where the workers run. */
export interface ScrapeSources {
  readonly db?: Db;
  /** The queues to count (BullMQ's Queue fits); empty until the workers have started. */
  readonly queues?: () => readonly QueueToCount[];
}

export interface QueueToCount {
  readonly name: string;
  getJobCounts(
    ...states: ('waiting' | 'delayed' | 'prioritized' | 'active' | 'failed')[]
  ): Promise<Record<string, number>>;
}

/** How long a scrape waits for PostgreSQL or Redis: past it, the collector says it is down and the scrape answers. */
const COLLECT_TIMEOUT_MS = 1000;

const QUEUE_STATES = ['waiting', 'delayed', 'prioritized', 'active', 'failed'] as const;

/**
 * `read` at most once at a time (a scrape while one hangs waits for that one, it does not start
 * another query), within COLLECT_TIMEOUT_MS; undefined if it failed or took longer.
 */
function timeBoxed<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let pending: Promise<T | undefined> | undefined;
  return () => {
    const current = (pending ??= read()
      .catch(() => undefined)
      .finally(() => (pending = undefined)));
    return answerWithin(() => current, COLLECT_TIMEOUT_MS);
  };
}

/**
 * The oldest unsent row by id (the identity follows creation), through the partial index
 * `outbox_unsent`; the count walks that index only, whose size is the backlog, not the table.
 */
async function readOutbox(db: Db): Promise<{ waiting: number; oldestAgeSeconds: number }> {
  const {
    rows: [row],
  } = await sql<{ waiting: string; oldest_age: string | null }>`
    SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS waiting,
      (SELECT extract(epoch FROM now() - created_at) FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1) AS oldest_age`.execute(
    db,
  );
  return {
    waiting: Number(row!.waiting),
    oldestAgeSeconds: Math.max(Number(row!.oldest_age ?? 0), 0),
  };
}

/**
 * The page a scrape answers: this process's activity (registry.ts), then the gauges read now from
 * `sources`, each source time-boxed, so that a database or Redis that does not answer costs a scrape
 * at most COLLECT_TIMEOUT_MS: its gauges are left out and its `collector_up` is 0.
 */
export function scrapePage(sources: ScrapeSources): {
  contentType: string;
  render(): Promise<string>;
} {
  // One registry per source, rendered only when that source answered: a gauge without labels cannot be left unset.
  const registries: { registry: Registry; read: () => Promise<boolean> }[] = [];
  const source = (
    read: (
      gauge: (name: string, help: string, labelNames?: string[]) => Gauge,
    ) => () => Promise<boolean>,
  ) => {
    const registry = new Registry();
    registries.push({
      registry,
      read: read(
        (name, help, labelNames = []) =>
          new Gauge({ name: `${PREFIX}${name}`, help, labelNames, registers: [registry] }),
      ),
    });
  };
  const status = new Registry();
  const up = new Gauge({
    name: `${PREFIX}collector_up`,
    help: '1 if the collector read its source (outbox: PostgreSQL; queues: Redis) at this scrape, else 0 and its gauges absent',
    labelNames: ['collector'] as const,
    registers: [status],
  });
  const { db, queues } = sources;
  if (db) {
    source((gauge) => {
      const inUse = gauge(
        'db_pool_connections_in_use',
        'PostgreSQL connections of the pool running a query or a transaction',
      );
      const idle = gauge(
        'db_pool_connections_idle',
        'PostgreSQL connections of the pool open and idle',
      );
      const waiting = gauge(
        'db_pool_requests_waiting',
        'Queries waiting for a connection of the pool',
      );
      const max = gauge('db_pool_connections_max', "The pool's size");
      return async () => {
        const stats = poolStats(db); // PGlite: no pool, no figures
        if (!stats) return false;
        inUse.set(stats.total - stats.idle);
        idle.set(stats.idle);
        waiting.set(stats.waiting);
        max.set(stats.max);
        return true;
      };
    });
    source((gauge) => {
      const waiting = gauge('outbox_waiting_jobs', 'Outbox rows not yet handed to their queue');
      const oldest = gauge(
        'outbox_oldest_age_seconds',
        'Age of the oldest outbox row not yet handed to its queue (0 when none waits)',
      );
      const readNow = timeBoxed(() => readOutbox(db));
      return async () => {
        const read = await readNow();
        up.set({ collector: 'outbox' }, read ? 1 : 0);
        if (!read) return false;
        waiting.set(read.waiting);
        oldest.set(read.oldestAgeSeconds);
        return true;
      };
    });
  }
  if (queues) {
    source((gauge) => {
      const jobs = gauge(
        'queue_jobs',
        'BullMQ jobs by queue and state (waiting, delayed, prioritized, active, failed)',
        ['queue', 'state'],
      );
      const countNow = timeBoxed(() =>
        Promise.all(
          queues().map(async (queue) => ({
            name: queue.name,
            counts: await queue.getJobCounts(...QUEUE_STATES),
          })),
        ),
      );
      return async () => {
        const read = await countNow();
        up.set({ collector: 'queues' }, read ? 1 : 0);
        if (!read) return false;
        jobs.reset();
        for (const { name, counts } of read) {
          for (const state of QUEUE_STATES) jobs.set({ queue: name, state }, counts[state] ?? 0);
        }
        return true;
      };
    });
  }
  return {
    contentType: status.contentType,
    render: async () => {
      const answered = await Promise.all(registries.map(({ read }) => read()));
      const pages = [
        activity,
        status,
        ...registries.filter((_, k) => answered[k]).map(({ registry }) => registry),
      ];
      return (await Promise.all(pages.map((registry) => registry.metrics()))).join('\n');
    },
  };
}
