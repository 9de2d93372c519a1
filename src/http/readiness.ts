import type { RequestHandler } from 'express';
import { sql } from 'kysely';
import type { Db } from '../db/connect';

const PROBE_TIMEOUT_MS = 1000;

/** The check's answer, or undefined if it failed or took longer than a second. */
async function probe<T>(check: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), PROBE_TIMEOUT_MS)));
  const answer = check().catch(() => undefined);
  try {
    return await Promise.race([answer, timeout]);
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
    // One query tells both that PostgreSQL answers and how many outbox rows wait for Redis.
    const [waitingRows, pong] = await Promise.all([
      probe(() => sql<{ waiting: number }>`SELECT count(*)::int AS waiting FROM outbox WHERE sent_at IS NULL`.execute(db)),
      redis ? probe(() => redis.ping()) : Promise.resolve(undefined),
    ]);
    const postgres = waitingRows ? 'up' : 'down';
    const waiting = waitingRows?.rows[0]?.waiting ?? null;
    const redisState = !redis ? 'not_configured' : pong === 'PONG' ? 'up' : 'down';
    const status = postgres === 'down' ? 'unavailable' : redisState === 'up' ? 'ready' : 'degraded';
    res.status(postgres === 'up' ? 200 : 503).json({ status, postgres, redis: redisState, outbox_waiting: waiting });
  };
}
