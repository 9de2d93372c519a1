import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp, type AppDeps } from '../../src/app';
import { hashSecret } from '../../src/http/auth';
import { DEFAULT_RATE_LIMITS } from '../../src/http/rate-limit';
import { expectContract } from './contract';
import { testDb } from './db';

export const ADMIN_KEY = 'test-admin-key-not-a-secret-0123456789';

/**
 * Every test calls from 127.0.0.1, and some make hundreds of failed authentications or previews: the
 * limits are out of their reach here (test/integration/rate-limits.test.ts tests the limits).
 */
export const LIMITS_OUT_OF_REACH = {
  ...DEFAULT_RATE_LIMITS,
  authFailuresPerAddress: 1e6,
  authFailuresPerKeyPrefix: 1e6,
  previewRequestsPerAddress: 1e6,
};

/** Webhooks go to receivers on 127.0.0.1 over plain http here (test/integration/outbound-*.test.ts test the strict policy). */
export const LOCAL_RECEIVERS = { allowInsecure: true } as const;

/** The real app, as main.ts builds it, on the test database, with logs silenced; `deps` overrides (an outbound policy, say). */
export async function testApp(deps: Partial<AppDeps> = {}): Promise<Express> {
  return createApp({
    logger: pino({ level: 'silent' }),
    db: await testDb(),
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
    outbound: LOCAL_RECEIVERS,
    ...deps,
  });
}

/** POSTs JSON and checks that the response is one that openapi.yaml documents. */
export async function postJson(
  app: Express,
  path: string,
  body: unknown,
  pathTemplate = path,
  key?: string,
) {
  let call = request(app).post(path).set('Content-Type', 'application/json');
  if (key) call = call.set('Authorization', `Bearer ${key}`);
  const res = await call.send(JSON.stringify(body));
  expectContract(res, 'post', pathTemplate);
  return res;
}
