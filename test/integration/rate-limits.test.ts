import { randomBytes, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import pino from 'pino';
import request, { type Response } from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { hashSecret } from '../../src/http/auth';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from '../../src/http/rate-limit';
import { connectRedisForProducers } from '../../src/queues/redis';
import { ADMIN_KEY } from '../support/app';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import { fundWithManager } from '../support/portfolio';

const shared = connectRedisForProducers('redis://127.0.0.1:6379');
beforeAll(() => shared.ready); // until then the limiters would count in memory
afterAll(() => shared.redis.disconnect());

/** Small limits and windows; counters under a Redis prefix of this run's own, so that parallel runs never meet. */
const limits = (overrides: Partial<RateLimitSettings>): RateLimitSettings => ({
  ...DEFAULT_RATE_LIMITS,
  redisKeyPrefix: `test-rate-limit:${randomUUID()}`,
  ...overrides,
});

/**
 * The app behind a trusted local proxy: X-Forwarded-For says which client is calling. One successful
 * call first (it counts for nothing) makes the validator read openapi.yaml and the pool connect, so
 * that the short windows hold the requests of a test, not that start-up.
 */
async function appWith(rateLimits: RateLimitSettings, redis?: Redis): Promise<Express> {
  const app = createApp({
    logger: pino({ level: 'silent' }),
    db: await testDb(),
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits,
    redis,
    trustProxy: 'loopback',
  });
  expect((await listFunds(app, '192.0.2.250', `Bearer ${ADMIN_KEY}`)).status).toBe(200);
  return app;
}

/** A key nobody issued, shaped like ours: "sk_", 4 characters naming its family, then the rest. */
const wrongKey = (family = randomBytes(3).toString('base64url')) =>
  `sk_${family}${randomBytes(29).toString('base64url')}`;

function listFunds(app: Express, from: string, authorization?: string): Promise<Response> {
  const call = request(app).get('/v1/funds?limit=1').set('X-Forwarded-For', from);
  return authorization === undefined ? call : call.set('Authorization', authorization);
}

const pause = (seconds: number) =>
  new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100));

/** A 429 problem, in the contract, with Retry-After and the RateLimit fields naming `policy`. */
function expectRefused(
  res: Response,
  policy: string,
  quota: number,
  window: number,
  method = 'get',
  path = '/v1/funds',
): number {
  expect(res.status).toBe(429);
  expectContract(res, method, path);
  expect(res.body).toMatchObject({ type: '/problems/too-many-requests', status: 429 });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(window);
  expect(res.headers['ratelimit-policy']).toBe(`"${policy}";q=${quota};w=${window}`);
  expect(res.headers.ratelimit).toBe(`"${policy}";r=0;t=${retryAfter}`);
  return retryAfter;
}

