import type { RequestHandler } from 'express';
import { sql } from 'kysely';
import type { Db } from '../db/connect';
import { answerWithin, type ReadReplica } from '../db/read-replica';

/**
 * GET /readyz: PostgreSQL, its read replica (if READ_DATABASE_URL) and Redis, each up or down, and
 * the outbox rows waiting for Redis. Ready to serve (200) while the primary answers, even without
 * Redis (changes then wait in the outbox) or the replica (its reads go to the primary): "degraded";
 * 503 when the primary does not answer.
 */
export function readinessHandler(
  db: Db,
  redis: { ping(): Promise<string> } | undefined,
  replica?: ReadReplica,
): RequestHandler {
  return async (_req, res) => {
    // One query tells both that PostgreSQL answers and how many outbox rows wait for Redis.
    const [waitingRows, pong] = await Promise.all([
      answerWithin(() =>
        sql<{
          waiting: number;
        }>`SELECT count(*)::int AS waiting FROM outbox WHERE sent_at IS NULL`.execute(db),
      ),
      redis ? answerWithin(() => redis.ping()) : Promise.resolve(undefined),
    ]);
    const postgres = waitingRows ? 'up' : 'down';
    const waiting = waitingRows?.rows[0]?.waiting ?? null;
    const redisState = !redis ? 'not_configured' : pong === 'PONG' ? 'up' : 'down';
    const replicaState = replica?.state(); // the last probe's, which is what routes the reads
    const status =
      postgres === 'down'
        ? 'unavailable'
        : redisState === 'up' && (!replica || replicaState === 'up')
          ? 'ready'
          : 'degraded';
    res.status(postgres === 'up' ? 200 : 503).json({
      status,
      postgres,
      redis: redisState,
      ...(replica && { replica: replicaState }),
      outbox_waiting: waiting,
    });
  };
}
