import { isIPv6 } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '../domain/errors';

/** The limits (src/config.ts reads them from the environment). */
export interface RateLimitSettings {
  /** Failed authentications allowed per client address, and per key prefix, in each window. */
  readonly authFailuresPerAddress: number;
  readonly authFailuresPerKeyPrefix: number;
  readonly authFailureWindowSeconds: number;
  /** Requests to the public preview allowed per client address in each window. */
  readonly previewRequestsPerAddress: number;
  readonly previewWindowSeconds: number;
  /** The counters' Redis keys begin with it, so that two deployments sharing one Redis keep them apart. */
  readonly redisKeyPrefix: string;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = Object.freeze({
  authFailuresPerAddress: 20,
  authFailuresPerKeyPrefix: 50,
  authFailureWindowSeconds: 900,
  previewRequestsPerAddress: 120,
  previewWindowSeconds: 60,
  redisKeyPrefix: 'rate-limit',
});

/** One limit, as the RateLimit-Policy field names it: `quota` events per `window` seconds. */
interface Policy {
  readonly name: string;
  readonly quota: number;
  readonly window: number;
  /** The problem's detail when the limit refuses a request. */
  readonly refusal: string;
}

/** What is left of a key's quota, and in how long more is given. */
interface QuotaState {
  readonly policy: Policy;
  readonly remaining: number;
  readonly resetMs: number;
}

/**
 * One limit's counters. A key that used up its quota is remembered in this process until its window
 * ends, so that `blockedFor` answers from memory: no Redis call before a key is looked up. (The
 * library's own in-memory block is read only inside `consume()`, which counts, its `get()` asks
 * Redis, and neither sees what the insurance limiter counted while Redis was down.)
 */
export interface Limiter {
  readonly policy: Policy;
  /** Milliseconds before `key` may try again, as this process knows it (0: it may now). */
  blockedFor(key: string): number;
  /** Counts one event for `key`: in Redis when there is one and it answers, else in this process. */
  count(key: string): Promise<QuotaState & { readonly exceeded: boolean }>;
}

function limiter(policy: Policy, redis: { client: Redis; keyPrefix: string } | undefined): Limiter {
  const options = { keyPrefix: policy.name, points: policy.quota, duration: policy.window };
  const memory = new RateLimiterMemory(options);
  // While Redis is down, or answers too slowly (the connection's command timeout), the limit holds in
  // each process's memory: the library's insurance limiter, with the same quota and window.
  const counter = redis
    ? new RateLimiterRedis({
        ...options,
        keyPrefix: `${redis.keyPrefix}:${policy.name}`,
        storeClient: redis.client,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      })
    : memory;
  const blockedUntil = new Map<string, number>();
  const blockedFor = (key: string) => Math.max((blockedUntil.get(key) ?? 0) - Date.now(), 0);
  return {
    policy,
    blockedFor,
    count: async (key) => {
      // The library rejects with the counter's state when the quota is exceeded.
      const counted = await counter.consume(key).catch((rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) return rejection;
        throw rejection;
      });
      const remaining = Math.max(policy.quota - counted.consumedPoints, 0);
      if (remaining === 0) {
        blockedUntil.set(key, Date.now() + counted.msBeforeNext);
        if (blockedUntil.size > 1000)
          for (const [other] of blockedUntil)
            if (blockedFor(other) === 0) blockedUntil.delete(other);
      }
      return {
        policy,
        remaining,
        resetMs: counted.msBeforeNext,
        exceeded: counted.consumedPoints > policy.quota,
      };
    },
  };
}

export interface RateLimiters {
  readonly authFailuresPerAddress: Limiter;
  readonly authFailuresPerKeyPrefix: Limiter;
  readonly previewPerAddress: Limiter;
}