describe('failed authentications, per client address', () => {
  it('after 3 failures the address gets 429 for its failures until the window ends; its valid keys are still served', async () => {
    const app = await appWith(limits({ authFailuresPerAddress: 3, authFailureWindowSeconds: 3 }));
    const from = '203.0.113.7';
    // No header, a malformed one and a wrong key: all three count on the address.
    const failures = [
      await listFunds(app, from),
      await listFunds(app, from, 'Basic dXNlcjpwYXNz'),
      await listFunds(app, from, `Bearer ${wrongKey()}`),
    ];
    expect(failures.map((res) => res.status)).toEqual([401, 401, 401]);
    expect(failures.map((res) => res.headers.ratelimit)).toEqual([
      expect.stringMatching(/^"auth-failures-per-address";r=2;t=[123]$/),
      expect.stringMatching(/^"auth-failures-per-address";r=1;t=[123]$/),
      expect.stringMatching(
        /^"auth-failures-per-address";r=0;t=[123], "auth-failures-per-key-prefix";r=49;t=[123]$/,
      ),
    ]);
    expect(failures[2]!.headers['ratelimit-policy']).toBe(
      '"auth-failures-per-address";q=3;w=3, "auth-failures-per-key-prefix";q=50;w=3',
    );

    expectRefused(
      await listFunds(app, from, `Bearer ${wrongKey()}`),
      'auth-failures-per-address',
      3,
      3,
    );
    const retryAfter = expectRefused(await listFunds(app, from), 'auth-failures-per-address', 3, 3);
    // Many clients may share the address (a proxy, an office): one stale key does not lock them out.
    expect((await listFunds(app, from, `Bearer ${ADMIN_KEY}`)).status).toBe(200);
    expect((await listFunds(app, '203.0.113.8', `Bearer ${wrongKey()}`)).status).toBe(401);

    await pause(retryAfter);
    expect((await listFunds(app, from, `Bearer ${wrongKey()}`)).status).toBe(401);
  });

  it("successes count for nothing and clear nothing: a valid key does not wipe the address's failures", async () => {
    const app = await appWith(limits({ authFailuresPerAddress: 2, authFailureWindowSeconds: 60 }));
    const from = '203.0.113.9';
    for (let i = 0; i < 5; i += 1)
      expect((await listFunds(app, from, `Bearer ${ADMIN_KEY}`)).status).toBe(200);
    expect((await listFunds(app, from, `Bearer ${wrongKey()}`)).status).toBe(401);
    expect((await listFunds(app, from, `Bearer ${ADMIN_KEY}`)).status).toBe(200);
    expect((await listFunds(app, from, `Bearer ${wrongKey()}`)).status).toBe(401);
    expectRefused(
      await listFunds(app, from, `Bearer ${wrongKey()}`),
      'auth-failures-per-address',
      2,
      60,
    );
  });

  it('counts an IPv6 client by its /64: rotating through its addresses gains nothing', async () => {
    const app = await appWith(limits({ authFailuresPerAddress: 2, authFailureWindowSeconds: 60 }));
    expect((await listFunds(app, '2001:db8:0:7::1', `Bearer ${wrongKey()}`)).status).toBe(401);
    expect((await listFunds(app, '2001:db8:0:7:ffff::2', `Bearer ${wrongKey()}`)).status).toBe(401);
    expectRefused(
      await listFunds(app, '2001:db8:0:7:1234:5678:9abc:def0', `Bearer ${wrongKey()}`),
      'auth-failures-per-address',
      2,
      60,
    );
    expect((await listFunds(app, '2001:db8:0:8::1', `Bearer ${wrongKey()}`)).status).toBe(401); // another /64
  });
});

