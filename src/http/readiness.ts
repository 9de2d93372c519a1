import type { RequestHandler } from 'express';
import { sql } from 'kysely';
import type { Db } from '../db/connect';

const PROBE_TIMEOUT_MS = 1000;

async function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS)));
  try {
    await Promise.race([check(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /readyz: PostgreSQL and Redis, each up or down, and the outbox rows waiting for Redis. Ready
 * to serve (200) while PostgreSQL answers, even without Redis: changes then wait in the outbox
 * ("degraded"); 503 when PostgreSQL does not answer.
 */
export function readinessHandler(db: Db, redis: { ping(): Promise<string> } | undefined): RequestHandler {
  return async (_req, res) => {
    const [postgres, redisState] = await Promise.all([
      probe(() => sql`SELECT 1`.execute(db)),
      redis ? probe(() => redis.ping()) : Promise.resolve('not_configured' as const),
    ]);
    let waiting: number | null = null;
    if (postgres === 'up') {
      const { rows } = await sql<{ waiting: number }>`SELECT count(*)::int AS waiting FROM outbox WHERE sent_at IS NULL`.execute(db);
      waiting = rows[0]!.waiting;
    }
    const status = postgres === 'down' ? 'unavailable' : redisState === 'up' ? 'ready' : 'degraded';
    res.status(postgres === 'up' ? 200 : 503).json({ status, postgres, redis: redisState, outbox_waiting: waiting });
  };
}