/** The app's limiters: their counters in Redis when given one (shared by every API process), else in memory. */
export function rateLimiters(settings: RateLimitSettings, redis?: Redis): RateLimiters {
  const store = redis ? { client: redis, keyPrefix: settings.redisKeyPrefix } : undefined;
  const authWindow = settings.authFailureWindowSeconds;
  return {
    authFailuresPerAddress: limiter(
      {
        name: 'auth-failures-per-address',
        quota: settings.authFailuresPerAddress,
        window: authWindow,
        refusal: 'Too many failed authentications from this address',
      },
      store,
    ),
    authFailuresPerKeyPrefix: limiter(
      {
        name: 'auth-failures-per-key-prefix',
        quota: settings.authFailuresPerKeyPrefix,
        window: authWindow,
        refusal: 'Too many failed authentications with keys beginning like this one',
      },
      store,
    ),
    previewPerAddress: limiter(
      {
        name: 'preview-per-address',
        quota: settings.previewRequestsPerAddress,
        window: settings.previewWindowSeconds,
        refusal: 'Too many previews from this address',
      },
      store,
    ),
  };
}

/** A limiter and the key it counts this request under. */
export interface Counted {
  readonly limiter: Limiter;
  readonly key: string;
}

const seconds = (ms: number) => Math.max(Math.ceil(ms / 1000), 0);

/**
 * The RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers-10 (September
 * 2025): Structured Field lists of a quoted policy name with parameters, q (quota) and w (window, s);
 * r (remaining) and t (seconds until more quota), e.g. `"auth-failures-per-address";r=0;t=37`.
 */
function setRateLimitFields(res: Response, states: readonly QuotaState[]): void {
  res.setHeader(
    'RateLimit-Policy',
    states.map(({ policy }) => `"${policy.name}";q=${policy.quota};w=${policy.window}`).join(', '),
  );
  res.setHeader(
    'RateLimit',
    states
      .map(
        ({ policy, remaining, resetMs }) => `"${policy.name}";r=${remaining};t=${seconds(resetMs)}`,
      )
      .join(', '),
  );
}

function refuse(res: Response, states: readonly QuotaState[]): never {
  setRateLimitFields(res, states);
  const retryAfter = Math.max(...states.map(({ resetMs }) => seconds(resetMs)));
  res.setHeader('Retry-After', String(retryAfter));
  throw new DomainError(
    'too_many_requests',
    `${states[0]!.policy.refusal}: retry in ${retryAfter} s.`,
  );
}

/** 429 when any of these keys used up its quota, from this process's memory alone (no Redis call). */
export function refuseIfBlocked(res: Response, counted: readonly Counted[]): void {
  const blocked = counted
    .map(({ limiter, key }) => ({
      policy: limiter.policy,
      remaining: 0,
      resetMs: limiter.blockedFor(key),
    }))
    .filter(({ resetMs }) => resetMs > 0);
  if (blocked.length > 0) refuse(res, blocked);
}

/** Counts this request against each key: 429 once a quota is exceeded, else the fields say what is left. */
export async function countAgainstQuotas(
  res: Response,
  counted: readonly Counted[],
): Promise<void> {
  const states = await Promise.all(counted.map(({ limiter, key }) => limiter.count(key)));
  const exceeded = states.filter((state) => state.exceeded);
  if (exceeded.length > 0) refuse(res, exceeded);
  setRateLimitFields(res, states);
}

/**
 * The client's address: the peer's, or, behind proxies that TRUST_PROXY names, the one they
 * forwarded. An IPv6 client is counted by its /64, the block a single host or site is given: one
 * counter per address would let it rotate through 2^64 of them.
 */
export function clientAddress(req: Request): string {
  const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  return isIPv6(address) && !/^::ffff:\d/i.test(address) ? ipv6Network64(address) : address;
}

/** "2001:db8:0:1:a:b:c:d" or "2001:db8::1%eth0" → "2001:db8:0:1::/64". */
export function ipv6Network64(address: string): string {
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  const groups = (part: string | undefined) =>
    part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : [];
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const full = [
    ...left,
    ...Array<string>(Math.max(8 - left.length - right.length, 0)).fill('0'),
    ...right,
  ];
  return `${full
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Every request to the route counts against its client address's quota. */
export function limitPerAddress(limiter: Limiter): RequestHandler {
  return async (req, res, next) => {
    const counted = [{ limiter, key: clientAddress(req) }];
    refuseIfBlocked(res, counted);
    await countAgainstQuotas(res, counted);
    next();
  };
}