describe('failed authentications, per key prefix', () => {
  it('wrong keys of one family from many addresses block the family, its valid key too, and no other', async () => {
    const app = await appWith(
      limits({
        authFailuresPerAddress: 100,
        authFailuresPerKeyPrefix: 3,
        authFailureWindowSeconds: 3,
      }),
    );
    const { fund, manager } = await fundWithManager(app);
    const family = manager.secret.slice(3, 7);
    for (const from of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
      expect((await listFunds(app, from, `Bearer ${wrongKey(family)}`)).status).toBe(401);

    expectRefused(
      await listFunds(app, '198.51.100.4', `Bearer ${wrongKey(family)}`),
      'auth-failures-per-key-prefix',
      3,
      3,
    );
    const retryAfter = expectRefused(
      await listFunds(app, '198.51.100.5', `Bearer ${manager.secret}`),
      'auth-failures-per-key-prefix',
      3,
      3,
    );
    const otherFamily = family === 'AAAA' ? 'BBBB' : 'AAAA';
    expect((await listFunds(app, '198.51.100.4', `Bearer ${wrongKey(otherFamily)}`)).status).toBe(
      401,
    );

    await pause(retryAfter);
    const res = await request(app)
      .get(`/v1/funds/${fund.id}`)
      .set('X-Forwarded-For', '198.51.100.5')
      .set('Authorization', `Bearer ${manager.secret}`);
    expect(res.status).toBe(200);
  });
});

describe('the public preview, per client address', () => {
  const terms = {
    principal: '10000.00',
    annual_rate_percent: '12',
    periodicity: 'monthly',
    term_periods: 12,
    method: 'annuity',
    disbursement_date: '2025-01-31',
  };
  const preview = (app: Express, from: string) =>
    request(app).post('/v1/schedules/preview').set('X-Forwarded-For', from).send(terms);

  it('serves 3 previews an address in the window, refuses the 4th, serves other addresses, and serves again after the window', async () => {
    const app = await appWith(limits({ previewRequestsPerAddress: 3, previewWindowSeconds: 3 }));
    const served = [
      await preview(app, '192.0.2.1'),
      await preview(app, '192.0.2.1'),
      await preview(app, '192.0.2.1'),
    ];
    expect(served.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(served.map((res) => res.headers.ratelimit)).toEqual(
      [2, 1, 0].map((r) =>
        expect.stringMatching(new RegExp(`^"preview-per-address";r=${r};t=[123]$`)),
      ),
    );
    expect(served[0]!.headers['ratelimit-policy']).toBe('"preview-per-address";q=3;w=3');

    const retryAfter = expectRefused(
      await preview(app, '192.0.2.1'),
      'preview-per-address',
      3,
      3,
      'post',
      '/v1/schedules/preview',
    );
    expect((await preview(app, '192.0.2.2')).status).toBe(200);
    await pause(retryAfter);
    expect((await preview(app, '192.0.2.1')).status).toBe(200);
  });
});

describe('the counters in Redis', () => {
  it('two API processes share the count: each learns of a block at the latest from its own next failure', async () => {
    const settings = limits({ authFailuresPerAddress: 4, authFailureWindowSeconds: 30 });
    const [one, two] = [
      await appWith(settings, shared.redis),
      await appWith(settings, shared.redis),
    ];
    const from = '203.0.113.20';
    for (const app of [one, one, two, two])
      expect((await listFunds(app, from, `Bearer ${wrongKey()}`)).status).toBe(401);
    // `two` saw the count reach the quota and refuses from memory; `one` learns it from Redis with this failure.
    expectRefused(await listFunds(two, from), 'auth-failures-per-address', 4, 30);
    expect((await listFunds(one, from, `Bearer ${wrongKey()}`)).status).toBe(429);
    expectRefused(await listFunds(one, from), 'auth-failures-per-address', 4, 30);
  });

  it('a successful authentication sends Redis nothing; a failure is counted there', async () => {
    const app = await appWith(limits({}), shared.redis);
    const sent = jest.spyOn(shared.redis, 'sendCommand');
    try {
      for (let i = 0; i < 3; i += 1)
        expect((await listFunds(app, '203.0.113.30', `Bearer ${ADMIN_KEY}`)).status).toBe(200);
      expect(sent).not.toHaveBeenCalled();
      expect((await listFunds(app, '203.0.113.30', `Bearer ${wrongKey()}`)).status).toBe(401);
      expect(sent).toHaveBeenCalled();
    } finally {
      sent.mockRestore();
    }
  });

  it('while Redis does not answer, each process limits in memory: no 500, no wait', async () => {
    const down = connectRedisForProducers('redis://127.0.0.1:1'); // nothing listens on port 1
    await expect(down.ready).rejects.toThrow();
    try {
      const app = await appWith(
        limits({ authFailuresPerAddress: 3, authFailureWindowSeconds: 30 }),
        down.redis,
      );
      const started = Date.now();
      for (let i = 0; i < 3; i += 1)
        expect((await listFunds(app, '203.0.113.40', `Bearer ${wrongKey()}`)).status).toBe(401);
      expectRefused(
        await listFunds(app, '203.0.113.40', `Bearer ${wrongKey()}`),
        'auth-failures-per-address',
        3,
        30,
      );
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      down.redis.disconnect();
    }
  });
});

describe('TRUST_PROXY', () => {
  it('is off by default, takes a hop count or Express\'s list of addresses, and refuses "true"', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe(
      'loopback, 10.0.0.0/8',
    );
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
  });
});
